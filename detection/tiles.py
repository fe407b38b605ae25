"""Tiled detection for high-resolution still photos: plates too small for the whole-image pass at `imgsz`.

A 4000 x 3000 photo shrunk to 640 px makes a 120 px plate 19 px wide, smaller than the detector was trained on.
`TiledDetector` runs the wrapped detector on the whole image and on overlapping tiles of `tile` pixels (each
shrunk about as much as a 1280 x 720 frame is), in one batched call, and merges the boxes. A box that touches a
tile's inner edge is a cut plate and is dropped: the overlap (or the whole-image pass) holds it whole.
"""
from __future__ import annotations

import math
from typing import Any, Sequence

import cv2
import numpy as np

from detection.detections import DetectorPass, Detections

EDGE_PX = 2.0  # a tile's box within this of an inner tile edge is a cut plate
TILE_ABOVE = 1.5  # images whose long side exceeds this many tiles are tiled (at 1280: over 1920 px, shrunk 3x+ to 640)


def tile_origins(size: int, tile: int, overlap: float) -> list[int]:
    """Start offsets of tiles of `tile` px covering `size` px, neighbours overlapping by at least `overlap`."""
    if size <= tile:
        return [0]
    step = max(1, int(tile * (1 - overlap)))
    n = math.ceil((size - tile) / step) + 1
    return [round(i * (size - tile) / (n - 1)) for i in range(n)]


def merge(dets: Sequence[Detections], iou: float, max_overlap: float) -> Detections:
    """One set of boxes from several passes (at least one) over one image: NMS at `iou`, then nested boxes dropped."""
    boxes = Detections(np.concatenate([d.xyxy for d in dets]), np.concatenate([d.conf for d in dets]))
    if len(boxes) < 2:
        return boxes
    xywh = np.column_stack([boxes.xyxy[:, :2], boxes.xyxy[:, 2:] - boxes.xyxy[:, :2]]).tolist()
    keep = np.sort(np.asarray(cv2.dnn.NMSBoxes(xywh, boxes.conf.tolist(), 0.0, iou), np.int64).reshape(-1))
    return boxes.filter(keep).drop_contained(max_overlap)


class TiledDetector(DetectorPass):
    """`detect(frame)` (and `detector(frames)`) as the wrapped detector, with images whose long side exceeds
    `TILE_ABOVE * tile` also searched in overlapping tiles; smaller ones go straight to the wrapped `detect`."""

    def __init__(self, detector: Any, tile: int, overlap: float = 0.2, iou: float = 0.5,
                 max_overlap: float = 0.6) -> None:
        if tile < 64:
            raise ValueError(f"tile must be at least 64 px, got {tile}")
        self.detector, self.tile, self.overlap = detector, tile, overlap
        self.iou, self.max_overlap = iou, max_overlap

    def windows(self, h: int, w: int) -> list[tuple[int, int, int, int]]:
        """(x0, y0, x1, y1) of the tiles of an h x w image; [] when it is small enough for one pass."""
        if max(h, w) <= TILE_ABOVE * self.tile:
            return []
        xs, ys = tile_origins(w, self.tile, self.overlap), tile_origins(h, self.tile, self.overlap)
        return [(x, y, min(x + self.tile, w), min(y + self.tile, h)) for y in ys for x in xs]

    def detect(self, frame: np.ndarray) -> Detections:
        h, w = frame.shape[:2]
        wins = self.windows(h, w)
        if not wins:
            return self.detector.detect(frame)
        images = [frame] + [frame[y0:y1, x0:x1] for x0, y0, x1, y1 in wins]
        # one batched call where the detector takes lists (PlateDetector), else the `detect` of the Detector protocol
        found = self.detector(images) if callable(self.detector) else [self.detector.detect(i) for i in images]
        parts = [found[0]]
        for (x0, y0, x1, y1), d in zip(wins, found[1:]):
            if not len(d):
                continue
            b = d.xyxy + np.array([x0, y0, x0, y0], np.float32)
            cut = (((b[:, 0] <= x0 + EDGE_PX) & (x0 > 0)) | ((b[:, 1] <= y0 + EDGE_PX) & (y0 > 0))
                   | ((b[:, 2] >= x1 - EDGE_PX) & (x1 < w)) | ((b[:, 3] >= y1 - EDGE_PX) & (y1 < h)))
            parts.append(Detections(b[~cut], d.conf[~cut]))
        return merge(parts, self.iou, self.max_overlap)

