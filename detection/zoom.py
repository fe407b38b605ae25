"""A second, zoomed-out look at a still photo: a plate that fills the photo is larger than any the detector learnt.

A photo taken to show a plate (a phone held up to it, a tight gate camera) has the plate running to its edges; the
detector, trained on plates up to ~85 % of a frame's width, then finds nothing or a part of it. When the first pass
finds no plate, or one wider than `above` of the photo, `ZoomOutDetector` looks again at the photo shrunk onto a grey
canvas `factor` times its size (the plate then about half the canvas, as in the close-ups it learnt) and merges
the boxes of both passes. Photos whose plates are all smaller cost nothing more.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from detection.detections import DetectorPass, Detections
from detection.tiles import merge

CANVAS_GREY = 114  # ultralytics' letterbox colour: the detector has seen it around every image


def zoomed_out(frame: np.ndarray, factor: float, size: int) -> tuple[np.ndarray, float, int, int]:
    """`frame` scaled to 1/`factor` of a canvas whose long side is `size` px, centred on grey;
    returns (canvas, scale, x offset, y offset): canvas = frame * scale + offset."""
    h, w = frame.shape[:2]
    scale = size / (factor * max(h, w))
    sw, sh = max(1, round(w * scale)), max(1, round(h * scale))
    small = cv2.resize(frame, (sw, sh), interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
    ch, cw = max(sh, round(h * scale * factor)), max(sw, round(w * scale * factor))
    canvas = np.full((ch, cw) + frame.shape[2:], CANVAS_GREY, frame.dtype)
    x, y = (cw - sw) // 2, (ch - sh) // 2
    canvas[y:y + sh, x:x + sw] = small
    return canvas, scale, x, y


class ZoomOutDetector(DetectorPass):
    """`detect(frame)` (and `detector(frames)`) as the wrapped detector (the first pass), plus a pass over the
    frame zoomed out by `factor` through `detector` (a plain whole-image detector) when the first pass finds no plate or
    one wider than `above` of the frame's width."""

    inner = "first"  # weights, gray, ... are the first pass's

    def __init__(self, first: Any, detector: Any, factor: float = 2.0, above: float = 0.4, size: int = 640,
                 iou: float = 0.5, max_overlap: float = 0.6) -> None:
        if factor <= 1:
            raise ValueError(f"factor must be over 1, got {factor}")
        self.first, self.detector, self.factor, self.above, self.size = first, detector, factor, above, size
        self.iou, self.max_overlap = iou, max_overlap

    def needed(self, found: Detections, width: int) -> bool:
        """Whether the first pass's boxes call for the zoomed-out pass."""
        return not len(found) or float((found.xyxy[:, 2] - found.xyxy[:, 0]).max()) > self.above * width

    def detect(self, frame: np.ndarray) -> Detections:
        found = self.first.detect(frame)
        h, w = frame.shape[:2]
        if not self.needed(found, w):
            return found
        canvas, scale, x, y = zoomed_out(frame, self.factor, self.size)
        more = self.detector.detect(canvas)
        if not len(more):
            return found
        b = (more.xyxy - np.array([x, y, x, y], np.float32)) / scale
        b = np.clip(b, 0, np.array([w, h, w, h], np.float32))
        return merge([found, Detections(b.astype(np.float32), more.conf)], self.iou, self.max_overlap)
