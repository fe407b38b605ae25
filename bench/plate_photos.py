"""Photos that are all plate: each crop of a crop set as a still whose plate box is the whole image.

    python bench/plate_photos.py --data ../shared/data/us_crops ../shared/data/ar_crops \
        --include configs/splits/real_crops_val.csv --out data_gen/plate_photos_val
    python -m pipeline.evaluate --labels data_gen/plate_photos_val/labels.csv

A photo taken to show a plate (a phone held up to it, a gate camera's tight frame) has the plate running to its
edges, larger than in any photo of a car. The crops of `us_crops` / `ar_crops` are such photos: this writes them as
a labelled still set (`image,plate_text,x1,y1,x2,y2`, the box the whole image) for `pipeline.evaluate`.
`--scale 4` enlarges each crop that many times (a high-resolution photo of the plate). `--roll 15` instead puts each
crop on a grey canvas (2.5 times its width, 3 times its height) turned by 15 degrees one way or the other (a seeded
draw per crop), the box the turned plate's bounding box: a plate photographed askew. `--yaw 45` puts it there as seen
45 degrees from the side (perspective; a one-row plate then looks as narrow as a two-row one), `--pitch 45` from above.

    python bench/plate_photos.py --data ../shared/data/us_crops ../shared/data/ar_crops \
        --include configs/splits/real_crops_val.csv --out data_gen/plate_photos_val_roll15 --roll 15
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse

import cv2
import numpy as np

from detection.dataset import PlateBox, write_box_labels
from ocr.data import read_labels, read_split_file
from ocr.process import read_bgr, write_image
from pipeline.evaluate import turned_boxes


GREY = 90  # the canvas around the plate


def canvas_size(h: int, w: int) -> tuple[int, int]:
    """The canvas a plate of h x w is shown on: 3 x its height, 2.5 x its width."""
    return int(h * 3), int(w * 2.5)


def bounds(pts: np.ndarray) -> tuple[float, float, float, float]:
    """The bounding box (x1, y1, x2, y2) of points, to a tenth of a pixel."""
    x1, y1, x2, y2 = (round(float(v), 1) for v in (*pts.min(0), *pts.max(0)))
    return x1, y1, x2, y2


def rolled(img: np.ndarray, angle: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """`img` in the middle of its canvas, turned by `angle` degrees about the canvas's centre; and the turned image's
    bounding box on it."""
    h, w = img.shape[:2]
    ch, cw = canvas_size(h, w)
    canvas = np.full((ch, cw, 3), GREY, np.uint8)
    y, x = (ch - h) // 2, (cw - w) // 2
    canvas[y:y + h, x:x + w] = img
    m = cv2.getRotationMatrix2D((cw / 2, ch / 2), angle, 1.0)
    canvas = cv2.warpAffine(canvas, m, (cw, ch), borderValue=(GREY,) * 3)
    return canvas, bounds(np.array([[x, y, 1], [x + w, y, 1], [x, y + h, 1], [x + w, y + h, 1]], float) @ m.T)


def from_side(img: np.ndarray, yaw: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """`img` as a pinhole camera sees it turned `yaw` degrees about its vertical axis, three widths away (focal
    length 1.5 widths), in the middle of its canvas; and its bounding box there."""
    h, w = img.shape[:2]
    t, f = np.radians(abs(yaw)), 1.5 * w
    side = 1 if yaw > 0 else -1
    pts = np.array([(f * x * np.cos(t) / (3 * w + side * x * np.sin(t)), f * y / (3 * w + side * x * np.sin(t)))
                    for x, y in ((-w / 2, -h / 2), (w / 2, -h / 2), (w / 2, h / 2), (-w / 2, h / 2))])
    pts -= pts.min(0)
    ch, cw = canvas_size(h, w)
    pts += ((cw - pts[:, 0].max()) / 2, (ch - pts[:, 1].max()) / 2)
    m = cv2.getPerspectiveTransform(np.float32([[0, 0], [w, 0], [w, h], [0, h]]), np.float32(pts))
    return cv2.warpPerspective(img, m, (cw, ch), borderValue=(GREY,) * 3), bounds(pts)


def from_above(img: np.ndarray, pitch: float) -> tuple[np.ndarray, tuple[float, float, float, float]]:
    """`from_side` about the horizontal axis: `img` seen `pitch` degrees from above (or below)."""
    canvas, box = from_side(cv2.rotate(img, cv2.ROTATE_90_CLOCKWISE), pitch)
    back = turned_boxes(np.array([box]), *canvas.shape[:2], 270)  # the canvas turned back, the box with it
    return cv2.rotate(canvas, cv2.ROTATE_90_COUNTERCLOCKWISE), bounds(back.reshape(2, 2))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, nargs="+", required=True, help="crop sets (images/ + labels.csv)")
    ap.add_argument("--include", type=Path, nargs="+", help="split CSVs (dataset,image) to take (default: all)")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--scale", type=float, default=1.0, help="enlarge each crop this many times")
    ap.add_argument("--roll", type=float, default=0.0, help="turn each crop by this many degrees on a canvas")
    ap.add_argument("--yaw", type=float, default=0.0, help="or seen this many degrees from the side, on a canvas")
    ap.add_argument("--pitch", type=float, default=0.0, help="or seen this many degrees from above, on a canvas")
    args = ap.parse_args()
    keep = read_split_file(args.include) if args.include else None
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    out: dict[str, list[PlateBox]] = {}
    rng = np.random.default_rng(0)
    for folder in args.data:
        for s in read_labels(folder):
            if keep is not None and (folder.name, s.path.name) not in keep:
                continue
            img = read_bgr(s.path)
            if args.scale != 1.0:
                img = cv2.resize(img, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_CUBIC)
            name = f"{folder.name}_{s.path.stem}.png"
            if args.roll:
                img, box = rolled(img, args.roll * (1 if rng.random() < 0.5 else -1))
            elif args.yaw:
                img, box = from_side(img, args.yaw * (1 if rng.random() < 0.5 else -1))
            elif args.pitch:
                img, box = from_above(img, args.pitch * (1 if rng.random() < 0.5 else -1))
            else:
                box = (0.0, 0.0, float(img.shape[1]), float(img.shape[0]))
            write_image(args.out / "images" / name, img)
            out[name] = [PlateBox(*box, s.text)]
    write_box_labels(out, args.out / "labels.csv")
    print(f"wrote {len(out)} plate photos to {args.out / 'labels.csv'}")
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
