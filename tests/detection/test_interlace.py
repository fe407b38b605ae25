"""Interlaced frames: the comb score tells combed plates and frames from progressive ones, one field has no comb,
and a frame combed all over reaches the detector as one field."""
from __future__ import annotations

import cv2
import numpy as np

from detection.detections import Detections
from detection.interlace import InterlacedFrameDetector, comb_score, for_interlaced_frames, frame_comb_score, one_field
from ocr.augment import comb


def plate() -> np.ndarray:
    """A 72 x 260 white plate with a black rim and text on grey: a progressive camera's crop."""
    img = np.full((72, 260, 3), 90, np.uint8)
    cv2.rectangle(img, (6, 6), (253, 65), (255, 255, 255), -1)
    cv2.rectangle(img, (6, 6), (253, 65), (0, 0, 0), 2)
    cv2.putText(img, "AB123CD", (20, 54), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 4)
    return img


def frame() -> np.ndarray:
    """A 360 x 640 frame: a light-grey ramp with the plate on it."""
    f = np.tile(np.linspace(60, 200, 640, dtype=np.float32)[None, :, None], (360, 1, 3)).astype(np.uint8)
    f[150:222, 190:450] = plate()
    return f


def test_comb_score_tells_an_interlaced_plate_from_a_progressive_one():
    p = plate()
    combed = comb(p, 6, 1)  # the odd rows 6 px along: 2.3 % of the width
    assert comb_score(p) < 0.8 < 1.0 < comb_score(combed)
    assert comb_score(one_field(combed)) < 0.8  # one field has no comb
    assert one_field(combed).shape == combed.shape
    assert np.array_equal(one_field(combed), one_field(p))  # made of the even rows, which the comb left in place
    assert comb_score(p[:10]) == 0.0  # too few rows to tell
    assert comb_score(np.zeros((40, 40, 3), np.uint8)) == 0.0  # flat


def test_a_frame_combed_all_over_reaches_the_detector_as_one_field():
    seen = []

    class Fake:
        weights = "w.pt"

        def detect(self, f):
            seen.append(f)
            return Detections()

    clean, combed = frame(), comb(frame(), 4, 1)
    assert frame_comb_score(clean) < 0.8 < 1.0 < frame_comb_score(combed)
    d = for_interlaced_frames(Fake(), 1.0)
    assert isinstance(d, InterlacedFrameDetector) and d.weights == "w.pt"
    d.detect(clean)
    d.detect(combed)
    assert seen[0] is clean  # a progressive frame as it came
    assert seen[1].shape == combed.shape and frame_comb_score(seen[1]) < 0.8
    assert np.array_equal(seen[1], one_field(clean))
    assert isinstance(for_interlaced_frames(Fake(), 0.0), Fake)  # off


def test_one_field_keeps_the_even_rows_and_the_score_needs_12_rows():
    striped = np.random.default_rng(0).integers(0, 20, (12, 8)).astype(np.uint8)  # some texture: the fields differ
    striped[1::2] += 200  # odd rows bright: the even field is dark
    assert one_field(striped).max() < 20 and one_field(np.dstack([striped] * 3)).shape == (12, 8, 3)
    assert comb_score(striped) > 1 and comb_score(np.dstack([striped] * 3)) == comb_score(striped)
    assert comb_score(striped[:11]) == 0.0  # too few rows to tell


def test_a_frame_scoring_exactly_above_is_seen_as_one_field():
    frame = np.zeros((48, 64, 3), np.uint8)
    frame[1::2, :32] = 200
    frame[::3, 32:] = 90  # some texture in the same field, so the score is finite
    seen = []
    fake = type("Fake", (), {"detect": lambda self, f: seen.append(int(f[1, 0, 0])) or Detections()})()
    score = frame_comb_score(frame)
    InterlacedFrameDetector(fake, score).detect(frame)
    InterlacedFrameDetector(fake, score + 1e-3).detect(frame)
    assert seen == [0, 200]  # at the bound: the even field; above it: the frame as it is
