"""Drawing of tracks and fused texts, and the annotated-video sink."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.background import BackgroundWriter
from pipeline.types import Tracks


def draw(image: np.ndarray, tracks: Tracks, texts: dict[int, str]) -> np.ndarray:
    out = image.copy()
    for (x1, y1, x2, y2), tid in zip(tracks.xyxy.astype(int), tracks.ids):
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 220, 0), 2)
        label = f"#{tid} {texts.get(int(tid), '')}".strip()
        (tw, th), _ = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2)
        cv2.rectangle(out, (x1, max(0, y1 - th - 8)), (x1 + tw + 6, y1), (0, 220, 0), -1)
        cv2.putText(out, label, (x1 + 3, y1 - 5), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 2)
    return out


class VideoSink:
    """Annotated output video; opened lazily at the first frame's size (re-opened as part N+1 on a resize).
    Frames are encoded by a background thread, in order, beside the next frame's inference."""

    def __init__(self, path: str | Path, fps: float) -> None:
        self.path, self.fps = Path(path), fps if fps and fps > 0 else 25.0
        self.writer: Any = None
        self.size: tuple[int, int] | None = None
        self.part = 0
        self._bg: BackgroundWriter | None = None

    def __enter__(self) -> "VideoSink":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._bg = BackgroundWriter(self._encode, depth=4)
        return self

    def write(self, image: np.ndarray) -> None:
        if self._bg is None:
            self._encode(image)
        else:
            self._bg.submit(image)

    def _encode(self, image: np.ndarray) -> None:
        size = (image.shape[1], image.shape[0])
        if self.writer is None or size != self.size:
            if self.writer is not None:
                self.writer.release()
                self.part += 1
            path = self.path if self.part == 0 else self.path.with_name(f"{self.path.stem}_{self.part}{self.path.suffix}")
            self.writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), self.fps, size)
            self.size = size
        self.writer.write(image)

    def __exit__(self, *exc: Any) -> None:
        try:
            if self._bg is not None:
                self._bg.close()
        finally:
            self._bg = None
            if self.writer is not None:
                self.writer.release()
