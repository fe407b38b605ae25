"""How the real crops read when an interlaced camera films a moving plate.

    python bench/interlace.py [--weights weights/ocr_latin.pth] [--split val|holdout] [--json OUT]

Each real US and Argentinian crop of a split (`configs/splits/real_crops_val.csv` by default, the validation crops)
has its odd rows moved along the rows by 1, 2, 3 and 4 % of its width against its even rows (`ocr.augment.comb`:
the two fields of an interlaced frame, exposed 1/50 s apart while the car moves), as it is (a comb) and blended as
a simple de-interlacer does (a ghost), and is read by the recognizer as the pipeline runs it
(`Recognizer.from_checkpoint`, on the CPU its int8 export). Prints sequence accuracy per shift. Needs
`../shared/data`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json

import cv2
import numpy as np

from ocr import Recognizer
from ocr.augment import comb
from ocr.data import split_crops

SHARES = (0.0, 0.01, 0.02, 0.03, 0.04)
SPLITS = {"val": Path("configs/splits/real_crops_val.csv"), "holdout": Path("configs/splits/real_crops_holdout.csv")}
BLEND = np.float32([[0.25], [0.5], [0.25]])


def fields_moved(img: np.ndarray, share: float, blend: bool) -> np.ndarray:
    """`img` with its odd rows moved `share` of its width, blended vertically if `blend`."""
    out = comb(img, img.shape[1] * share, 1)
    return cv2.filter2D(out, -1, BLEND, borderType=cv2.BORDER_REPLICATE) if blend else out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/ocr_latin.pth")
    ap.add_argument("--split", choices=sorted(SPLITS), default="val")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    folders = [Path("../shared/data") / d for d in ("us_crops", "ar_crops")]
    crops, texts = zip(*split_crops(folders, SPLITS[args.split]))
    rec = Recognizer.from_checkpoint(args.weights, backend="auto", precision="auto")  # as the pipeline runs it
    result: dict[str, dict[str, float]] = {"comb": {}, "blended": {}}
    print(f"{len(crops)} US and Argentinian crops ({args.split}), {rec.source} ({rec.precision})")
    for share in SHARES:
        for kind, blend in (("comb", False), ("blended", True)):
            reads = rec([fields_moved(c, share, blend) for c in crops])
            result[kind][f"{share:.2f}"] = float(np.mean([r.text == t for r, t in zip(reads, texts)]))
        print(f"fields {share:4.0%} of the width apart: comb {result['comb'][f'{share:.2f}']:6.1%}, "
              f"blended {result['blended'][f'{share:.2f}']:6.1%}")
    if args.json:
        args.json.write_text(json.dumps({"n": len(crops), "split": args.split, "weights": args.weights,
                                         "source": rec.source, "by_share": result}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
