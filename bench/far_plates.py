"""How far plates read when shrunk the way a camera does (area averaging) or by a sampling warp (aliased).

    python bench/far_plates.py [--weights weights/ocr_latin.pth] [--split val|holdout] [--json OUT]

Each real US crop of a split (`configs/splits/real_crops_val.csv` by default, the validation crops) is shrunk to
40, 50, 60, 80 and 120 px wide, keeping its aspect, either by `cv2.warpPerspective` (one sample per output pixel,
what `detection/scenes.py` did before it shrank by area averaging first) or by `cv2.resize(..., INTER_AREA)`,
and read by the recognizer. Prints sequence accuracy per width and method. Needs `../shared/data`.
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

WIDTHS = (40, 50, 60, 80, 120)
SPLITS = {"val": Path("configs/splits/real_crops_val.csv"), "holdout": Path("configs/splits/real_crops_holdout.csv")}


def shrink(img: np.ndarray, width: int, method: str) -> np.ndarray:
    """`img` at `width` px wide: `warp` samples it (aliasing), `area` averages it."""
    h0, w0 = img.shape[:2]
    w, h = width, max(2, round(h0 * width / w0))
    if method == "area":
        return cv2.resize(img, (w, h), interpolation=cv2.INTER_AREA)
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w0, 0], [w0, h0], [0, h0]]),
                                    np.float32([[0, 0], [w, 0], [w, h], [0, h]]))
    return cv2.warpPerspective(img, m, (w, h), flags=cv2.INTER_AREA)  # a warp has no area mode: bilinear samples


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/ocr_latin.pth")
    ap.add_argument("--split", choices=sorted(SPLITS), default="val")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    crops, texts = zip(*split_crops([Path("../shared/data/us_crops")], SPLITS[args.split]))
    rec = Recognizer.from_checkpoint(args.weights, device="cpu")
    result: dict[str, dict[str, float]] = {}
    print(f"{len(crops)} US crops ({args.split}), {rec.source}")
    print(f"{'width':>6} {'warp (aliased)':>15} {'area averaged':>14}")
    for width in WIDTHS:
        acc = {}
        for method in ("warp", "area"):
            reads = rec([shrink(c, width, method) for c in crops])
            acc[method] = float(np.mean([r.text == t for r, t in zip(reads, texts)]))
        result[str(width)] = acc
        print(f"{width:>4}px {acc['warp']:>14.1%} {acc['area']:>14.1%}")
    if args.json:
        args.json.write_text(json.dumps({"n": len(crops), "split": args.split, "weights": args.weights,
                                         "source": rec.source, "by_width": result}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
