"""Tiled detection of high-resolution stills: tile layout, cut boxes, merging, and the wiring from config."""
from __future__ import annotations

import numpy as np
import pytest

from detection.detections import Detections
from detection.tiles import TiledDetector, merge, tile_origins

PLATE = (2000.0, 1500.0, 2100.0, 1530.0)  # a 100 px plate in a 4000 x 3000 photo


class ScaleBoundDetector:
    """Finds PLATE only where it is at least 4 % of the image's long side (as a detector at a fixed input size
    misses plates shrunk too far); boxes in the coordinates of the image it is given."""

    def __init__(self, origin_of: dict[int, tuple[int, int]]) -> None:
        self.origin_of = origin_of  # id(image) -> its offset in the photo (the photo itself: (0, 0))
        self.calls: list[int] = []

    def detect(self, frame):
        return self([frame])[0]

    def __call__(self, frames):
        self.calls.append(len(frames))
        out = []
        for f in frames:
            ox, oy = self.origin_of.get(id(f), (0, 0)) if f.base is None else self._offset(f)
            h, w = f.shape[:2]
            x1, y1, x2, y2 = PLATE[0] - ox, PLATE[1] - oy, PLATE[2] - ox, PLATE[3] - oy
            inside = x1 >= 0 and y1 >= 0 and x2 <= w and y2 <= h
            big_enough = (PLATE[2] - PLATE[0]) / max(h, w) >= 0.04
            out.append(Detections(np.array([[x1, y1, x2, y2]], np.float32), np.array([0.9], np.float32))
                       if inside and big_enough else Detections())
        return out

    @staticmethod
    def _offset(view: np.ndarray) -> tuple[int, int]:
        """Offset of a slice `photo[y0:y1, x0:x1]` within its base array."""
        start = view.__array_interface__["data"][0] - view.base.__array_interface__["data"][0]
        row = view.base.strides[0]
        return (start % row) // view.base.strides[1], start // row


def test_tile_origins_cover_with_overlap():
    assert tile_origins(1000, 1280, 0.2) == [0]
    o = tile_origins(4000, 1280, 0.2)
    assert o[0] == 0 and o[-1] == 4000 - 1280
    assert all(b - a <= 1280 * 0.8 for a, b in zip(o, o[1:]))  # neighbours overlap by >= 20 %


def test_only_images_over_one_and_a_half_tiles_are_tiled():
    t = TiledDetector(ScaleBoundDetector({}), 1280)
    assert t.windows(1080, 1920) == [] and t.windows(720, 1280) == []
    assert len(t.windows(1440, 2560)) == 6 and len(t.windows(2160, 3840)) == 8


def test_small_image_goes_straight_through():
    fake = ScaleBoundDetector({})
    img = np.zeros((720, 1280, 3), np.uint8)
    assert len(TiledDetector(fake, 1280).detect(img)) == 0 and fake.calls == [1]  # one pass, no tiles


def test_tiles_find_a_plate_the_whole_image_pass_misses():
    photo = np.zeros((3000, 4000, 3), np.uint8)
    fake = ScaleBoundDetector({id(photo): (0, 0)})
    assert len(fake([photo])[0]) == 0  # 100 / 4000 = 2.5 %: too small for the whole-image pass
    d = TiledDetector(fake, 1280).detect(photo)
    assert len(d) == 1  # found in the tiles holding it whole, merged into one box
    np.testing.assert_allclose(d.xyxy[0], PLATE)


def test_box_on_an_inner_tile_edge_is_dropped_as_cut():
    class EdgeBox:
        def detect(self, f):  # every image: a box touching its right edge (no batched call: `detect` per tile)
            box = np.array([[f.shape[1] - 50, 10, f.shape[1], 40]], np.float32)
            return Detections(box, np.array([0.8], np.float32))

    d = TiledDetector(EdgeBox(), 1280).detect(np.zeros((3000, 4000, 3), np.uint8))
    # only boxes at the photo's own right edge survive: one per row of tiles (the whole-image box merged into the
    # top one)
    assert set(d.xyxy[:, 2].tolist()) == {4000.0} and len(d) == len(tile_origins(3000, 1280, 0.2))


def test_merge_keeps_the_more_confident_of_duplicates():
    a = Detections(np.array([[0, 0, 100, 30]], np.float32), np.array([0.6], np.float32))
    b = Detections(np.array([[2, 1, 101, 31], [500, 500, 600, 530]], np.float32), np.array([0.9, 0.5], np.float32))
    m = merge([a, b], iou=0.5, max_overlap=0.6)
    assert sorted(m.conf.tolist()) == pytest.approx([0.5, 0.9])


def test_each_inner_edge_cuts_within_2_px_and_the_image_s_own_edges_do_not():
    """Every tile gives a box at each of its edges (within EDGE_PX = 2 px), one 3 px in from its left and its right
    edges and one in its middle: boxes at inner tile edges are dropped, those at the image's own edges kept."""
    class Edges:
        def detect(self, f):
            h, w = f.shape[:2]
            if (h, w) == (1000, 2000):
                return Detections()  # the whole-image pass: nothing
            boxes = [[2, 300, 60, 320], [300, 2, 360, 20], [580, 300, w - 2, 320], [300, 600, 360, h - 2],
                     [3, 100, 60, 120], [580, 100, w - 3, 120], [300, 300, 360, 320]]
            return Detections(np.array(boxes, np.float32), np.full(len(boxes), 0.9, np.float32))

    t = TiledDetector(Edges(), 640)
    wins = t.windows(1000, 2000)
    assert wins[0] == (0, 0, 640, 640) and wins[-1] == (1360, 360, 2000, 1000)
    expected = []
    for x0, y0, x1, y1 in wins:
        kept = [(3, 100), (580, 100), (300, 300)]  # 3 px in, and the middle: never cut
        kept += [(2, 300)] * (x0 == 0) + [(300, 2)] * (y0 == 0)  # at the image's left and top
        kept += [(580, 300)] * (x1 == 2000) + [(300, 600)] * (y1 == 1000)  # at its right and bottom
        expected += [(x0 + x, y0 + y) for x, y in kept]
    d = t.detect(np.zeros((1000, 2000, 3), np.uint8))
    assert sorted(map(tuple, d.xyxy[:, :2].tolist())) == sorted(expected)
