"""Augmentation: a rolled plate stays whole inside its grown canvas, as a detector box frames it; motion blur in
proportion to the crop and to its characters; the infrared and far looks; an interlaced frame's fields moved apart."""
import numpy as np

from ocr.augment import augment, comb, far, infrared, interlace, motion_blur, roll


def _plate_with_corner_marks(h: int = 50, w: int = 200) -> np.ndarray:
    img = np.full((h, w, 3), 255, np.uint8)
    for y, x in ((2, 2), (2, w - 8), (h - 8, 2), (h - 8, w - 8)):
        img[y:y + 6, x:x + 6] = (0, 0, 255)  # red squares in the four corners
    return img


def _red(img: np.ndarray) -> int:
    return int(((img[..., 2] > 200) & (img[..., 1] < 60) & (img[..., 0] < 60)).sum())


def test_roll_grows_canvas_to_rotated_bounding_box_and_keeps_corners() -> None:
    img = _plate_with_corner_marks()
    grown = 0
    for seed in range(5):
        out = roll(img, np.random.default_rng(seed), 10.0)
        ang = np.deg2rad(10.0)
        assert 200 <= out.shape[1] <= round(200 * np.cos(ang) + 50 * np.sin(ang)) + 1
        assert 50 <= out.shape[0] <= round(200 * np.sin(ang) + 50 * np.cos(ang)) + 1
        # every corner mark survives (interpolation softens edges); reflection may copy some at the border
        assert _red(out) >= 0.6 * _red(img)
        grown += out.shape[0] > 55
    assert grown >= 3  # a roll of more than ~1.5 degrees adds rows: the plate is not cut to its old frame


def test_augment_levels_return_uint8_bgr() -> None:
    img = _plate_with_corner_marks()
    for level in ("none", "medium", "heavy", "ir", "far", "motion", "interlaced"):
        out = augment(img, np.random.default_rng(0), level)
        assert out.dtype == np.uint8 and out.ndim == 3 and out.shape[2] == 3


def test_infrared_is_grey_keeps_size_and_dark_strokes_on_a_light_plate() -> None:
    img = np.full((64, 200, 3), (40, 160, 220), np.uint8)  # a yellow plate
    img[16:48, 30:40] = 20  # a dark stroke
    for seed in range(8):
        out = infrared(img, np.random.default_rng(seed))
        assert out.shape == img.shape and out.dtype == np.uint8
        assert (out[..., 0] == out[..., 1]).all() and (out[..., 1] == out[..., 2]).all()  # no colour left
        assert out[16:48, 30:40].mean() < out[:, 100:].mean()  # the character stays darker than the plate


def test_far_keeps_size_but_leaves_only_a_distant_plates_detail() -> None:
    img = np.zeros((100, 400, 3), np.uint8)
    img[:, ::4] = 255  # stripes 4 px apart: resolvable at 400 px, gone at 72 px or less
    for seed in range(6):
        out = far(img, np.random.default_rng(seed))
        assert out.shape == img.shape and out.dtype == np.uint8
        assert out.std() < 0.5 * img.std()  # the fine detail is averaged away
    small = np.random.default_rng(0).integers(0, 255, (12, 30, 3), dtype=np.uint8)
    assert (far(small, np.random.default_rng(0)) == small).all()  # already as small as a far plate


def test_motion_blur_smears_in_proportion_to_the_crop() -> None:
    for w in (100, 400):
        img = np.zeros((w // 4, w, 3), np.uint8)
        img[w // 8, w // 2] = 255  # one bright point
        along = 0
        for seed in range(10):
            out = motion_blur(img, np.random.default_rng(seed), (0.08, 0.08))
            assert out.shape == img.shape and out.dtype == np.uint8
            ys, xs = np.nonzero(out[..., 0])
            length = np.hypot(np.ptp(xs), np.ptp(ys))  # the point smeared into a line ~8 % of the width long
            assert 0.05 * w <= length <= 0.12 * w, (w, seed, length)
            along += np.ptp(xs) > 3 * np.ptp(ys)  # mostly along the plate's rows
        assert along >= 6


def test_motion_blur_of_a_plate_with_more_characters_spans_as_much_of_a_character() -> None:
    img = np.zeros((50, 200, 3), np.uint8)
    img[25, 100] = 255  # one bright point
    for chars, expected in ((4, 16), (7, 16), (11, 10)):  # 8 % of 200 px; an 11-character plate's x 7/11
        out = motion_blur(img, np.random.default_rng(0), (0.08, 0.08), chars_across=chars)
        ys, xs = np.nonzero(out[..., 0])
        assert abs(np.hypot(np.ptp(xs), np.ptp(ys)) - expected) <= 2, (chars, xs, ys)


def test_synthetic_plates_tell_the_augmentation_their_characters_across(monkeypatch) -> None:
    import ocr.synth
    from ocr.synth_render import render_two_row

    for seed in range(5):  # a motorcycle plate's widest row, not its whole text
        two = render_two_row(np.random.default_rng(seed))
        assert 3 <= two.chars_across <= 4 < len(two.text)
    seen: list[int] = []
    monkeypatch.setattr(ocr.synth, "augment", lambda img, rng, level, chars: seen.append(chars) or img)
    ocr.synth.synth_sample(np.random.default_rng(0), {"digits11": 1.0})
    assert seen == [11]


def test_comb_moves_one_field_along_the_rows_and_keeps_the_other() -> None:
    img = np.zeros((8, 40, 3), np.uint8)
    img[:, 10] = 255  # a vertical stroke at x = 10
    out = comb(img, 3.0, field=1)
    assert (out[0::2] == img[0::2]).all()  # the even field stays
    assert (np.nonzero(out[1::2, :, 0])[1] == 13).all() and out[1::2, 13].min() == 255  # the odd field moved 3 px
    assert (comb(img, -2.0, field=0)[0::2, 8] == 255).all()  # the other field, the other way


def test_interlace_moves_a_field_in_proportion_to_the_width() -> None:
    for w in (100, 400):
        img = np.zeros((w // 4, w, 3), np.uint8)
        img[:, w // 2] = 255
        for seed in range(10):
            out = interlace(img, np.random.default_rng(seed))
            assert out.shape == img.shape and out.dtype == np.uint8
            xs = np.nonzero(out[..., 0].max(axis=0))[0]  # columns the stroke reaches in either field
            assert 0.004 * w <= np.ptp(xs) <= 0.045 * w, (w, seed, np.ptp(xs))
