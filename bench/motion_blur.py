"""How the real crops read when a passing car's motion smears them along the plate.

    python bench/motion_blur.py [--weights weights/ocr_latin.pth] [--ensemble W ...] [--split val|holdout] [--json OUT]

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

import cv2
import numpy as np
from crop_probe import parser, recognizer, seq_acc, split_set, write_json


SHARES = (0.0, 0.03, 0.06, 0.09, 0.12)


def smear(img: np.ndarray, share: float) -> np.ndarray:
    """`img` averaged along its rows over `share` of its width (itself below 2 px)."""
    k = round(img.shape[1] * share)
    if k < 2:
        return img
    out = cv2.filter2D(img.astype(np.float32), -1, np.full((1, k), 1.0 / k, np.float32))
    return np.clip(out, 0, 255).astype(np.uint8)


def main() -> int:
    args = parser(__doc__).parse_args()
    crops, texts = split_set(args.split)
    rec = recognizer(args, backend="auto", precision="auto")  # as the pipeline runs it
    result: dict[str, float] = {}
    print(f"{len(crops)} US and Argentinian crops ({args.split}), {rec.source} ({rec.precision})")
    for share in SHARES:
        result[f"{share:.2f}"] = seq_acc(rec, [smear(c, share) for c in crops], texts)
        print(f"smeared over {share:4.0%} of the width: {result[f'{share:.2f}']:6.1%}")
    write_json(args, rec, len(crops), "by_share", result)
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
