"""How far plates read when shrunk the way a camera does (area averaging) or by a sampling warp (aliased).

    python bench/far_plates.py [--weights weights/ocr_latin.pth] [--ensemble W ...] [--split val|holdout] [--json OUT]

Each real US crop of a split (`configs/splits/real_crops_val.csv` by default, the validation crops) is shrunk to
40, 50, 60, 80 and 120 px wide, keeping its aspect, either by `cv2.warpPerspective` (one sample per output pixel,
what `detection/scenes.py` did before it shrank by area averaging first) or by `cv2.resize(..., INTER_AREA)`,
and read by the recognizer. Prints sequence accuracy per width and method. Needs `../shared/data`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import cv2
import numpy as np
from crop_probe import parser, recognizer, seq_acc, split_set, write_json


WIDTHS = (40, 50, 60, 80, 120)


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
    args = parser(__doc__).parse_args()
    crops, texts = split_set(args.split, ("us_crops",))
    rec = recognizer(args, device="cpu")
    result: dict[str, dict[str, float]] = {}
    print(f"{len(crops)} US crops ({args.split}), {rec.source}")
    print(f"{'width':>6} {'warp (aliased)':>15} {'area averaged':>14}")
    for width in WIDTHS:
        acc = {method: seq_acc(rec, [shrink(c, width, method) for c in crops], texts) for method in ("warp", "area")}
        result[str(width)] = acc
        print(f"{width:>4}px {acc['warp']:>14.1%} {acc['area']:>14.1%}")
    write_json(args, rec, len(crops), "by_width", result)
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
