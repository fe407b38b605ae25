"""A warm-started latin run's validation curve beside the from-scratch run's (weights/runs/ocr_latin_rule files).

    python bench/warmup_compare.py runs/ocr_latin_warm1/logs/training_history.json [--lead 3] [--out FILE]

Per epoch (8,000 recipe samples each): the run's validation sequence accuracy, the from-scratch run's at the same
epoch, and at `--lead` epochs later (the warm-up's wall time in the from-scratch run's epochs: equal time), then the
rule of weights/runs/ocr_latin_warm1_rule.txt: >= 60 % by epoch 15, and from epoch 10 on never below the
from-scratch run `--lead` epochs later.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from common.cli import run_main  # noqa: E402
from common.errors import UserError  # noqa: E402

SCRATCH = ROOT / "weights" / "runs" / "ocr_latin_scratch2_history.json"


def seq_acc(path: Path) -> list[float]:
    """The per-epoch validation sequence accuracies (%) of a training history."""
    if not path.is_file():
        raise UserError(f"no training history {path}")
    return [100 * float(a) for a in json.loads(path.read_text())["val_seq_acc"]]


def compare(run: list[float], scratch: list[float], lead: int) -> tuple[list[str], bool]:
    """The table's lines and whether the rule holds (it cannot before the run has 15 epochs)."""
    lines = [f"{'epoch':>5} {'samples':>8} {'warm':>7} {'scratch':>8} {f'scratch+{lead}':>10}"]
    ok = len(run) >= 15 and run[14] >= 60.0
    for e, a in enumerate(run, 1):
        same = scratch[e - 1] if e <= len(scratch) else float("nan")
        later = scratch[e - 1 + lead] if e + lead <= len(scratch) else float("nan")
        lines.append(f"{e:5d} {e * 8000:8d} {a:7.2f} {same:8.2f} {later:10.2f}")
        if e >= 10 and a < later:
            ok = False
    return lines, ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("history", type=Path)
    ap.add_argument("--lead", type=int, default=3, help="the warm-up's time in the from-scratch run's epochs")
    ap.add_argument("--out", type=Path, help="also write the table here")
    a = ap.parse_args(argv)

    def work() -> None:
        lines, ok = compare(seq_acc(a.history), seq_acc(SCRATCH), a.lead)
        lines.append(f"rule (>= 60 % by epoch 15; from epoch 10 never below scratch {a.lead} epochs later): "
                     f"{'holds' if ok else 'does not hold'}")
        text = "\n".join(lines) + "\n"
        print(text, end="")
        if a.out:
            a.out.write_text(text)

    return run_main(work)


if __name__ == "__main__":
    raise SystemExit(main())
