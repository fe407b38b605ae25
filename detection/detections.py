"""The array-backed detection result that leaves the detection package (no ultralytics types)."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


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
