"""What a camera further away sees: a video shrunk by each scale, its plates' widths and the vehicles read.

    python bench/plate_sizes.py [--video samples/clip.mp4] [--scales 1 0.5 0.35] [key=value ...]

Each scale writes the video resized (area-averaged, as a camera of fewer pixels or further away gives it) into a
temporary folder and runs it through the pipeline with the shipped models (`run_video`, `key=value` overrides passed
on): prints the vehicles read and the summary's `plate_width_px` (`pipeline/plate_sizes.py`), and whether a camera
would be told its plates are too small (`size_advice`).
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

from common.paths import ROOT


def shrunk(video: Path, scale: float, out: Path) -> Path:
    """`video` resized by `scale` into `out`, at its own rate (read as the pipeline reads it: a file that cannot be
    read is its UnreadableVideo error)."""
    from pipeline.sources import VideoFileSource

    source, writer = VideoFileSource(video), None
    try:
        for frame in source:
            img = frame.image
            size = (round(img.shape[1] * scale), round(img.shape[0] * scale))
            if writer is None:
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), source.fps, size)
            writer.write(cv2.resize(img, size, interpolation=cv2.INTER_AREA) if scale != 1 else img)
    finally:
        source.close()
        if writer is not None:
            writer.release()
    return out


def main() -> None:
    from pipeline.app import run_video
    from pipeline.plate_sizes import size_advice
    from pipeline.settings import load_configs

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", type=Path, default=ROOT / "samples" / "clip.mp4")
    ap.add_argument("--scales", type=float, nargs="+", default=[1.0, 0.5, 0.35])
    ap.add_argument("overrides", nargs="*")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        clips = {scale: shrunk(a.video, scale, Path(tmp) / f"x{scale:g}.mp4") for scale in a.scales}
        cfgs = load_configs(ROOT / "configs", [f"output_dir={tmp}/out", "progress=false", "video_out=false",
                                               *a.overrides])
        logger.remove()  # the runs' logs; a video that cannot be read, or a bad override, is said above
        print(f"{a.video}: scale, vehicles read, plate_width_px, told too small")
        for scale, clip in clips.items():
            res = run_video(str(clip), cfgs, threading.Event())
            told = bool(size_advice(res["plate_width_px"], clip.name))
            print(f"{scale:g}: {res['events']} vehicles, {res['plate_width_px']}, {'told' if told else 'not told'}")


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
