"""Would a contrast stretch of each crop before the OCR read more? Validation crops read each way.

    python bench/ocr_contrast.py [--weights weights/ocr_latin.pth] [--json OUT]

Modes: `none`; `full` (1st-99th percentile of the crop's luminance stretched to 0-255); `low100` / `low60` (the
same, only for crops whose percentile range is under 100 / 60 grey levels); `clahe` (CLAHE on the lightness).
Sets: the US and Argentinian validation crops (`configs/splits/real_crops_val.csv`), exact and O/0-folded.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import math

import cv2
import numpy as np

from ocr.evaluate import run_eval
from ocr.recognizer import Recognizer
from pipeline.crops import stretch_contrast

MODES = ("none", "full", "low100", "low60", "clahe")
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
SPLIT = Path(__file__).resolve().parents[1] / "configs" / "splits" / "real_crops_val.csv"


def stretch(crop: np.ndarray, mode: str) -> np.ndarray:
    """`crop` (BGR) with its contrast stretched as `mode` says."""
    if mode == "none":
        return crop
    if mode == "clahe":
        lab = cv2.cvtColor(crop, cv2.COLOR_BGR2LAB)
        lab[..., 0] = cv2.createCLAHE(2.0, (2, 6)).apply(lab[..., 0])
        return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)
    return stretch_contrast(crop, float(mode[3:]) if mode.startswith("low") else math.inf)


class Stretched:
    """A recognizer that reads each crop after `stretch(crop, mode)` (what `run_eval` needs: `cfg` and a call)."""

    def __init__(self, recognizer: Recognizer, mode: str) -> None:
        self.recognizer, self.mode, self.cfg = recognizer, mode, recognizer.cfg

    def __call__(self, crops: list[np.ndarray]) -> list:
        return self.recognizer([stretch(c, self.mode) for c in crops])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/ocr_latin.pth")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rec = Recognizer.from_checkpoint(args.weights)
    out = {}
    for mode in MODES:
        row = {}
        for name in ("us", "ar"):
            m = run_eval(Stretched(rec, mode), DATA / f"{name}_crops", str(SPLIT), "holdout")
            row[name] = {"n": m["n"], "seq_acc": m["seq_acc"], "seq_acc_o0": m["seq_acc_o0"]}
        out[mode] = row
        print(f"{mode:7s} " + " | ".join(f"{k} {v['seq_acc'] * 100:.2f} / {v['seq_acc_o0'] * 100:.2f} % (n {v['n']})"
                                         for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
