"""Cutting plates from frames: margin and clipping, the roll of a rolled plate, and cutting it level; an interlaced
plate read from one field."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from detection.detections import Detections
from detection.interlace import comb_score
from ocr.augment import comb
from ocr.recognizer import PlateRead
from pipeline.crops import CropSpec, crop_box, cut_plate, level_size, one_row_view, plate_roll, stretch_contrast
from pipeline.orchestrator import read_image


def rolled_plate(angle: float) -> tuple[np.ndarray, np.ndarray]:
    """A 400 x 300 grey frame holding a 240 x 60 plate (black characters on white) turned by `angle` degrees
    counter-clockwise about the frame's centre; returns the frame and the plate's bounding box."""
    plate = np.full((60, 240, 3), 255, np.uint8)
    cv2.rectangle(plate, (1, 1), (238, 58), (0, 0, 0), 2)
    cv2.putText(plate, "AB123CD", (14, 46), cv2.FONT_HERSHEY_SIMPLEX, 1.5, (0, 0, 0), 4)
    frame = np.full((300, 400, 3), 90, np.uint8)
    frame[120:180, 80:320] = plate
    m = cv2.getRotationMatrix2D((200, 150), angle, 1.0)
    frame = cv2.warpAffine(frame, m, (400, 300), borderValue=(90, 90, 90))
    corners = np.array([[80, 120, 1], [320, 120, 1], [80, 180, 1], [320, 180, 1]], np.float64) @ m.T
    return frame, np.array([*corners.min(0), *corners.max(0)], np.float32)


def test_crop_box_margin_and_clipping():
    img = np.zeros((100, 100, 3), np.uint8)
    assert crop_box(img, np.array([10, 10, 30, 20]), 0.5).shape == (20, 40, 3)
    assert crop_box(img, np.array([-5, 90, 30, 120]), 0.0).shape == (10, 30, 3)
    assert crop_box(img, np.array([10, -5, 30, 20]), 0.0).shape == (20, 20, 3)


@pytest.mark.parametrize("box, shape, wbox", [
    ((100, 51, 140, 61), (32, 121), (40, 11, 80, 21)),  # a box's size each side, from the even row above
    ((5, 3, 45, 13), (24, 86), (5, 3, 45, 13)),  # clipped at the frame's top left
    ((360, 280, 399, 299), (40, 79), (39, 20, 78, 39))])  # and at its bottom right
def test_field_window_is_the_frame_around_the_box_from_an_even_row(box, shape, wbox):
    from pipeline.crops import field_window

    img = np.random.default_rng(0).integers(0, 256, (300, 400, 3), dtype=np.uint8)
    window, where = field_window(img, np.array(box, np.float32))
    assert window.shape[:2] == shape and where.tolist() == list(wbox)


@pytest.mark.parametrize("angle", [-20.0, -12.0, -4.5, 0.0, 1.0, 2.5, 7.0, 8.5, 13.5, 15.0, 25.0])
def test_plate_roll_finds_the_turn_that_levels_the_plate(angle):
    """To the half degree: 3-degree steps, then half-degree steps within 2 degrees of the best."""
    frame, box = rolled_plate(angle)
    assert plate_roll(crop_box(frame, box, 0.06)) == pytest.approx(-angle, abs=0.01)


def test_plate_roll_leaves_a_blank_crop_and_stays_within_its_range():
    blank = np.full((20, 60, 3), 90, np.uint8)
    assert plate_roll(blank) == 0.0  # every turn equally sharp: the least is kept
    stripes = np.zeros((50, 1, 3), np.uint8)
    stripes[::4] = 255
    assert plate_roll(stripes) == plate_roll(stripes.transpose(1, 0, 2)) == 0.0  # a crop 1 px wide or high
    frame, box = rolled_plate(-29)
    assert -30.0 <= plate_roll(crop_box(frame, box, 0.06)) <= 30.0


def test_level_size_undoes_the_bounding_box():
    t = math.radians(15)
    w, h = 240 * math.cos(t) + 60 * math.sin(t), 240 * math.sin(t) + 60 * math.cos(t)
    assert level_size(w, h, 15) == pytest.approx((240, 60), abs=0.5)
    assert level_size(200, 100, 0) == (200, 100)


def test_cut_plate_levels_a_rolled_plate_and_leaves_a_level_one():
    frame, box = rolled_plate(18)
    assert cut_plate(frame, box, 0.06, 0).shape == crop_box(frame, box, 0.06).shape  # off: the plain cut
    level = cut_plate(frame, box, 0.06, 4)
    assert abs(plate_roll(level)) <= 1.0
    h, w = level.shape[:2]
    assert w == pytest.approx(240 * 1.12, abs=6) and h == pytest.approx(60 * 1.12, abs=6)
    upright, ubox = rolled_plate(0)
    np.testing.assert_array_equal(cut_plate(upright, ubox, 0.06, 4), crop_box(upright, ubox, 0.06))
    # and it holds the plate, as the upright plate's cut does (13.7 grey levels apart; cut 5 px off centre: 80)
    ref = crop_box(upright, ubox, 0.06)
    assert np.abs(cv2.resize(level, ref.shape[1::-1]).astype(float) - ref).mean() < 25


def test_read_image_reads_the_level_cut(function_recognizer):
    frame, box = rolled_plate(20)
    seen = []

    class Det:
        def detect(self, f):
            return Detections(box[None], np.array([0.9], np.float32))

    def read(crops):
        seen.extend(c.shape[:2] for c in crops)
        return [PlateRead("AB123CD", 0.9, (0.9,) * 7)] * len(crops)

    rec = function_recognizer(read)
    assert [r.text for r in read_image(frame, Det(), rec, CropSpec(0.06, deskew_min_deg=8))] == ["AB123CD"]
    read_image(frame, Det(), rec, CropSpec(0.06, deskew_min_deg=0))
    (lh, lw), (h, w) = seen
    assert lw == pytest.approx(240 * 1.12, abs=6) and lh == pytest.approx(60 * 1.12, abs=6)
    assert (h, w) == crop_box(frame, box, 0.06).shape[:2]


def test_one_row_view_only_for_crops_read_as_two_rows():
    crop = np.zeros((80, 100, 3), np.uint8)
    assert one_row_view(crop, 1) is None
    assert one_row_view(crop, 2).shape == (80, 250, 3)  # 200 / 64 as wide as high: read as one row


@pytest.mark.parametrize("one_row_conf, both_ways, expected", [(0.9, True, "ONEROW"), (0.2, True, "TWO"),
                                                              (0.9, False, "TWO")])
def test_a_narrow_crop_is_also_read_as_one_row_and_the_surer_read_kept(one_row_conf, both_ways, expected,
                                                                        function_recognizer):
    frame = np.zeros((200, 300, 3), np.uint8)

    class Det:
        def detect(self, f):
            return Detections(np.array([[50, 50, 150, 130]], np.float32), np.array([0.9], np.float32))

    def rows(c):  # narrow crops are read as two rows; a crop widened to be read as one row gives ONEROW
        return 2 if c.shape[1] < 1.5 * c.shape[0] else 1

    rec = function_recognizer(lambda crops: [PlateRead("ONEROW", one_row_conf, ()) if rows(c) == 1
                                             else PlateRead("TWO", 0.5, ()) for c in crops], rows)
    reads = read_image(frame, Det(), rec, CropSpec(0.0, both_ways=both_ways))
    assert [r.text for r in reads] == [expected]


def test_stretch_contrast_only_for_dim_crops():
    dim = np.full((20, 60, 3), 20, np.uint8)
    dim[5:15, 10:50] = 50  # 30 grey levels of contrast
    out = stretch_contrast(dim, 60)
    assert out.min() == 0 and out.max() == 255
    bright = dim * 4  # 120 grey levels: left as it is
    assert stretch_contrast(bright, 60) is bright
    assert stretch_contrast(dim, 0) is dim  # off
    flat = np.full((20, 60, 3), 30, np.uint8)
    assert stretch_contrast(flat, 60) is flat  # nothing to stretch


@pytest.mark.parametrize("views, expected, n_read", [(True, "B", 5), (False, "A", 1)])
def test_read_views_fuses_a_crop_read_trimmed_and_padded(views, expected, n_read, width_recognizer):
    class Det:
        def detect(self, f):
            return Detections(np.array([[50, 50, 150, 90]], np.float32), np.array([0.9], np.float32))

    rec = width_recognizer()  # the 100-px crop as cut reads A weakly; trimmed or padded sideways, B surely
    reads = read_image(np.zeros((200, 300, 3), np.uint8), Det(), rec, CropSpec(0.0, views=views))
    assert [r.text for r in reads] == [expected] and len(rec.seen) == n_read


def test_read_views_applies_to_stills_video_or_neither():
    from pipeline.config import PipelineConfig
    from pipeline.settings import crop_spec

    on = {s: (crop_spec(PipelineConfig(read_views=s), video=False).views,
              crop_spec(PipelineConfig(read_views=s), video=True).views) for s in ("stills", "always", "never")}
    assert on == {"stills": (True, False), "always": (True, True), "never": (False, False)}


def test_read_views_and_both_ways_together_read_each_view_and_the_one_row_view(width_recognizer):
    from types import SimpleNamespace

    class Narrow(width_recognizer):  # crops narrower than 1.5 x their height are read as two rows
        cfg = SimpleNamespace(alphabet="AB", two_row_aspect=1.5)

        def rows(self, crop):
            return 2 if crop.shape[1] < 1.5 * crop.shape[0] else 1

    class Det:
        def detect(self, f):
            return Detections(np.array([[50, 50, 110, 100]], np.float32), np.array([0.9], np.float32))

    rec = Narrow()
    reads = read_image(np.zeros((200, 300, 3), np.uint8), Det(), rec, CropSpec(0.0, both_ways=True, views=True))
    assert [r.text for r in reads] == ["B"]
    assert rec.seen == [(50, 60), (50, 56), (50, 64), (44, 60), (56, 60), (50, 156)]  # five views, then one row


def test_field_cut_cuts_an_interlaced_plate_from_one_field_and_leaves_a_progressive_one():
    frame, box = rolled_plate(0.0)
    combed = comb(frame, 6, 1)
    spec = CropSpec(0.06, deinterlace_above=1.0)
    plain, field = spec.cut(combed, box), spec.field_cut(combed, box)
    assert field.shape == plain.shape and comb_score(plain) > 1.0 > 0.7 > comb_score(field)
    # its rows are the frame's even rows (those the comb left in place), line-doubled
    assert np.abs(field[::2].astype(int) - crop_box(frame, box, 0.06)[::2]).mean() < 8
    assert spec.field_cut(frame, box) is None  # a progressive plate: no second cut
    assert CropSpec(0.06).field_cut(combed, box) is None  # off
    rolled, rbox = rolled_plate(15.0)  # de-interlaced, then levelled: as the progressive plate is
    level = CropSpec(0.06, deskew_min_deg=8, deinterlace_above=1.0).field_cut(comb(rolled, 6, 1), rbox)
    assert comb_score(level) < 0.7 and plate_roll(level) == pytest.approx(0.0, abs=1.5)


@pytest.mark.parametrize("field_conf, above, expected, n_read", [(0.9, 1.0, "FIELD", 2), (0.2, 1.0, "COMB", 2),
                                                                 (0.9, 0.0, "COMB", 1)])
def test_an_interlaced_plate_is_also_read_from_one_field_and_the_surer_read_kept(field_conf, above, expected,
                                                                                 n_read, function_recognizer):
    frame, box = rolled_plate(0.0)

    class Det:
        def detect(self, f):
            return Detections(box[None], np.array([0.9], np.float32))

    seen = []

    def read(crops):
        seen.extend(crops)
        return [PlateRead("COMB", 0.5, ()) if comb_score(c) > 1 else PlateRead("FIELD", field_conf, ())
                for c in crops]

    rec = function_recognizer(read)
    assert [r.text for r in read_image(comb(frame, 6, 1), Det(), rec, CropSpec(0.06, deinterlace_above=above))] \
        == [expected]
    assert len(seen) == n_read
    seen.clear()
    assert [r.text for r in read_image(frame, Det(), rec, CropSpec(0.06, deinterlace_above=above))] == ["FIELD"]
    assert len(seen) == 1  # a progressive plate is read once


def test_an_interlaced_plate_crop_is_read_from_one_field_too_in_crops_mode(tmp_path, function_recognizer):
    from pipeline.app import run_images
    from pipeline.settings import load_configs

    frame, box = rolled_plate(0.0)
    plate = crop_box(frame, box, 0.06)
    (tmp_path / "in").mkdir()
    cv2.imwrite(str(tmp_path / "in" / "combed.png"), comb(plate, 6, 1))
    cv2.imwrite(str(tmp_path / "in" / "plain.png"), plate)
    seen = []

    def read(crops):
        seen.extend(crops)
        return [PlateRead("COMB", 0.5, ()) if comb_score(c) > 1 else PlateRead("CLEAN", 0.9, ()) for c in crops]

    rec = function_recognizer(read)
    for above, expected, n_read in (("1.0", "CLEAN", 3), ("0", "COMB", 2)):
        seen.clear()
        cfgs = load_configs("configs", [f"output_dir={tmp_path / 'out'}", f"deinterlace_above={above}"])
        res = run_images(str(tmp_path / "in"), cfgs, crops_only=True, recognizer=rec)
        assert {name: r[0]["text"] for name, r in res["reads"]} == {"combed.png": expected, "plain.png": "CLEAN"}
        assert len(seen) == n_read  # the plain crop is read once either way


@pytest.mark.parametrize("box", [[0, 0, 120, 31], [281, 269, 400, 300], [3.5, 121.0, 397.0, 155.5]])
def test_field_cut_at_the_frame_edges_has_the_plain_cut_s_shape(box):
    rng = np.random.default_rng(1)
    frame = comb(cv2.GaussianBlur(rng.integers(0, 255, (300, 400, 3), dtype=np.uint8), (5, 5), 0), 6, 1)
    spec = CropSpec(0.06, deinterlace_above=1.0)
    b = np.array(box, np.float32)
    plain, field = spec.cut(frame, b), spec.field_cut(frame, b)
    assert comb_score(plain) > 1.0 and field is not None and field.shape == plain.shape


@pytest.mark.parametrize("at, stopped", [(1, True), (4, False)])
def test_a_folder_of_images_stops_after_the_image_in_hand_and_keeps_what_it_read(tmp_path, function_recognizer, at,
                                                                                  stopped):
    """Ctrl-C sets the run's stop event: the folder ends there, the reads so far written, the summary says so (not
    when it came while the last image was read: the folder was read whole, an unreadable image too)."""
    import json
    import threading

    from pipeline.app import run_images
    from pipeline.settings import load_configs

    (tmp_path / "in").mkdir()
    for i in range(4):
        cv2.imwrite(str(tmp_path / "in" / f"{i}.png"), np.full((40, 120, 3), 60 * i, np.uint8))
    (tmp_path / "in" / "-broken.png").write_bytes(b"not a png")  # first in the folder: skipped, and counted
    stop, n = threading.Event(), []

    def read(crops):
        n.append(1)
        if len(n) == at:
            stop.set()  # Ctrl-C while this image is read
        return [PlateRead("AB123", 0.9, ()) for _ in crops]

    cfgs = load_configs("configs", [f"output_dir={tmp_path / 'out'}"])
    res = run_images(str(tmp_path / "in"), cfgs, crops_only=True, recognizer=function_recognizer(read), stop=stop)
    assert (res["images"], res["skipped"], res["stopped"]) == (at, ["-broken.png"], stopped)
    lines = [json.loads(x) for x in (tmp_path / "out" / "in" / "reads.jsonl").read_text().splitlines()]
    assert [x["source"] for x in lines] == [f"{i}.png" for i in range(at)]


def test_a_crop_lower_than_min_height_or_narrower_than_2_px_is_not_read():
    img = np.zeros((100, 200, 3), np.uint8)
    spec = CropSpec(margin=0.0, min_height=8)
    assert spec.cut(img, np.array([10, 10, 60, 18], np.float32)).shape == (8, 50, 3)
    assert spec.cut(img, np.array([10, 10, 60, 17], np.float32)) is None
    assert spec.cut(img, np.array([10, 10, 12, 40], np.float32)).shape == (30, 2, 3)
    assert spec.cut(img, np.array([10, 10, 11, 40], np.float32)) is None


def test_a_roll_beyond_the_search_range_is_not_followed():
    """Rolls are searched within +-30 degrees (MAX_DEG): a plate rolled 40 degrees is turned 30 at most."""
    frame, box = rolled_plate(40)
    assert -30.0 <= plate_roll(crop_box(frame, box, 0.06)) <= -25.0
    frame, box = rolled_plate(40)
    assert plate_roll(crop_box(frame, box, 0.06), max_deg=45) == pytest.approx(-40, abs=1.5)


def test_level_size_keeps_the_level_plate_within_half_the_width_and_0_4_to_1_of_the_height():
    assert level_size(100, 90, 30) == pytest.approx((83.2, 55.9), abs=0.1)  # the exact answer, within bounds
    assert level_size(60, 100, 30) == pytest.approx((30, 100))  # 4 x 113 exactly: held to half the width and to h
    assert level_size(100, 30, 30) == pytest.approx((143.2, 12), abs=0.01)  # -48 high exactly: held to 0.4 of it
    assert level_size(100, 50, 45) == (100, 50)  # near 45 degrees the exact answer is unstable: the box as it is


@pytest.mark.parametrize("low, high, below, stretched", [(20, 28, 60, True), (20, 27, 60, False),
                                                         (20, 79, 60, True), (20, 80, 60, False)])
def test_stretch_contrast_bounds(low, high, below, stretched):
    """A crop is stretched when its luminance spans 8 grey levels or more and fewer than `below`."""
    crop = np.full((20, 60, 3), low, np.uint8)
    crop[:, 30:] = high
    out = stretch_contrast(crop, below)
    assert (out is not crop) == stretched
    if stretched:
        assert (out.min(), out.max()) == (0, 255)
    gray = crop[:, :, 0].copy()  # a grey crop as well
    out = stretch_contrast(gray, below)
    assert out.shape == (20, 60) and (out is not gray) == stretched


def test_stretch_contrast_reads_luminance_between_the_1st_and_99th_percentiles():
    """Glints and specks (0.5 % of the pixels each way) do not count; a colour crop is judged by its luminance (red
    and blue of 200 are 60 and 23 grey levels)."""
    crop = np.full((20, 100, 3), 100, np.uint8)
    crop[:, 50:] = 120
    crop[0, :10], crop[1, :10] = 0, 255
    assert stretch_contrast(crop, 60) is not crop
    crop = np.zeros((20, 60, 3), np.uint8)
    crop[:, :30], crop[:, 30:] = (0, 0, 200), (200, 0, 0)
    assert stretch_contrast(crop, 60) is not crop


def test_a_box_outside_the_frame_cuts_nothing_to_read_even_stretched():
    img = np.full((100, 100, 3), 50, np.uint8)
    assert stretch_contrast(np.zeros((0, 5, 3), np.uint8), 60).shape == (0, 5, 3)
    assert CropSpec(stretch_below=60, deskew_min_deg=4).cut(img, np.array([150, 150, 200, 180], np.float32)) is None


@pytest.mark.parametrize("min_deg, levelled", [(7.0, True), (7.5, False)])
def test_a_plate_rolled_exactly_min_deg_is_cut_level(min_deg, levelled):
    frame, box = rolled_plate(7)
    assert (cut_plate(frame, box, 0.06, min_deg).shape != crop_box(frame, box, 0.06).shape) == levelled


def test_crop_spec_defaults_are_the_shipped_cut_with_every_extra_off():
    from dataclasses import replace

    from pipeline.config import PipelineConfig
    from pipeline.settings import crop_spec

    shipped = crop_spec(PipelineConfig(), video=True)
    assert CropSpec() == replace(shipped, deskew_min_deg=0.0, stretch_below=0.0, both_ways=False, views=False,
                                 deinterlace_above=0.0)

