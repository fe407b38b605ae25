"""How the OCR's int8 export is calibrated, compared on validation crops: each recipe's reads against fp32's.

    python bench/ocr_int8_calibration.py [--weights weights/ocr_latin.pth] [--json OUT]

Recipes: the activation ranges of the static int8 convolutions and head from min/max, the 99.99th or 99.999th
percentile, or entropy, calibrated on 256 synthetic plates alone or on 128 synthetic plates and 128 real training
crops (`us_crops`, `ar_crops` outside the held-out and validation splits); every recipe also has the int8 LSTM
weights that `ocr/export.py --int8` adds. Validation crops: the plates of `data_gen/scenes_val` cut out at the
pipeline's margin (its box, >= 20 px wide), the real validation split (`configs/splits/real_crops_val.csv`) and
`data_gen/two_row_val`. Prints sequence accuracy per set and the number of reads that differ from fp32's. Needs
`../shared/data` and the validation sets (commands in configs/ocr_latin.yaml).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import itertools
import json
import tempfile

import numpy as np

from common.quantize import quantize_static_int8
from detection.dataset import read_box_labels
from ocr import Recognizer
from ocr.accel import calibration_batches
from ocr.checkpoint import load_checkpoint, model_from_checkpoint
from ocr.data import load_crop, read_labels, split_crops
from ocr.export import calibration_crops, export_onnx, quantize_lstm
from ocr.process import dataset_image, read_bgr
from pipeline.crops import crop_box

D = Path("../shared/data")
SPLITS = [Path("configs/splits/real_crops_holdout.csv"), Path("configs/splits/real_crops_val.csv")]


def validation_crops() -> dict[str, list[tuple[np.ndarray, str]]]:
    """(crop, text) per validation set."""
    scenes = []
    labels = Path("data_gen/scenes_val/labels.csv")
    for name, boxes in read_box_labels(labels).items():
        img = read_bgr(dataset_image(labels, name))
        for b in boxes:
            if b.text and b.x2 - b.x1 >= 20:
                scenes.append((crop_box(img, np.array([b.x1, b.y1, b.x2, b.y2], np.float32), 0.06), b.text))
    real = split_crops([D / "us_crops", D / "ar_crops"], SPLITS[1])  # the images the validation split lists
    two_row = [(load_crop(s), s.text) for s in read_labels("data_gen/two_row_val")]
    return {"scenes": scenes, "real": real, "two_row": two_row}


def export(src: Path, out: Path, batches: list[np.ndarray], method: str, percentile: float) -> Path:
    """`src` in static int8 by one recipe, then its LSTM weights in int8 (as `ocr/export.py --int8`)."""
    return quantize_lstm(quantize_static_int8(src, out, batches, method=method, percentile=percentile), out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=Path("weights/ocr_latin.pth"))
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    model = model_from_checkpoint(load_checkpoint(args.weights))
    cfg = model.cfg
    with tempfile.TemporaryDirectory(prefix="ocr_calib_") as tmp_dir:  # deleted at the end
        tmp = Path(tmp_dir)
        src = export_onnx(model, tmp / "fp32.onnx")
        sets = validation_crops()
        real = calibration_crops([D / "us_crops", D / "ar_crops"], SPLITS, 128)
        calib = {"synthetic": calibration_batches(cfg, 256), "synthetic+real": calibration_batches(cfg, 256, real=real)}
        recipes = [(m, p, c) for c in calib for m, p in (("minmax", 0), ("percentile", 99.99), ("percentile", 99.999),
                                                           ("entropy", 0))]

        def reads(rec: Recognizer) -> dict[str, list[str]]:
            return {k: [r.text for r in rec([c for c, _ in v])] for k, v in sets.items()}

        ref = reads(Recognizer.from_checkpoint(src, backend="onnx"))
        results = {}
        print(f"{'recipe':34s}" + "".join(f"{k + ' (' + str(len(v)) + ')':>16s}" for k, v in sets.items())
              + f"{'all':>9s} {'differ':>7s}")
        runs = ((f"{m}{' ' + str(p) if p else ''}, {c}",
                 reads(Recognizer.from_checkpoint(export(src, tmp / f"{i}.onnx", calib[c], m, p), backend="onnx")))
                for i, (m, p, c) in enumerate(recipes))
        for name, rec_reads in itertools.chain([("fp32", ref)], runs):
            acc = {k: float(np.mean([t == s for t, (_, s) in zip(rec_reads[k], v)])) for k, v in sets.items()}
            n = sum(len(v) for v in sets.values())
            acc["all"] = sum(acc[k] * len(v) for k, v in sets.items()) / n
            differ = sum(a != b for k in sets for a, b in zip(rec_reads[k], ref[k]))
            results[name] = {"seq_acc": acc, "reads_differing_from_fp32": differ}
            print(f"{name:34s}" + "".join(f"{acc[k] * 100:15.2f}%" for k in sets)
                  + f"{acc['all'] * 100:8.2f}% {differ:7d}", flush=True)
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
