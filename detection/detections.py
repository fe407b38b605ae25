"""The array-backed detection result that leaves the detection package (no ultralytics types)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np

from detection.metrics import intersection_matrix


@dataclass(frozen=True)
class Detections:
    """Plates in one frame: xyxy (N x 4 float32, frame pixels) and conf (N float32)."""

    xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    conf: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))

    def __post_init__(self) -> None:
        if self.xyxy.shape != (len(self.conf), 4):
            raise ValueError(f"xyxy shape {self.xyxy.shape} does not match {len(self.conf)} confidences")

    def __len__(self) -> int:
        return len(self.conf)

    def filter(self, keep: np.ndarray) -> "Detections":
        return Detections(self.xyxy[keep], self.conf[keep])

    def drop_contained(self, max_overlap: float) -> "Detections":
        """Drop a box when more than `max_overlap` of its area lies inside a more confident box, or when it holds
        more than `max_overlap` of a more confident box: plates never nest, so such a box is a partial or a loose
        detection of the same plate (NMS misses both: their IoU is small)."""
        if len(self) < 2 or max_overlap >= 1:
            return self
        order = np.argsort(-self.conf, kind="stable")
        b = self.xyxy[order].astype(np.float64)
        area = np.clip(b[:, 2] - b[:, 0], 0, None) * np.clip(b[:, 3] - b[:, 1], 0, None)
        inside = intersection_matrix(b, b) / np.maximum(area, 1e-9)[:, None]  # [i, j]: share of i inside j
        keep = np.ones(len(b), bool)
        for i in range(1, len(b)):
            kept = keep[:i]
            keep[i] = not ((inside[i, :i][kept] > max_overlap).any() or (inside[:i, i][kept] > max_overlap).any())
        return self.filter(np.sort(order[keep]))


class DetectorPass:
    """Base of the detectors that wrap another (tiles, the zoomed-out look, the exposure stretch): the attributes a
    pass lacks (`weights`, `gray`, ...) are those of the detector named by `inner`, and a list of frames is detected
    one by one with the pass's own `detect`."""

    inner = "detector"

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__[self.inner], name)

    def detect(self, frame: np.ndarray) -> Detections:
        raise NotImplementedError

    def __call__(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        return [self.detect(f) for f in frames]
