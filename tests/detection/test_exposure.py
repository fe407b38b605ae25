"""Frames dark all over are stretched in contrast for the detector; others reach it as they are."""
from __future__ import annotations

import numpy as np

from detection.detections import Detections
from detection.exposure import DarkFrameDetector, dark_stretch, for_dark_frames


def dark_frame() -> np.ndarray:
    """A dim 120 x 200 frame (grey 10) holding a dim plate (grey 50)."""
    f = np.full((120, 200, 3), 10, np.uint8)
    f[50:70, 60:140] = 50
    return f


def test_dark_frame_is_stretched_and_a_lit_one_is_not():
    out = dark_stretch(dark_frame(), 100)
    assert out[0, 0, 0] == 0 and out[60, 100, 0] == 255
    lit = dark_frame()
    lit[0:4, 0:8] = 250  # a lamp, and a lit plate: the 99th percentile is bright
    lit[50:70, 60:140] = 250
    assert dark_stretch(lit, 100) is lit
    flat = np.full((120, 200, 3), 5, np.uint8)
    assert dark_stretch(flat, 100) is flat  # black: nothing to stretch


def test_the_detector_sees_the_stretched_frame():
    seen = []

    class Fake:
        weights = "w.pt"

        def detect(self, frame):
            seen.append(int(frame.max()))
            return Detections()

    d = for_dark_frames(Fake(), 100)
    assert isinstance(d, DarkFrameDetector) and d.weights == "w.pt"
    d.detect(dark_frame())
    assert seen == [255]
    fake = Fake()
    assert for_dark_frames(fake, 0) is fake


def test_pale_frame_is_stretched_only_when_asked():
    pale = np.full((120, 200, 3), 200, np.uint8)
    pale[50:70, 60:140] = 240  # a washed-out plate: even the darkest pixels are light
    assert dark_stretch(pale, 100) is pale  # not dark
    out = dark_stretch(pale, 100, pale_above=120)
    assert out[0, 0, 0] == 0 and out[60, 100, 0] == 255
