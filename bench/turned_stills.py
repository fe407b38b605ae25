"""What a camera mounted askew gives: the bundled stills turned, read as they come and with `rotate` turning them back.

    python bench/turned_stills.py [--stills samples/stills]

Each still of `--stills` (images/ + labels.csv with the plates' texts) is turned upside down and a quarter turn, and
each turned set read by the still pipeline (`run_images`, the shipped models) as it comes and with the `rotate` that
turns it back: prints each image's reads and how many of the labelled plates were read.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import os
import tempfile
import threading

os.environ.setdefault("YOLO_OFFLINE", "1")

import cv2
from loguru import logger

from common.paths import ROOT, read_csv
from ocr.process import read_bgr

TURNED = {180: cv2.ROTATE_180, 90: cv2.ROTATE_90_CLOCKWISE}  # as the camera gives them: turned back by 180, 270


def main() -> None:
    from pipeline.app import run_images
    from pipeline.settings import load_configs

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--stills", type=Path, default=ROOT / "samples" / "stills")
    a = ap.parse_args()
    labels = [(r["image"], r["plate_text"]) for r in read_csv(a.stills / "labels.csv", "CSV image,plate_text,...",
                                                               ("image", "plate_text")) if r["plate_text"]]
    logger.remove()  # the runs' logs; stills without their labels are said above
    with tempfile.TemporaryDirectory() as tmp:
        for turned, how in TURNED.items():
            folder = Path(tmp) / f"turned{turned}"
            folder.mkdir()
            for name in sorted({n for n, _ in labels}):
                cv2.imwrite(str(folder / name), cv2.rotate(read_bgr(a.stills / "images" / name), how))
            for rotate in (0, (360 - turned) % 360):
                cfgs = load_configs(ROOT / "configs", [f"output_dir={tmp}/out", "progress=false", f"rotate={rotate}"])
                res = run_images(str(folder), cfgs, crops_only=False, stop=threading.Event())
                read = {(name, r["text"]) for name, reads in res["reads"] for r in reads}
                right = sum((name, text) in read for name, text in labels)
                print(f"turned {turned} degrees, rotate={rotate}: {right} of {len(labels)} plates read")
                for name, reads in res["reads"]:
                    print(f"  {name}: {', '.join(r['text'] for r in reads) or 'no plate'}")


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake (stills without their labels.csv): one error line, exit 2
