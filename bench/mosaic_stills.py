"""High-resolution stills from a labelled still set: frames laid out g x g in one image, plates at their own size.

    python bench/mosaic_stills.py --labels data_gen/scenes_val/labels.csv --out data_gen/mosaic_val --grid 3
    python -m pipeline.evaluate --labels data_gen/mosaic_val/labels.csv                      # tiled (default)
    python -m pipeline.evaluate --labels data_gen/mosaic_val/labels.csv detector.still_tile=0  # whole image only

Nine 1280x720 frames make one 3840x2160 image (an 8 MP photo): its plates keep their pixels but are a third as
large against the frame, as in a wide, high-resolution photo of a street or car park. Frames are taken in label
order; a last, incomplete mosaic is dropped. `--canvas 1920x1080` instead puts each frame alone on a grey canvas of
that size at a seeded random place (sizes between the grid's steps). `--gray` writes the images in greyscale
(a monochrome camera's photos, which the pipeline sends to its greyscale detector).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import csv

import cv2
import numpy as np

from detection.dataset import read_box_labels
from ocr.process import dataset_image, read_bgr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--grid", type=int, default=3)
    ap.add_argument("--canvas", help="WxH: each frame alone on a grey canvas of this size instead of a grid")
    ap.add_argument("--gray", action="store_true", help="write the images in greyscale")
    args = ap.parse_args()

    def write(name: str, img: np.ndarray) -> None:
        if args.gray:
            img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        cv2.imwrite(str(args.out / "images" / name), img, [cv2.IMWRITE_JPEG_QUALITY, 95])

    labels = read_box_labels(args.labels)
    names = list(labels)
    g = args.grid
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    rows = []
    if args.canvas:
        cw, ch = (int(v) for v in args.canvas.lower().split("x"))
        rng = np.random.default_rng(0)
        for n in names:
            f = read_bgr(dataset_image(args.labels, n))
            h, w = f.shape[:2]
            if w > cw or h > ch:
                raise SystemExit(f"error: {n} ({w}x{h}) is larger than the canvas {args.canvas}")
            ox, oy = int(rng.integers(0, cw - w + 1)), int(rng.integers(0, ch - h + 1))
            canvas = np.full((ch, cw, 3), 114, np.uint8)
            canvas[oy:oy + h, ox:ox + w] = f
            write(n, canvas)
            rows += [[n, b.text, b.x1 + ox, b.y1 + oy, b.x2 + ox, b.y2 + oy] for b in labels[n]]
        with (args.out / "labels.csv").open("w", newline="") as fh:
            csv.writer(fh).writerows([["image", "plate_text", "x1", "y1", "x2", "y2"], *rows])
        print(f"wrote {len(names)} frames on {args.canvas} canvases to {args.out}")
        return 0
    for m in range(len(names) // (g * g)):
        group = names[m * g * g:(m + 1) * g * g]
        frames = [read_bgr(dataset_image(args.labels, n)) for n in group]
        h, w = frames[0].shape[:2]
        canvas = np.zeros((g * h, g * w, 3), np.uint8)
        name = f"mosaic_{m:04d}.jpg"
        for k, (n, f) in enumerate(zip(group, frames)):
            oy, ox = (k // g) * h, (k % g) * w
            canvas[oy:oy + h, ox:ox + w] = cv2.resize(f, (w, h)) if f.shape[:2] != (h, w) else f
            rows += [[name, b.text, b.x1 + ox, b.y1 + oy, b.x2 + ox, b.y2 + oy] for b in labels[n]]
        write(name, canvas)
    with (args.out / "labels.csv").open("w", newline="") as f:
        csv.writer(f).writerows([["image", "plate_text", "x1", "y1", "x2", "y2"], *rows])
    print(f"wrote {len(names) // (g * g)} mosaics of {g}x{g} frames to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
