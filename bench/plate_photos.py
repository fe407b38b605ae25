"""Photos that are all plate: each crop of a crop set as a still whose plate box is the whole image.

    python bench/plate_photos.py --data ../shared/data/us_crops ../shared/data/ar_crops \
        --include configs/splits/real_crops_val.csv --out data_gen/plate_photos_val
    python -m pipeline.evaluate --labels data_gen/plate_photos_val/labels.csv

A photo taken to show a plate (a phone held up to it, a gate camera's tight frame) has the plate running to its
edges, larger than in any photo of a car. The crops of `us_crops` / `ar_crops` are such photos: this writes them as
a labelled still set (`image,plate_text,x1,y1,x2,y2`, the box the whole image) for `pipeline.evaluate`.
`--scale 4` enlarges each crop that many times (a high-resolution photo of the plate).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse

import cv2

from detection.dataset import PlateBox, write_box_labels
from ocr.data import read_labels, read_split_file
from ocr.process import read_bgr


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", type=Path, nargs="+", required=True, help="crop sets (images/ + labels.csv)")
    ap.add_argument("--include", type=Path, nargs="+", required=True, help="split CSVs (dataset,image) to take")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--scale", type=float, default=1.0, help="enlarge each crop this many times")
    args = ap.parse_args()
    keep = read_split_file(args.include)
    (args.out / "images").mkdir(parents=True, exist_ok=True)
    out: dict[str, list[PlateBox]] = {}
    for folder in args.data:
        for s in read_labels(folder):
            if (folder.name, s.path.name) not in keep:
                continue
            img = read_bgr(s.path)
            if args.scale != 1.0:
                img = cv2.resize(img, None, fx=args.scale, fy=args.scale, interpolation=cv2.INTER_CUBIC)
            name = f"{folder.name}_{s.path.stem}.png"
            cv2.imwrite(str(args.out / "images" / name), img)
            h, w = img.shape[:2]
            out[name] = [PlateBox(0, 0, w, h, s.text)]
    write_box_labels(out, args.out / "labels.csv")
    print(f"wrote {len(out)} plate photos to {args.out / 'labels.csv'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
