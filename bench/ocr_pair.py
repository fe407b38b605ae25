"""Would two OCR models read more together? Their end-to-end reads of one labelled still set, compared.

    python -m pipeline.evaluate --labels L --predictions A.jsonl                      # the default OCR
    python -m pipeline.evaluate --labels L --predictions B.jsonl ocr_weights=OTHER    # the other one
    python bench/ocr_pair.py --labels L A.jsonl B.jsonl [--json OUT]

For each plate with text it takes each model's read whose box overlaps the plate most (at IoU >= 0.4; right when
that read has the plate's text, where `pipeline.evaluate` accepts any overlapping read) and prints the share each
model reads, the share read by the more confident of the two reads (a max-confidence ensemble), and the share read
by either (an oracle: the most any way of combining the two could read).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json

import numpy as np

from detection.dataset import read_box_labels
from detection.metrics import iou_matrix


def best_read(reads: list[dict], box: list[float]) -> dict | None:
    """The read whose box overlaps `box` most, if at IoU >= 0.4."""
    if not reads:
        return None
    ious = iou_matrix(np.array([box], np.float64), np.array([r["box"] for r in reads], np.float64))[0]
    j = int(np.argmax(ious))
    return reads[j] if ious[j] >= 0.4 else None


def compare(labels: Path, a: Path, b: Path) -> dict[str, float]:
    preds = [{j["image"]: j["reads"] for j in map(json.loads, p.read_text().splitlines())} for p in (a, b)]
    n = read_a = read_b = ensemble = either = 0
    for name, boxes in read_box_labels(labels).items():
        for gt in (x for x in boxes if x.text):
            box = [gt.x1, gt.y1, gt.x2, gt.y2]
            ra, rb = (best_read(p.get(name, []), box) for p in preds)
            ok_a, ok_b = (r is not None and r["text"] == gt.text for r in (ra, rb))
            pick = max((r for r in (ra, rb) if r is not None), key=lambda r: r["conf"], default=None)
            n += 1
            read_a += ok_a
            read_b += ok_b
            either += ok_a or ok_b
            ensemble += pick is not None and pick["text"] == gt.text
    d = max(n, 1)
    return {"n": n, "a": read_a / d, "b": read_b / d, "max_confidence": ensemble / d, "either": either / d}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", type=Path, required=True)
    ap.add_argument("a", type=Path)
    ap.add_argument("b", type=Path)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    r = compare(args.labels, args.a, args.b)
    print(f"{r['n']} plates with text: A {r['a'] * 100:.2f} %, B {r['b'] * 100:.2f} %, the more confident read "
          f"{r['max_confidence'] * 100:.2f} %, either {r['either'] * 100:.2f} %")
    if args.json:
        args.json.write_text(json.dumps(r, indent=2))
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
