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

import cv2
import numpy as np

from ocr.alphabet import Codec
from ocr.data import SourceDataset, load_crop
from ocr.metrics import summarize
from ocr.recognizer import Recognizer

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
    lo, hi = np.percentile(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY), [1, 99])
    if hi - lo < 8 or (mode.startswith("low") and hi - lo >= float(mode[3:])):
        return crop
    return np.clip((crop.astype(np.float32) - lo) * (255.0 / (hi - lo)), 0, 255).astype(np.uint8)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/ocr_latin.pth")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rec = Recognizer.from_checkpoint(args.weights)
    sets = {}
    for name in ("us", "ar"):
        src = SourceDataset({"path": str(DATA / f"{name}_crops"), "split_file": str(SPLIT), "split": "holdout"},
                            Codec(rec.cfg.alphabet))
        sets[name] = ([load_crop(s) for s in src.samples], [s.text for s in src.samples])
    out = {}
    for mode in MODES:
        row = {}
        for name, (crops, gts) in sets.items():
            m = summarize(gts, [r.text for r in rec([stretch(c, mode) for c in crops])])
            row[name] = {"n": m["n"], "seq_acc": m["seq_acc"], "seq_acc_o0": m["seq_acc_o0"]}
        out[mode] = row
        print(f"{mode:7s} " + " | ".join(f"{k} {v['seq_acc'] * 100:.2f} / {v['seq_acc_o0'] * 100:.2f} % (n {v['n']})"
                                         for k, v in row.items()))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
