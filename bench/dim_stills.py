"""A labelled still set as a dim (night, shade), washed-out, blurred or badly compressed camera would give it.

    python bench/dim_stills.py --labels data_gen/scenes_val/labels.csv --out data_gen/scenes_val_dim --gain 0.2
    python -m pipeline.evaluate --labels data_gen/scenes_val_dim/labels.csv [crop_stretch_below=0]

Every pixel v -> gain * v + offset: `--gain 0.2` leaves a plate a fifth of its contrast (a frame at night without
infrared); `--gain 0.4 --offset 150` washes it out (glare, haze). `--motion 9` smears each image along a horizontal
line of 9 px (a car passing a slow shutter); `--interlace 4` moves every odd row 4 px along the rows against the even
ones (an interlaced camera's two fields, exposed apart while the car moves: `ocr.augment.comb`); `--quality 20`
writes the JPEG at that quality (a camera or messenger that compresses hard; default 95). The labels are copied
unchanged.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import shutil

import cv2
import numpy as np

from detection.dataset import read_box_labels
from ocr.augment import comb
from ocr.process import dataset_image, read_bgr, write_image


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--gain", type=float, default=0.2)
    ap.add_argument("--offset", type=float, default=0.0)
    ap.add_argument("--motion", type=int, default=0, help="horizontal motion blur over this many px (0: none)")
    ap.add_argument("--interlace", type=float, default=0.0, help="odd rows moved this many px along the rows")
    ap.add_argument("--quality", type=int, default=95, help="JPEG quality of the images written")
    args = ap.parse_args()
    names = list(read_box_labels(args.labels))
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    for n in names:
        img = read_bgr(dataset_image(args.labels, n)).astype(np.float32) * args.gain + args.offset
        if args.motion > 1:
            img = cv2.filter2D(img, -1, np.full((1, args.motion), 1.0 / args.motion, np.float32))
        if args.interlace:
            img = comb(img, args.interlace, 1)
        write_image(args.out / "images" / n, np.clip(img, 0, 255).astype(np.uint8), args.quality)
    shutil.copy(args.labels, args.out / "labels.csv")
    print(f"wrote {len(names)} images to {args.out}")
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
