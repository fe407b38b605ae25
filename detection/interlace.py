"""Interlaced frames: an interlaced camera exposes a frame's even and odd rows (its two fields) apart in time, so
whatever moves comes out with its fields moved apart along the rows, a comb on every vertical edge. `comb_score`
measures how much an image's rows alternate: the second difference of neighbouring rows, which a comb makes large,
against that of rows two apart, which lie in the same field. A progressive camera's plate or frame scores ~0.3-0.8;
fields 2 % of a plate's width apart, or a whole frame's 4 px apart, score over 1. `one_field` de-interlaces by
keeping the even rows, line-doubled: half the height's detail, no comb.

A moving camera (an in-car ALPR camera) combs the whole frame, and the detector, which never saw a comb, then finds
fewer plates; `for_interlaced_frames` hands it such frames as one field. A fixed camera combs only what moves, and
the frame as a whole scores as a progressive one: there the crops' own de-interlacing (pipeline/crops.py) reads the
combed plates.
"""
from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from detection.detections import DetectorPass, Detections

FRAME_STEP = 16  # a frame's comb is measured on every 16th column (the comb runs along the rows): ~0.3 ms at 720p


def comb_score(img: np.ndarray) -> float:
    """How much `img`'s rows alternate: mean |row - mean of its neighbours| over mean |row - mean of the rows two
    away| (0 for fewer than 12 rows or a flat image)."""
    g = cv2.cvtColor(img, cv2.COLOR_BGR2GRAY) if img.ndim == 3 else img
    if g.shape[0] < 12:
        return 0.0
    g = g.astype(np.float32)
    near = np.abs(g[2:-2] - 0.5 * (g[1:-3] + g[3:-1])).mean()
    far = np.abs(g[2:-2] - 0.5 * (g[:-4] + g[4:])).mean()
    return float(near / far) if far > 0 else 0.0


def one_field(img: np.ndarray) -> np.ndarray:
    """`img` de-interlaced by keeping its even rows, line-doubled back to its size."""
    h, w = img.shape[:2]
    return cv2.resize(img[0::2], (w, h), interpolation=cv2.INTER_LINEAR)


def frame_comb_score(frame: np.ndarray) -> float:
    """`comb_score` of a whole frame, on every `FRAME_STEP`th column."""
    return comb_score(np.ascontiguousarray(frame[:, ::FRAME_STEP]))


class InterlacedFrameDetector(DetectorPass):
    """`detect(frame)` of the wrapped detector, on `one_field(frame)` when the frame's `frame_comb_score` reaches
    `above`; the boxes are in the frame's coordinates either way (the field is line-doubled back to its size)."""

    def __init__(self, detector: Any, above: float) -> None:
        self.detector, self.above = detector, above

    def detect(self, frame: np.ndarray) -> Detections:
        combed = frame_comb_score(frame) >= self.above
        return self.detector.detect(one_field(frame) if combed else frame)


def for_interlaced_frames(detector: Any, above: float) -> Any:
    """`detector` wrapped to see frames combed all over as one field; itself when `above` is 0."""
    return InterlacedFrameDetector(detector, above) if above > 0 else detector
