"""How fast the annotated video is encoded in each container, and how much of it a run cut short leaves readable.

    python bench/video_containers.py [--video samples/clip.mp4] [--frames 50]

Each of `video_container`'s choices (`pipeline/media.py`, `VIDEO_CODECS`) encodes the video's first `--frames`
frames through `VideoSink` (as the pipeline writes its annotated video, on its own thread): prints the median ms to
encode a frame, the file's size, and the frames a copy made before the file is closed (as a kill or a power cut
leaves it) gives back.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import shutil
import statistics
import tempfile
import time
from itertools import islice

import cv2
import numpy as np

from common.cli import at_least
from common.paths import ROOT
from pipeline.annotate import VideoSink
from pipeline.media import VIDEO_CODECS
from pipeline.sources import VideoFileSource


def frames_of(video: Path, n: int) -> list[np.ndarray]:
    """The first `n` frames of `video`, read as the pipeline reads it (a file that cannot be read: its
    UnreadableVideo error)."""
    source = VideoFileSource(video)
    try:
        return [frame.image for frame in islice(source, n)]
    finally:
        source.close()


def readable(path: Path) -> int:
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--video", type=Path, default=ROOT / "samples" / "clip.mp4")
    ap.add_argument("--frames", type=at_least(1), default=50)
    a = ap.parse_args()
    frames = frames_of(a.video, a.frames)
    h, w = frames[0].shape[:2]
    print(f"{a.video}: {len(frames)} frames of {w}x{h}")
    with tempfile.TemporaryDirectory() as tmp:
        for container, codec in VIDEO_CODECS.items():
            path = Path(tmp) / f"annotated.{container}"
            times = []
            sink = VideoSink(path, 25.0)  # not entered: each frame encoded here, to be timed (the pipeline encodes
            for frame in frames:  # on a thread of its own)
                start = time.perf_counter()
                sink.write(frame)
                times.append((time.perf_counter() - start) * 1000)
            shutil.copyfile(path, Path(tmp) / f"cut.{container}")  # as a kill leaves it
            sink.__exit__(None, None, None)
            print(f"{container} ({codec}): {statistics.median(times):.1f} ms/frame, {path.stat().st_size // 1024} KB, "
                  f"{readable(path)} frames; cut short before it closed: {readable(Path(tmp) / f'cut.{container}')} "
                  f"frames readable")


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
