"""Would smoothing a hard-compressed plate before reading it read more? End to end on a labelled still set.

    python bench/dim_stills.py --labels data_gen/scenes_val/labels.csv --out data_gen/scenes_val_q20 --gain 1 \
        --quality 20
    python bench/deblock.py --labels data_gen/scenes_val_q20/labels.csv --filter gauss:0.8 [--json OUT] [key=value ...]

Every crop the pipeline cuts (`pipeline.crops.cut_plate`) is filtered before it is read: `none`, `gauss:SIGMA` (a
Gaussian blur), `area:F` (down to F of its size and back: JPEG's 8-px block edges averaged away), `bilateral:D`
(edges kept, flat areas smoothed) or `nlm` (OpenCV's non-local means). Then `python -m pipeline.evaluate` as usual,
its JSON printed (bench/results/ocr_deblock_q20_val.txt).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
from typing import Callable

import cv2
import numpy as np

import pipeline.crops
from common.errors import UserError


def smoother(spec: str) -> Callable[[np.ndarray], np.ndarray]:
    """The filter `spec` names (see the module's docstring)."""
    kind, _, arg = spec.partition(":")
    try:
        v = float(arg) if arg else 0.0
    except ValueError:
        raise UserError(f"--filter {spec}: {arg!r} is not a number") from None
    if kind == "none":
        return lambda c: c
    if kind == "gauss" and v > 0:
        return lambda c: cv2.GaussianBlur(c, (0, 0), v)
    if kind == "area" and 0 < v < 1:
        def area(c: np.ndarray) -> np.ndarray:
            h, w = c.shape[:2]
            small = cv2.resize(c, (max(2, round(w * v)), max(2, round(h * v))), interpolation=cv2.INTER_AREA)
            return cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
        return area
    if kind == "bilateral" and v >= 1:
        return lambda c: cv2.bilateralFilter(c, int(v), 40, 5)
    if kind == "nlm":
        return lambda c: cv2.fastNlMeansDenoisingColored(c, None, 7, 7, 5, 11)
    raise UserError(f"--filter {spec}: expected none, gauss:SIGMA, area:F (0-1), bilateral:D or nlm")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--filter", default="none")
    ap.add_argument("--json")
    ap.add_argument("overrides", nargs="*")
    args = ap.parse_args()
    filt, cut = smoother(args.filter), pipeline.crops.cut_plate
    pipeline.crops.cut_plate = lambda *a, **k: filt(cut(*a, **k))  # CropSpec.cut looks it up in its module
    from pipeline.evaluate import main as evaluate

    return evaluate(["--labels", args.labels, *(["--json", args.json] if args.json else []), *args.overrides])


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))
