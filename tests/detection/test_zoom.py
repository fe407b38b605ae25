"""The zoomed-out look at stills that are all plate; the detector passes for stills and video as the config builds
them."""
from __future__ import annotations

import cv2
import numpy as np
import pytest

from common.config import load_config
from common.errors import UserError
from detection.config import DetectorConfig
from detection.detections import Detections
from detection.exposure import DarkFrameDetector
from detection.interlace import InterlacedFrameDetector
from detection.passes import for_stills, for_video
from detection.tiles import TiledDetector
from detection.zoom import CANVAS_GREY, ZoomOutDetector, zoomed_out


class SizeBoundDetector:
    """Finds the white rectangle of an image only while it is at most 60 % of the image's width (as the detector
    misses a plate larger than those it learnt); counts its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def detect(self, frame):
        self.calls += 1
        ys, xs = np.nonzero(frame[..., 0] == 255)
        if not len(xs) or xs.max() + 1 - xs.min() > 0.6 * frame.shape[1]:
            return Detections()
        box = [xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]
        return Detections(np.array([box], np.float32), np.array([0.8], np.float32))

    def __call__(self, frames):
        return [self.detect(f) for f in frames]


def photo(plate_w: int, w: int = 400, h: int = 200) -> np.ndarray:
    """A dark h x w photo with a white plate plate_w px wide, plate_w / 4 tall, at its centre."""
    img = np.full((h, w, 3), 40, np.uint8)
    ph = plate_w // 4
    x, y = (w - plate_w) // 2, (h - ph) // 2
    img[y:y + ph, x:x + plate_w] = 255
    return img


def test_zoomed_out_canvas_maps_back():
    frame = photo(400)  # all plate
    canvas, scale, x, y = zoomed_out(frame, 2.0, 640)
    assert max(canvas.shape[:2]) == 640 and scale == pytest.approx(640 / 800)
    assert canvas[0, 0, 0] == CANVAS_GREY and canvas.shape[:2] == (320, 640)
    ys, xs = np.nonzero(canvas[..., 0] == 255)
    assert (xs.min() - x) / scale == pytest.approx(0, abs=1.5)
    assert (xs.max() + 1 - x) / scale == pytest.approx(400, abs=1.5)


def test_photo_that_is_all_plate_is_found_zoomed_out():
    det = SizeBoundDetector()
    z = ZoomOutDetector(det, det, factor=2.0, above=0.4, size=640)
    found = z.detect(photo(400))
    assert det.calls == 2 and len(found) == 1
    np.testing.assert_allclose(found.xyxy[0], [0, 50, 400, 150], atol=1.5)  # in the photo's own pixels


def test_small_plate_costs_no_second_pass():
    det = SizeBoundDetector()
    z = ZoomOutDetector(det, det, factor=2.0, above=0.4, size=640)
    found = z.detect(photo(100))
    assert det.calls == 1 and len(found) == 1
    np.testing.assert_allclose(found.xyxy[0], [150, 87, 250, 112])


def test_wide_plate_found_once_after_both_passes():
    det = SizeBoundDetector()
    z = ZoomOutDetector(det, det, factor=2.0, above=0.4, size=640)
    found = z.detect(photo(200))  # 50 % of the width: found by both passes, merged into one box
    assert det.calls == 2 and len(found) == 1


def test_for_stills_follows_config():
    fake = SizeBoundDetector()
    off = dict(dark_below=0, pale_above=0, deinterlace_above=0)
    assert for_stills(fake, DetectorConfig(still_tile=0, still_zoom_out=0, **off)) is fake
    t = for_stills(fake, DetectorConfig(still_zoom_out=0, **off))
    assert isinstance(t, TiledDetector) and t.tile == 1280
    d = for_stills(fake, DetectorConfig(deinterlace_above=0))
    assert isinstance(d, DarkFrameDetector) and (d.dark_below, d.pale_above) == (100, 120)
    z = d.detector
    assert isinstance(z, ZoomOutDetector) and isinstance(z.first, TiledDetector) and z.detector is fake
    assert (z.factor, z.above, z.size) == (2.0, 0.4, 640)
    assert for_video(fake, DetectorConfig(**off)) is fake  # video: the whole frame alone
    v = for_video(fake, DetectorConfig(deinterlace_above=0))
    assert isinstance(v, DarkFrameDetector) and v.detector is fake
    for make in (for_stills, for_video):  # a frame combed all over is de-interlaced first, then stretched
        i = make(fake, DetectorConfig())
        assert isinstance(i, InterlacedFrameDetector) and i.above == 1.0 and isinstance(i.detector, DarkFrameDetector)


def test_detector_config_rejects_passes_out_of_bounds():
    with pytest.raises(UserError, match="detector.still_tile must be 0 .* not 10"):
        DetectorConfig(still_tile=10)
    with pytest.raises(UserError, match="detector.still_zoom_out must be 0 .* not 0.5"):
        DetectorConfig(still_zoom_out=0.5)
    with pytest.raises(UserError, match="detector.still_zoom_above must be within 0-1, not 2"):
        load_config(DetectorConfig, None, ["still_zoom_above=2"])


def test_the_canvas_holds_the_photo_shrunk_at_its_centre():
    frame = photo(100, w=400, h=300)
    canvas, scale, x, y = zoomed_out(frame, 2.5, 500)
    assert scale == pytest.approx(500 / (2.5 * 400)) and canvas.shape == (375, 500, 3)
    assert (x, y) == (150, 112)  # (500 - 200) / 2, (375 - 150) / 2 rounded down
    small = cv2.resize(frame, (200, 150), interpolation=cv2.INTER_AREA)
    np.testing.assert_array_equal(canvas[y:y + 150, x:x + 200], small)
    rest = canvas.copy()
    rest[y:y + 150, x:x + 200] = CANVAS_GREY
    assert (rest == CANVAS_GREY).all()  # grey all round


def test_the_second_pass_is_for_plates_wider_than_above_and_its_boxes_stay_in_the_photo():
    class Fixed:  # the zoomed-out pass finds a box running past the photo's place on the canvas
        def detect(self, frame):
            return Detections(np.array([[100, 60, 300, 200]], np.float32), np.array([0.7], np.float32))

    class First:  # the first pass finds a plate `width` px wide
        width = 160  # exactly 0.4 of the 400 px photo: no second look

        def detect(self, frame):
            return Detections(np.array([[200, 180, 200 + self.width, 190]], np.float32), np.array([0.9], np.float32))

    first = First()
    z = ZoomOutDetector(first, Fixed(), factor=2.0, above=0.4, size=640)
    assert len(z.detect(photo(100))) == 1
    first.width = 161
    found = z.detect(photo(100))  # canvas 640 x 320, the photo at (160, 80) to (480, 240), scale 0.8
    assert found.xyxy.tolist() == [[200.0, 180.0, 361.0, 190.0], [0.0, 0.0, 175.0, 150.0]]  # (-75, -25) clipped
    with pytest.raises(ValueError, match="^factor must be over 1, got 1$"):
        ZoomOutDetector(first, Fixed(), factor=1)
    assert ZoomOutDetector(first, Fixed(), factor=1.01).factor == 1.01
