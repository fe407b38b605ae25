"""Two models' lines of `bash bench/ocr_sets.sh val` as plates read, set by set, and a replacement rule checked.

    python bench/ocr_sets_diff.py RESULTS.txt PARENT CANDIDATE [--min-gain 5] [--max-loss 2]

RESULTS.txt holds the lines `ocr_sets.sh val` (or `fresh`) printed (`NAME us 96.61 | ar 91.67 | ... | clip 46 of
50`). Each percentage becomes plates read with the number of plates with text in the validation sets `bash
bench/make_sets.sh val` (or `fresh`) draws (seeded, so the same on every machine); the clip line gives its own
count. The rule the model rules in
`weights/runs/*_rule.txt` use: the candidate replaces the parent only if the real ordinary sets together (crops,
scenes, close-ups, their greyscale twins, the clip; not the synthetic two-row set nor the smeared scenes) read at
least `--min-gain` plates more, and no set loses more than `--max-loss`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import re

from common.errors import UserError

# Plates with text in each validation set (the clip line carries its own count).
VAL_PLATES = {"us": 59, "ar": 12, "2row": 100, "scenes_val": 397, "scenes_close_val": 113,
              "scenes_val_u_gray": 381, "scenes_close_val_u_gray": 110, "scenes_val_m5": 397, "scenes_val_m9": 397,
              # `bash bench/ocr_sets.sh fresh`: the validation scenes drawn again (bash bench/make_sets.sh fresh)
              "scenes_val_f": 764, "scenes_close_val_f": 213, "scenes_val_f_gray": 765, "scenes_close_val_f_gray": 224}
REAL_ORDINARY = ("us", "ar", "scenes_val", "scenes_close_val", "scenes_val_u_gray", "scenes_close_val_u_gray", "clip",
                 "scenes_val_f", "scenes_close_val_f", "scenes_val_f_gray", "scenes_close_val_f_gray")


def plates_read(line: str) -> dict[str, int]:
    """One `ocr_sets.sh val` (or `fresh`) line (without its name) as plates read per set."""
    out: dict[str, int] = {}
    for field in (f.strip() for f in line.split("|")):
        if clip := re.fullmatch(r"clip (\d+) of \d+", field):
            out["clip"] = int(clip.group(1))
            continue
        m = re.fullmatch(r"(\S+) (\d+(?:\.\d+)?)", field)
        if m is None:
            raise UserError(f"not a field of bench/ocr_sets.sh val: '{field}'")
        if m.group(1) not in VAL_PLATES:
            raise UserError(f"unknown validation set '{m.group(1)}' (known: {', '.join(VAL_PLATES)})")
        out[m.group(1)] = round(float(m.group(2)) * VAL_PLATES[m.group(1)] / 100)
    return out


def read_lines(path: Path, names: list[str]) -> list[dict[str, int]]:
    """The named models' lines of a results file, as plates read per set."""
    if not path.is_file():
        raise FileNotFoundError(f"no results file {path}")
    found = {}
    for raw in path.read_text().splitlines():
        name, _, rest = raw.partition(" ")
        if name in names and not raw.startswith("#"):
            found[name] = plates_read(rest)
    missing = [n for n in names if n not in found]
    if missing:
        raise UserError(f"{path}: no line for {', '.join(missing)}")
    return [found[n] for n in names]


def compare(parent: dict[str, int], cand: dict[str, int], min_gain: int, max_loss: int) -> tuple[list[str], bool]:
    """The table's lines and whether the candidate passes the rule."""
    sets = [s for s in parent if s in cand]
    lines = [f"{s:<28}{parent[s]:>5}{cand[s]:>5} {cand[s] - parent[s]:+d}" for s in sets]
    total_p = sum(parent[s] for s in REAL_ORDINARY if s in sets)
    total_c = sum(cand[s] for s in REAL_ORDINARY if s in sets)
    worst = min(cand[s] - parent[s] for s in sets)
    gain_ok, loss_ok = total_c - total_p >= min_gain, worst >= -max_loss
    lines += [f"real ordinary total {total_p} {total_c} {total_c - total_p:+d}", f"worst set {worst:+d}",
              f"rule: (1) real ordinary {total_c - total_p:+d} (at least +{min_gain}): {'passes' if gain_ok else 'fails'}; "
              f"(2) worst set {worst:+d} (at most -{max_loss}): {'passes' if loss_ok else 'fails'}"]
    return lines, gain_ok and loss_ok


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("results", type=Path)
    ap.add_argument("parent")
    ap.add_argument("candidate")
    ap.add_argument("--min-gain", type=int, default=5)
    ap.add_argument("--max-loss", type=int, default=2)
    args = ap.parse_args()
    parent, cand = read_lines(args.results, [args.parent, args.candidate])
    lines, ok = compare(parent, cand, args.min_gain, args.max_loss)
    print(f"# plates read: {args.parent}, {args.candidate}, difference")
    print("\n".join(lines))
    # not led by a model's name, so the output can be appended to RESULTS.txt and the command re-run on it
    print(f"so: {args.candidate} {'replaces' if ok else 'does not replace'} {args.parent}")
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
