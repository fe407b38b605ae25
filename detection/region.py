"""The detector on the region of interest only: a camera whose region of interest is a small part of a large frame
(a gate seen by a 4K camera) has its plates found at the frame's own resolution there, rather than shrunk to the
detector's `imgsz` with the whole frame. The whole-frame pass of a 3840 x 2160 frame shrinks a plate six times.
"""
from __future__ import annotations

from typing import Any, Sequence

import numpy as np

from detection.detections import DetectorPass, Detections

PAD = 0.05  # the region's box is widened by this share of the frame each side: a plate on its edge stays whole


def bounding_box(polygon: Sequence[Sequence[float]]) -> tuple[float, float, float, float]:
    """x0, y0, x1, y1 of `polygon`'s points (fractions of the frame's width and height)."""
    xs, ys = [p[0] for p in polygon], [p[1] for p in polygon]
    return min(xs), min(ys), max(xs), max(ys)


class RegionDetector(DetectorPass):
    """`detect(frame)` as the wrapped detector, on the frame cut to `region` (x0, y0, x1, y1 as fractions of its width
    and height, widened by `pad` of the frame each side), the boxes given back in the frame's pixels."""

    def __init__(self, detector: Any, region: tuple[float, float, float, float], pad: float = PAD) -> None:
        x0, y0, x1, y1 = region
        if not (0 <= x0 < x1 <= 1 and 0 <= y0 < y1 <= 1):
            raise ValueError(f"region {region} is not a box within the frame (fractions 0-1)")
        self.detector, self.region, self.pad = detector, region, pad

    def window(self, h: int, w: int) -> tuple[int, int, int, int]:
        """The region's box, widened, in the pixels of an h x w frame."""
        x0, y0, x1, y1 = self.region
        return (max(0, int((x0 - self.pad) * w)), max(0, int((y0 - self.pad) * h)),
                min(w, int(np.ceil((x1 + self.pad) * w))), min(h, int(np.ceil((y1 + self.pad) * h))))

    def detect(self, frame: np.ndarray) -> Detections:
        x0, y0, x1, y1 = self.window(*frame.shape[:2])
        found = self.detector.detect(frame[y0:y1, x0:x1])
        return Detections(found.xyxy + np.array([x0, y0, x0, y0], np.float32), found.conf) if len(found) else found
