"""How the real crops read when a passing car's motion smears them along the plate.

    python bench/motion_blur.py [--weights weights/ocr_latin.pth] [--split val|holdout] [--json OUT]

Each real US and Argentinian crop of a split (`configs/splits/real_crops_val.csv` by default, the validation crops)
is smeared along its rows over 3, 6, 9 and 12 % of its width (a plate that moves that share of its width while the
shutter is open: at 50 km/h and 1/100 s a car moves 14 cm, a quarter of a European plate) and read by the
recognizer as the pipeline runs it (`Recognizer.from_checkpoint`, on the CPU its int8 export). Prints sequence
accuracy per smear. Needs `../shared/data`.
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
from ocr.data import split_crops

SHARES = (0.0, 0.03, 0.06, 0.09, 0.12)
SPLITS = {"val": Path("configs/splits/real_crops_val.csv"), "holdout": Path("configs/splits/real_crops_holdout.csv")}


def smear(img: np.ndarray, share: float) -> np.ndarray:
    """`img` averaged along its rows over `share` of its width (itself below 2 px)."""
    k = round(img.shape[1] * share)
    if k < 2:
        return img
    out = cv2.filter2D(img.astype(np.float32), -1, np.full((1, k), 1.0 / k, np.float32))
    return np.clip(out, 0, 255).astype(np.uint8)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/ocr_latin.pth")
    ap.add_argument("--split", choices=sorted(SPLITS), default="val")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    folders = [Path("../shared/data") / d for d in ("us_crops", "ar_crops")]
    crops, texts = zip(*split_crops(folders, SPLITS[args.split]))
    rec = Recognizer.from_checkpoint(args.weights, backend="auto", precision="auto")  # as the pipeline runs it
    result: dict[str, float] = {}
    print(f"{len(crops)} US and Argentinian crops ({args.split}), {rec.source} ({rec.precision})")
    for share in SHARES:
        reads = rec([smear(c, share) for c in crops])
        result[f"{share:.2f}"] = float(np.mean([r.text == t for r, t in zip(reads, texts)]))
        print(f"smeared over {share:4.0%} of the width: {result[f'{share:.2f}']:6.1%}")
    if args.json:
        args.json.write_text(json.dumps({"n": len(crops), "split": args.split, "weights": args.weights,
                                         "source": rec.source, "by_share": result}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
