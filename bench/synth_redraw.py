"""What a change to the synthetic plate generator does to a model's reads: two draws of the same plates (one seed, the
generator before and after the change), the images the change re-drew found pixel by pixel, and each set of
predictions compared on those images and on the rest.

    git worktree add /tmp/before REV && (cd /tmp/before && python ocr/synth.py --out /tmp/A --n 1000 \\
        --mix us=0.5,ar_old=0.5 --seed 31)                                         # the generator before the change
    python ocr/synth.py --out /tmp/B --n 1000 --mix us=0.5,ar_old=0.5 --seed 31      # after it
    python ocr/evaluate.py --weights W --data /tmp/A --predictions A.csv             # (and B into B.csv)
    python bench/synth_redraw.py --before /tmp/A --after /tmp/B --pred-before A.csv --pred-after B.csv

A change that keeps the generator's random draws in step re-draws only the plates it touches, with the same texts;
the plates it did not touch read alike in both, so the difference on the re-drawn ones is the change's own.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json

import cv2
import numpy as np

from common.errors import UserError
from common.paths import read_csv


def _rows(path: Path) -> dict[str, str]:
    """image -> plate_text (a labels.csv) or image -> pred (a predictions CSV)."""
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    rows = list(read_csv(path, "a labels.csv or an ocr/evaluate.py --predictions file"))
    key = "pred" if rows and "pred" in rows[0] else "plate_text"
    return {r["image"]: r[key] for r in rows}


def redrawn(before: Path, after: Path, labels: dict[str, str]) -> list[str]:
    """The images of `before` (its `labels`) whose pixels differ in `after` (the two drawn from one seed, with the
    same texts)."""
    if _rows(after / "labels.csv") != labels:
        raise UserError(f"{before} and {after} hold other plates: draw both from one seed and count")
    changed = []
    for name in labels:
        x, y = (cv2.imread(str(d / "images" / name)) for d in (before, after))
        if x is None or y is None:
            raise UserError(f"{name}: unreadable in {before if x is None else after}")
        if x.shape != y.shape or not np.array_equal(x, y):
            changed.append(name)
    return changed


def compare(labels: dict[str, str], changed: list[str], pred_before: dict[str, str],
            pred_after: dict[str, str]) -> dict[str, int]:
    """Plates read right before and after on the re-drawn images (gained, lost), and on the rest."""
    ok_b = {n: pred_before.get(n) == t for n, t in labels.items()}
    ok_a = {n: pred_after.get(n) == t for n, t in labels.items()}
    redrawn_names = set(changed)
    rest = [n for n in labels if n not in redrawn_names]
    return {"redrawn": len(changed), "read_before": sum(ok_b[n] for n in changed),
            "read_after": sum(ok_a[n] for n in changed), "gained": sum(ok_a[n] and not ok_b[n] for n in changed),
            "lost": sum(ok_b[n] and not ok_a[n] for n in changed), "rest": len(rest),
            "rest_read_before": sum(ok_b[n] for n in rest), "rest_read_after": sum(ok_a[n] for n in rest)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True, help="the set drawn before the change")
    ap.add_argument("--after", type=Path, required=True, help="the same seed and count drawn after it")
    ap.add_argument("--pred-before", type=Path, required=True, help="ocr/evaluate.py --predictions on --before")
    ap.add_argument("--pred-after", type=Path, required=True, help="...and on --after")
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    labels = _rows(a.before / "labels.csv")
    r = compare(labels, redrawn(a.before, a.after, labels), _rows(a.pred_before), _rows(a.pred_after))
    print(f"{r['redrawn']} of {len(labels)} plates re-drawn: read {r['read_before']} before, {r['read_after']} after "
          f"({r['gained']} gained, {r['lost']} lost); the other {r['rest']}: {r['rest_read_before']} and "
          f"{r['rest_read_after']}")
    if a.json:
        a.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
