"""Seconds to the first frame of a window late in a long video file (`start_s`), the decoder seeking against reading
its way there, and whether the frame reached is the one asked for. The video is made here: `--minutes` of numbered
frames (each frame's number drawn as bars, read back from the image), encoded as OpenCV's mp4v writes it (a key frame
every 12 frames).

    python bench/video_window.py [--minutes 10] [--size 1280x720] [--json bench/results/video_window.json]
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import tempfile
import time
from typing import Any

import cv2
import numpy as np

from common.cli import positive, whole_pair
from pipeline.sources import VideoFileSource

BITS = 17  # frame numbers up to 131,071 (87 minutes at 25 fps)


def numbered(number: int, w: int, h: int) -> np.ndarray:
    """A frame showing `number` as BITS bars, white for a 1 bit."""
    img = np.zeros((h, w, 3), np.uint8)
    step = w // BITS
    for b in range(BITS):
        if number >> b & 1:
            img[:, b * step:(b + 1) * step] = 255
    return img


def number_of(img: np.ndarray) -> int:
    """The number `numbered` drew."""
    h, w = img.shape[:2]
    step = w // BITS
    return sum(1 << b for b in range(BITS) if img[h // 2, b * step + step // 2].mean() > 127)


class Unmovable:
    """A capture whose seek fails, as some backends' do: the source reads its way to `start_s`."""

    def __init__(self, path: str) -> None:
        self.cap = cv2.VideoCapture(path)

    def set(self, prop: int, value: float) -> bool:
        return False

    def __getattr__(self, name: str) -> Any:
        return getattr(self.cap, name)


def first_frame(path: Path, start_s: float, capture: Any) -> tuple[float, int, float]:
    """Seconds from opening to the first frame of the window at `start_s`; the frame's drawn number and time."""
    t0 = time.perf_counter()
    source = VideoFileSource(path, 1, capture=capture, start_s=start_s)
    frame = next(iter(source))
    seconds = time.perf_counter() - t0
    source.close()
    return seconds, number_of(frame.image), frame.time_s


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--minutes", type=positive, default=10.0)
    ap.add_argument("--size", type=whole_pair("x"), default="1280x720")
    ap.add_argument("--fps", type=positive, default=25.0)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args()
    w, h = a.size
    n = int(a.minutes * 60 * a.fps)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "long.mp4"
        t0 = time.perf_counter()
        out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), a.fps, (w, h))
        for k in range(n):
            out.write(numbered(k, w, h))
        out.release()
        made = time.perf_counter() - t0
        start_s = round((n - 10 * a.fps) / a.fps + 0.37, 2)  # 10 s before the end, between two frames
        wanted = int(np.ceil(start_s * a.fps))
        rows = {}
        for name, capture in (("seek", cv2.VideoCapture), ("read_through", Unmovable)):
            seconds, shown, at = first_frame(path, start_s, capture)
            rows[name] = {"seconds": round(seconds, 3), "frame_shown": shown, "time_s": round(at, 3),
                          "right_frame": shown == wanted}
            print(f"{name:13s} {seconds:8.3f} s to frame {shown} at {at:.2f} s (asked {start_s} s: frame {wanted})")
    result = {"frames": n, "size": f"{w}x{h}", "fps": a.fps, "start_s": start_s, "wanted_frame": wanted,
              "seconds_to_make": round(made, 1), **rows}
    if a.json:
        a.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
