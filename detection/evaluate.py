"""Evaluate a plate detector on a labels CSV (or a folder of YOLO, Pascal VOC or COCO labels: its test split, else
its val split, else all of it): recall/precision at IoU 0.4 and 0.5, AP50, ms per image.

    python detection/evaluate.py --weights weights/detector.pt --labels ../shared/data/dashcam_ro/labels.csv \
        --split-file configs/splits/dashcam_holdout.csv --json out.json --predictions preds.jsonl \
        [--ignore configs/splits/dashcam_holdout_unboxed.csv]   # real plates the labels leave out
"""
from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import json
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from common.cli import NO_METRICS, entry_parser, prepare_outputs, run_main
from common.config import load_config
from common.errors import UserError
from common.paths import naming
from detection.config import DetectorConfig
from detection.dataset import folder_labels, labels_csv_of, listed_images, read_box_labels
from detection.detections import Detections
from detection.metrics import evaluate_boxes
from ocr.process import dataset_image, read_bgr


def read_ignore(path: Path) -> dict[str, np.ndarray]:
    """image -> xyxy boxes of real plates the labels leave out (a labels CSV: image,x1,y1,x2,y2[,plate_text])."""
    return {name: np.array([[b.x1, b.y1, b.x2, b.y2] for b in boxes], np.float64).reshape(-1, 4)
            for name, boxes in read_box_labels(path, check_images=False).items()}


def run_eval(detect: Callable[[np.ndarray], Detections], labels_csv: Path, only: set[str] | None = None,
             predictions: Path | None = None, ignore: dict[str, np.ndarray] | None = None) -> dict[str, Any]:
    """Metrics of `detect` on the images of `labels_csv` (those in `only`); predictions on `ignore` boxes
    (unlabelled real plates) count neither as true nor as false."""
    labels = folder_labels(labels_csv, ("test", "val"))
    names = [n for n in labels if only is None or n in only]
    if not names:
        raise UserError(f"{labels_csv}: no images to evaluate")
    per_image: list[tuple[np.ndarray, ...]] = []
    times: list[float] = []
    out = predictions.open("w") if predictions else None
    try:
        for name in names:
            img = read_bgr(dataset_image(labels_csv, name))
            t0 = time.perf_counter()
            det = detect(img)
            times.append((time.perf_counter() - t0) * 1000)
            gt = np.array([[b.x1, b.y1, b.x2, b.y2] for b in labels[name]], np.float64).reshape(-1, 4)
            per_image.append((det.xyxy.astype(np.float64), det.conf.astype(np.float64), gt,
                              (ignore or {}).get(name, np.zeros((0, 4)))))
            if out:
                boxes = [[*(round(float(v), 1) for v in b), round(float(c), 4)] for b, c in zip(det.xyxy, det.conf)]
                with naming(out.name):  # a full disk: the line names the file
                    out.write(json.dumps({"image": name, "boxes": boxes}) + "\n")
    finally:
        if out:
            with naming(out.name):
                out.close()
    m4, m5 = evaluate_boxes(per_image, 0.4), evaluate_boxes(per_image, 0.5)
    return {"n_images": len(names), "n_plates": int(sum(len(p[2]) for p in per_image)),
            "recall@0.4": m4["recall"], "precision@0.4": m4["precision"],
            "recall@0.5": m5["recall"], "precision@0.5": m5["precision"], "ap50": m5["ap"],
            "ms_per_image": statistics.median(times),
            "recall@0.5_at_precision0.9": m5["recall_at_precision"], "conf_at_precision0.9": m5["conf_at_precision"]}


def main(argv: list[str] | None = None) -> int:
    ap = entry_parser(__doc__)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--labels", required=True, type=Path)
    ap.add_argument("--split-file", help="only the images listed in this dataset,image CSV")
    ap.add_argument("--config", default="configs/detector.yaml")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--predictions", type=Path)
    ap.add_argument("--ignore", type=Path, help="CSV image,x1,y1,x2,y2 of real plates the labels do not box: "
                    "detections there count neither way")
    ap.add_argument("overrides", nargs="*", help="detector key=value overrides (imgsz=960 conf=0.2 ...)")
    args = ap.parse_args(argv)

    def work() -> None:
        prepare_outputs(args.json, args.predictions)
        from detection.detector import PlateDetector

        cfg = load_config(DetectorConfig, args.config,  # exactly --weights, unless gray_weights= is given too
                          ["gray_weights=", *args.overrides, f"weights={args.weights}"])
        labels = labels_csv_of(args.labels)
        only = listed_images(labels, args.split_file) if args.split_file else None
        ignore = read_ignore(args.ignore) if args.ignore else None
        res = run_eval(PlateDetector(cfg).detect, labels, only, args.predictions, ignore)
        report = json.dumps(res, indent=2)
        print(report)
        if args.json:
            with naming(args.json):  # a full disk: the line names the file
                args.json.write_text(report)

    return run_main(work, on_interrupt=NO_METRICS)


if __name__ == "__main__":
    raise SystemExit(main())
