"""A second OCR model only for the crops the first reads unsurely: how much of the pair's gain, at what cost?

    python bench/ocr_cascade.py --weights weights/ocr_latin.pth --second B.pth --data ../shared/data/us_crops \
        --split-file configs/splits/real_crops_val.csv --split holdout [--data ...] [--below 0.5,0.9] [--json OUT]

Each crop (a crop set, or a labelled still set's plates cut at their boxes) is read by both models, each through its
int8 export as the pipeline runs them on the CPU. Printed per set, in plates read (US crops O/0-folded): the first
model alone, the pair (`ocr.ensemble`: the read with the highest CTC log-likelihood summed over both models), and for
each threshold the cascade, which keeps the first model's read where its confidence is at least the threshold and
the pair's read below it, with the share of crops that the second model then reads. The pipeline's option:
`ocr_ensemble=[B.pth] ocr_ensemble_below=T`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json

import numpy as np

from common.cli import numbers
from ocr.data import SourceDataset, load_crop
from ocr.ensemble import EnsembleRecognizer
from ocr.process import fold_o0
from ocr.recognizer import Recognizer

BELOW = "0.3,0.5,0.7,0.8,0.9,0.95,0.98,1.01"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--second", required=True)
    ap.add_argument("--data", required=True, action="append")
    ap.add_argument("--split-file")
    ap.add_argument("--split", default="all")
    ap.add_argument("--below", default=BELOW, type=numbers(),
                    help="thresholds on the first model's confidence, comma-separated")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    thresholds = args.below
    first, second = (Recognizer.from_checkpoint(w, "cpu", "onnx", "greedy", precision="int8")
                     for w in (args.weights, args.second))
    pair = EnsembleRecognizer([first, second])
    res = {}
    for data in args.data:
        spec = {"path": data, "split": args.split, **({"split_file": args.split_file} if args.split_file else {})}
        fold = fold_o0 if "us_crops" in data else (lambda s: s)
        samples = SourceDataset(spec, None).samples
        crops = [load_crop(s) for s in samples]
        truth = [fold(s.text) for s in samples]
        one = first(crops)
        both = pair(crops)
        conf = np.array([r.confidence for r in one])
        ok_one = np.array([fold(r.text) == t for r, t in zip(one, truth)])
        ok_pair = np.array([fold(r.text) == t for r, t in zip(both, truth)])
        row = {"n": len(crops), "first": int(ok_one.sum()), "pair": int(ok_pair.sum()), "cascade": {}}
        for t in thresholds:
            low = conf < t
            row["cascade"][f"{t:g}"] = {"read": int(np.where(low, ok_pair, ok_one).sum()),
                                        "second_share": round(float(low.mean()), 4)}
        res[data] = row
        print(f"{data} ({row['n']}): first {row['first']} | pair {row['pair']} | cascade "
              + " | ".join(f"<{k}: {v['read']} ({v['second_share']:.0%})" for k, v in row["cascade"].items()))
    if args.json:
        args.json.write_text(json.dumps({"weights": args.weights, "second": args.second, "sets": res}, indent=2))
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
