"""The motion gate: a fixed camera's frames go to the detector only when something moved.

A gate or car-park camera looks at an empty road, or at parked cars, most of the day, and the detector is most of a
frame's CPU time. Each frame is compared with the last frame the detector saw (grey, shrunk to `width` px by area
averaging, smoothed): it goes to the detector when more than `share` of its pixels moved by more than `level` grey
levels (a car coming or going), or when the detector last ran `every_s` ago or more (a safety net, and a slow change
of light taken in). A frame that has not moved is given the boxes the detector found in that one, so the tracker
and the OCR go on as if it had looked. The detector rests only while what it finds stays put (the pipeline's
`same_boxes`: its last two looks found the same boxes), so a vehicle in motion, even a slow one that moves few
pixels, has every frame detected. A camera that moves (a dash-cam) changes every frame, so every frame is detected,
as without the gate.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass
class MotionGate:
    """Says whether a frame moved enough since the last one the detector saw to run it again."""
    every_s: float = 1.0  # the detector runs at least this often, moved or not
    level: int = 25  # grey levels a pixel must change by to count as moved
    share: float = 0.0005  # of the pixels compared, the share that must move
    width: int = 320  # the frames are compared shrunk to this width
    region: tuple[float, float, float, float] | None = None  # x0, y0, x1, y1 (fractions): only there (the roi)

    def __post_init__(self) -> None:
        self._ref: np.ndarray | None = None  # the view of the frame the detector last saw
        self._ref_t = 0.0

    def view(self, image: np.ndarray) -> np.ndarray:
        """What the gate compares of a frame: grey, the region alone, shrunk to `width` by area averaging, smoothed."""
        h, w = image.shape[:2]
        if self.region is not None:
            x0, y0, x1, y1 = self.region
            image = image[int(y0 * h):max(int(y0 * h) + 1, int(np.ceil(y1 * h))),
                          int(x0 * w):max(int(x0 * w) + 1, int(np.ceil(x1 * w)))]
            h, w = image.shape[:2]
        grey = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        scale = min(1.0, self.width / w)
        small = cv2.resize(grey, (max(1, round(w * scale)), max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        return cv2.GaussianBlur(small, (3, 3), 0)

    def moved(self, view: np.ndarray, time_s: float) -> bool:
        """Whether the frame of `view` (at `time_s`) must go to the detector: no reference yet, the reference
        `every_s` old or more, or more than `share` of the pixels changed by more than `level`."""
        if self._ref is None or view.shape != self._ref.shape or not 0 <= time_s - self._ref_t < self.every_s:
            return True
        changed = np.count_nonzero(cv2.absdiff(view, self._ref) > self.level)
        return bool(changed > self.share * view.size)

    def looked(self, view: np.ndarray, time_s: float) -> None:
        """The detector saw the frame of `view`: it is the reference from now on."""
        self._ref, self._ref_t = view, time_s
