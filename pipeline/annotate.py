"""Drawing of tracks and fused texts, the live windows and the annotated-video sink."""
from __future__ import annotations

import errno
import threading
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from common.errors import UserError
from pipeline.background import BackgroundWriter
from pipeline.media import VIDEO_CODECS, ffmpeg_path
from pipeline.sinks import keep_previous
from pipeline.stores import LowSpace
from pipeline.types import Tracks


def draw(image: np.ndarray, tracks: Tracks, texts: dict[int, str], watched: frozenset[int] = frozenset(),
         zones: Any = None) -> np.ndarray:
    """Boxes with track id and fused text; tracks whose text is on the watchlist (`watched` ids) in red; with
    `zones`, the region of interest (yellow) and the counting line (blue), so a camera's set-up can be checked."""
    out = image.copy()
    roi, line = getattr(zones, "outline", ((), ()))
    thick = max(1, out.shape[1] // 960)
    if roi:
        cv2.polylines(out, [np.round(roi).astype(np.int32)], True, (0, 220, 255), thick)
    if line:
        cv2.polylines(out, [np.round(line).astype(np.int32)], False, (255, 128, 0), thick + 1)
    for (x1, y1, x2, y2), tid in zip(tracks.xyxy.astype(int), tracks.ids):
        color = (0, 0, 255) if int(tid) in watched else (0, 220, 0)
        cv2.rectangle(out, (x1, y1), (x2, y2), color, 2)
        label = f"#{tid} {texts.get(int(tid), '')}".strip()
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2)
        cv2.rectangle(out, (x1, max(0, y1 - th - 8)), (x1 + tw + 6, y1), color, -1)
        cv2.putText(out, label, (x1 + 3, y1 - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    return out


def check_display() -> None:
    """Refuse `--show` where no window can open: on Linux without a display, OpenCV's Qt aborts the process (no
    flush of the open tracks)."""
    import os
    import sys

    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        raise UserError("show needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set (run without --show or show=true)")


class LiveWindows:
    """The live windows (`--show`), one per source. Any thread submits frames; only the main thread draws them
    (OpenCV's HighGUI is not thread-safe), when it submits one itself or calls `pump()`."""

    def __init__(self) -> None:
        self._latest: dict[str, Any] = {}
        self._lock = threading.Lock()

    def submit(self, name: str, image: Any) -> None:
        with self._lock:
            self._latest[name] = image
        if threading.current_thread() is threading.main_thread():
            self.pump()

    def pump(self) -> None:
        with self._lock:
            items, self._latest = list(self._latest.items()), {}
        for name, image in items:
            cv2.imshow(f"plate reader: {name}", image)
        if items:
            cv2.waitKey(1)


class VideoSink:
    """Annotated output video; opened lazily at the first frame's size (re-opened as part N+1 on a resize).
    Frames are encoded by a background thread, in order, beside the next frame's inference.

    Frames written with their time (`write(image, time_s)`) are held to it at the sink's fixed rate `fps`: a frame
    is repeated to fill the slots until the next one (a live source read slower than the rate, a phone video's held
    frames) and a frame whose slot is already filled is left out, so the video plays as the source ran and a
    moment in it is the moment an event gives. A gap longer than `HOLD_MAX_S` (a stream that was down) is not
    filled: the video goes on from the next frame, and a live source's next part starts there. `timed=False` (still
    images) writes each frame once.

    `segment_frames` > 0 (live sources) starts a new part every that many frames, named by its start time
    (`annotated_2026-11-30_18-27-00.mp4`): a crash loses at most the open part (an MP4 is readable only once
    closed), and with `keep` > 0 only the newest `keep` parts stay on disk, so a camera run for months does not
    fill it; with `min_free_mb` > 0, while the disk has less free, the open part stops growing (its frames are left
    out) and a new part replaces the oldest."""

    HOLD_MAX_S = 2.0

    def __init__(self, path: str | Path, fps: float, segment_frames: int = 0, keep: int = 0,
                 timed: bool = True, min_free_mb: float = 0.0) -> None:
        self.path, self.fps, self.timed = Path(path), fps if fps and fps > 0 else 25.0, timed
        self.segment_frames, self.keep = segment_frames, keep
        self.low = LowSpace("the video's parts", "the open video part stops growing, and a new part replaces the "
                            "oldest", min_free_mb if segment_frames > 0 else 0.0)
        self._t0: float | None = None  # the time of slot 0
        self._slots = 0  # slots filled since
        self.writer: Any = None
        self.size: tuple[int, int] | None = None
        self.part = 0
        self.parts: list[Path] = []  # written so far (deleted ones removed)
        self._named: set[Path] = set()  # every part's name, deleted ones too: names sort in time order
        self._in_part = 0
        self._bg: BackgroundWriter | None = None

    def retime(self, fps: float, segment_frames: int) -> None:
        """Write at `fps` (0: 25), `segment_frames` to a part, where no frame has come yet: a camera that opened
        after its run began, whose rate was not known when this sink was made."""
        if self._t0 is None and self.writer is None:
            self.fps, self.segment_frames = fps if fps > 0 else 25.0, segment_frames

    def __enter__(self) -> "VideoSink":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if self.segment_frames <= 0:  # one file of a fixed name: an earlier run's is kept aside, not overwritten
            keep_previous(self.path)
        self._bg = BackgroundWriter(self._encode, depth=4)
        return self

    def write(self, image: np.ndarray, time_s: float | None = None) -> None:
        """Append `image`; with `time_s` (seconds, the source's clock) as often as its time at `fps` asks: 0 or more."""
        item = (image, 1, False) if time_s is None or not self.timed else self._timed(image, time_s)
        if item[1] == 0:
            return
        if self._bg is None:
            self._encode(item)
        else:
            self._bg.submit(item)

    def _timed(self, image: np.ndarray, time_s: float) -> tuple[np.ndarray, int, bool]:
        """(image, copies, starts a new part) for a frame at `time_s`."""
        if self._t0 is None:
            self._t0 = time_s
        slot = round((time_s - self._t0) * self.fps)
        if slot < self._slots:  # the slot is filled: the source runs faster than the video here
            return image, 0, False
        jump = slot - self._slots > self.HOLD_MAX_S * self.fps
        if jump:  # not filled: the video goes on from here
            self._t0, slot = time_s - self._slots / self.fps, self._slots
        copies = slot - self._slots + 1
        self._slots = slot + 1
        return image, copies, jump and self.segment_frames > 0

    def _part_path(self) -> Path:
        if self.segment_frames > 0:
            stem = f"{self.path.stem}_{time.strftime('%Y-%m-%d_%H-%M-%S')}"
            path, n = self.path.with_name(stem + self.path.suffix), 1
            while path.exists() or path in self._named:  # two parts within one second
                path, n = self.path.with_name(f"{stem}_{n}{self.path.suffix}"), n + 1
            return path
        return self.path if self.part == 0 else self.path.with_name(f"{self.path.stem}_{self.part}{self.path.suffix}")

    def _encode(self, item: tuple[np.ndarray, int, bool]) -> None:
        image, copies, new_part = item
        size = (image.shape[1], image.shape[0])
        full = self.segment_frames > 0 and self._in_part >= self.segment_frames
        if self.writer is None or size != self.size or full or (new_part and self._in_part):
            if self.writer is not None:
                self.writer.release()
                self.part += 1
            path = self._part_path()
            codec = VIDEO_CODECS.get(path.suffix.lstrip(".").lower(), "mp4v")
            self.writer = cv2.VideoWriter(ffmpeg_path(path), cv2.VideoWriter.fourcc(*codec), self.fps, size)
            if not self.writer.isOpened():  # OpenCV would drop every frame without a word
                self.writer = None
                raise OSError(errno.EIO, "the annotated video could not be opened for writing (video_out=false runs "
                              "without it)", str(path))
            self.size, self._in_part = size, 0
            self.parts.append(path)
            self._named.add(path)
            while self.keep > 0 and len(self.parts) > self.keep:
                self.parts.pop(0).unlink(missing_ok=True)
            if len(self.parts) > 1 and self.low(self.path.parent):
                self.parts.pop(0).unlink(missing_ok=True)
        self._in_part += copies
        if self.low(self.path.parent):  # asked at each frame: a part can outgrow the room left before it is closed
            return  # the open part stops growing until there is room again
        for _ in range(copies):
            self.writer.write(image)

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._bg is not None:
                self._bg.close()
        finally:
            self._bg = None
            if self.writer is not None:
                self.writer.release()
