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
from dataclasses import replace
from typing import Iterator

import cv2
import numpy as np

from detection.dataset import PlateBox, read_box_labels, write_box_labels
from ocr.process import dataset_image, read_bgr, write_image

Placed = tuple[str, np.ndarray, list[tuple[str, int, int]]]  # image name, image, (frame, x, y) of each frame in it


def in_grid(labels_csv: Path, names: list[str], g: int) -> Iterator[Placed]:
    """g x g frames per image, in label order; a last, incomplete group is dropped."""
    for m in range(len(names) // (g * g)):
        group = names[m * g * g:(m + 1) * g * g]
        frames = [read_bgr(dataset_image(labels_csv, n)) for n in group]
        h, w = frames[0].shape[:2]
        canvas = np.zeros((g * h, g * w, 3), np.uint8)
        at = []
        for k, (n, f) in enumerate(zip(group, frames)):
            oy, ox = (k // g) * h, (k % g) * w
            canvas[oy:oy + h, ox:ox + w] = cv2.resize(f, (w, h)) if f.shape[:2] != (h, w) else f
            at.append((n, ox, oy))
        yield f"mosaic_{m:04d}.jpg", canvas, at


def on_canvas(labels_csv: Path, names: list[str], size: str) -> Iterator[Placed]:
    """Each frame alone on a grey canvas of `size` (WxH), at a seeded random place."""
    cw, ch = (int(v) for v in size.lower().split("x"))
    rng = np.random.default_rng(0)
    for n in names:
        f = read_bgr(dataset_image(labels_csv, n))
        h, w = f.shape[:2]
        if w > cw or h > ch:
            raise SystemExit(f"error: {n} ({w}x{h}) is larger than the canvas {size}")
        ox, oy = int(rng.integers(0, cw - w + 1)), int(rng.integers(0, ch - h + 1))
        canvas = np.full((ch, cw, 3), 114, np.uint8)
        canvas[oy:oy + h, ox:ox + w] = f
        yield n, canvas, [(n, ox, oy)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labels", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--grid", type=int, default=3)
    ap.add_argument("--canvas", help="WxH: each frame alone on a grey canvas of this size instead of a grid")
    ap.add_argument("--gray", action="store_true", help="write the images in greyscale")
    args = ap.parse_args()
    labels = read_box_labels(args.labels)
    placed = (on_canvas(args.labels, list(labels), args.canvas) if args.canvas
              else in_grid(args.labels, list(labels), args.grid))
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    out: dict[str, list[PlateBox]] = {}
    for name, img, at in placed:
        if args.gray:
            img = cv2.cvtColor(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
        write_image(args.out / "images" / name, img)
        out[name] = [replace(b, x1=b.x1 + x, y1=b.y1 + y, x2=b.x2 + x, y2=b.y2 + y) for n, x, y in at for b in labels[n]]
    write_box_labels(out, args.out / "labels.csv")
    print(f"wrote {len(out)} images to {args.out}")
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
