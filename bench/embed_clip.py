"""A clip as a wide, high-resolution camera would film it: each frame placed, at its own pixels, in a larger frame
whose rest is the same view enlarged and blurred (no plate readable there). A gate that a 4K camera sees as a small
part of its view; `roi=` around the placed frame then says where the gate is (bench/results/roi_crop_val.txt).

    python bench/embed_clip.py --video data_gen/clip_val/clip.mp4 --expected data_gen/clip_val/expected.csv \
        --out data_gen/clip_val_4k --size 3840x2160 --at 1280,1080 --frames 600
    python -m pipeline.evaluate --video data_gen/clip_val_4k/clip.mp4 --expected data_gen/clip_val_4k/expected.csv \
        'roi=[[0.3333,0.5],[0.6667,0.5],[0.6667,1],[0.3333,1]]' [roi_crop=false]

`--frames N` keeps the first N frames and the vehicles that have left by then (expected.csv's last_frame < N).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import csv

import cv2
import numpy as np

from common.cli import whole_pair
from common.errors import UserError


def embed(frame: np.ndarray, size: tuple[int, int], at: tuple[int, int]) -> np.ndarray:
    """`frame` at `at` (x, y) in a frame of `size` (w, h) filled with the view enlarged and blurred."""
    w, h = size
    x, y = at
    fh, fw = frame.shape[:2]
    if x < 0 or y < 0 or x + fw > w or y + fh > h:
        raise UserError(f"a {fw}x{fh} frame at {x},{y} does not fit in {w}x{h}")
    out = cv2.GaussianBlur(cv2.resize(frame, (w, h), interpolation=cv2.INTER_LINEAR), (0, 0), 12)
    out[y:y + fh, x:x + fw] = frame
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", required=True)
    ap.add_argument("--expected", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--size", type=whole_pair("x"), default=(3840, 2160))
    ap.add_argument("--at", type=whole_pair(",", low=0), default=(1280, 1080))
    ap.add_argument("--frames", type=int, default=0, help="keep the first N frames (0: all)")
    args = ap.parse_args()
    cap = cv2.VideoCapture(args.video)
    if not cap.isOpened():
        raise UserError(f"cannot open video: {args.video}")
    if not args.expected.is_file():
        raise UserError(f"expected vehicles not found: {args.expected}")
    args.out.mkdir(parents=True, exist_ok=True)
    fps = cap.get(cv2.CAP_PROP_FPS) or 25.0
    writer, n = None, 0
    while not args.frames or n < args.frames:
        ok, frame = cap.read()
        if not ok:
            break
        big = embed(frame, args.size, args.at)
        if writer is None:
            writer = cv2.VideoWriter(str(args.out / "clip.mp4"), cv2.VideoWriter.fourcc(*"mp4v"), fps, args.size)
        writer.write(big)
        n += 1
    cap.release()
    if writer is not None:
        writer.release()
    with args.expected.open(newline="") as f:
        rows = list(csv.DictReader(f))
    kept = [r for r in rows if not args.frames or int(r["last_frame"]) < n]
    with (args.out / "expected.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["plate_text", "first_frame"])
        w.writeheader()
        w.writerows(kept)
    x, y = args.at
    fh, fw = frame.shape[:2] if n else (0, 0)
    W, H = args.size
    print(f"{n} frames, {len(kept)} vehicles -> {args.out}; the placed frame as a roi: "
          f"[[{x / W:.4f},{y / H:.4f}],[{(x + fw) / W:.4f},{y / H:.4f}],[{(x + fw) / W:.4f},{(y + fh) / H:.4f}],"
          f"[{x / W:.4f},{(y + fh) / H:.4f}]]")


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))
