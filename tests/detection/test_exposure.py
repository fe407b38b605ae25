"""Frames dark all over are stretched in contrast for the detector; others reach it as they are."""
from __future__ import annotations

import numpy as np
import pytest

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


def test_stretch_levels_maps_lo_to_0_and_hi_to_255_linearly():
    from detection.exposure import stretch_levels

    levels = np.array([[40, 50, 75, 100, 120]], np.uint8)
    assert stretch_levels(levels, 50, 100).tolist() == [[0, 0, 127, 255, 255]]


def halves(a: int, b: int) -> np.ndarray:
    """A greyscale frame, half at level a and half at b: its 1st percentile is a, its 99th b."""
    img = np.full((200, 200), a, np.uint8)
    img[:, 100:] = b
    return img


@pytest.mark.parametrize("a, b, dark_below, pale_above, stretched", [
    (20, 60, 61, 0, True), (20, 60, 60, 0, False),  # the 99th percentile under dark_below, strictly
    (20, 28, 100, 0, True), (20, 27, 100, 0, False),  # a range of 8 grey levels at least
    (150, 220, 0, 149, True), (150, 220, 0, 150, False),  # the 1st percentile over pale_above, strictly
    (150, 220, 100, 0, False),  # pale, but pale frames not asked for
])
def test_dark_and_pale_bounds(a, b, dark_below, pale_above, stretched):
    frame = halves(a, b)
    out = dark_stretch(frame, dark_below, pale_above)
    assert (out is not frame) == stretched
    if stretched:
        assert (int(out.min()), int(out.max())) == (0, 255)


def test_the_percentiles_leave_out_the_brightest_and_darkest_one_percent():
    frame = halves(20, 60)
    frame[:6, :] = 250  # 4 % of the pixels sampled (every 4th of every 4th row) at 250: the 99th percentile is lit
    assert dark_stretch(frame, 100) is frame
    frame = halves(20, 60)
    frame[0, :40] = 250  # 0.4 %: left out, the frame is dark
    assert dark_stretch(frame, 100)[0, 150] == 255


def test_the_wrapper_only_when_asked():
    fake = object()
    assert for_dark_frames(fake, 0, 0) is fake
    assert isinstance(for_dark_frames(fake, 0, 120), DarkFrameDetector)
    assert isinstance(for_dark_frames(fake, 100, 0), DarkFrameDetector)
