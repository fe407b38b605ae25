"""Each vehicle's best crop and whole frame saved as images (`crops/`, `frames/`): the newest within a count, and no
more of them while the output disk is short of free space (each new one replaces the oldest)."""
from __future__ import annotations

import shutil
from collections import deque
from pathlib import Path

import cv2
import numpy as np
from loguru import logger

from ocr.process import write_image
from pipeline.types import PlateEvent


def free_mb(path: Path) -> float:
    """Megabytes this process may still write on the disk holding `path`."""
    return shutil.disk_usage(path).free / 2**20


HEADROOM = 0.1  # once short, the disk has room again only at this share over the reserve: a disk that hovers at it
# does not flip the state, and its lines, with each image


class LowSpace:
    """`low(folder)`: whether the disk holding `folder` is short of room, under `min_free_mb` free (0: never); said in
    one line when it begins (what is done meanwhile: `doing`) and when it ends (`what` grow again)."""

    def __init__(self, what: str, doing: str, min_free_mb: float = 0.0) -> None:
        self.what, self.doing, self.min_free_mb, self.low = what, doing, min_free_mb, False

    def __call__(self, folder: Path) -> bool:
        low = self.min_free_mb > 0 and free_mb(folder) < self.min_free_mb * (1 + HEADROOM if self.low else 1)
        if low != self.low:
            self.low = low
            if low:
                logger.warning(f"{folder}: under {self.min_free_mb:g} MB free on its disk (min_free_mb): {self.doing}; "
                               "the events are still all written")
            else:
                logger.info(f"{folder}: room on its disk again: {self.what} grow again")
        return low


class _KeptImages:
    """Images saved as `<dir>/<event_id>.jpg`; with `keep` > 0 only the newest `keep` in the folder stay (earlier
    runs' included), so a camera run for months does not fill the disk; with `min_free_mb` > 0, while the disk has
    less free, each new image replaces the oldest: the folder stops growing."""

    def __init__(self, directory: str | Path, keep: int = 0, quality: int = 95, min_free_mb: float = 0.0) -> None:
        self.dir, self.keep, self.quality = Path(directory), keep, quality
        self.low = LowSpace(f"{self.dir.name}/", f"each new image in {self.dir.name}/ replaces its oldest", min_free_mb)
        # file names, oldest first, once the folder has been listed (names, not Paths: a full list of 200,000 holds
        # ~19 MB, not ~68)
        self._files: deque[str] | None = None

    def save(self, event: PlateEvent, image: np.ndarray) -> str:
        if self._files is None:
            self.dir.mkdir(parents=True, exist_ok=True)
            self._files = deque(f.name for f in sorted(self.dir.glob("*.jpg"), key=lambda f: f.stat().st_mtime))
        path = self.dir / f"{event.event_id}.jpg"
        write_image(path, image, self.quality)
        self._files.append(path.name)
        while self.keep > 0 and len(self._files) > self.keep:
            (self.dir / self._files.popleft()).unlink(missing_ok=True)
        if len(self._files) > 1 and self.low(self.dir):
            (self.dir / self._files.popleft()).unlink(missing_ok=True)
        return str(path)


class FrameStore(_KeptImages):
    """Saves the whole frame of each event's best read, its plate boxed and labelled (~100 KB an image at 1280x720);
    the newest `keep` stay."""

    def __init__(self, directory: str | Path, keep: int = 0, quality: int = 90, min_free_mb: float = 0.0) -> None:
        super().__init__(directory, keep, quality, min_free_mb)

    def __call__(self, event: PlateEvent, image: np.ndarray) -> str:
        out = image.copy()
        x1, y1, x2, y2 = (int(round(v)) for v in event.box)
        thick = max(2, out.shape[1] // 640)
        cv2.rectangle(out, (x1, y1), (x2, y2), (0, 0, 255), thick)
        cv2.putText(out, event.text, (x1, max(12 * thick, y1 - 4 * thick)), cv2.FONT_HERSHEY_SIMPLEX, 0.4 * thick,
                    (0, 0, 255), thick)
        return self.save(event, out)


class CropStore(_KeptImages):
    """Saves each event's best crop (a few KB); returns the path; the newest `keep` stay."""

    def __call__(self, event: PlateEvent, crop: np.ndarray) -> str:
        return self.save(event, crop)
