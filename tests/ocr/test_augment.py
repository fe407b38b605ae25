"""Augmentation: a rolled plate stays whole inside its grown canvas, as a detector box frames it; motion blur in
proportion to the crop and to its characters; the infrared and far looks; an interlaced frame's fields moved apart."""
import cv2
import numpy as np
import pytest

from ocr.augment import (augment, blend_fields, blur_noise, comb, crop_jitter, far, infrared, interlace, jpeg,
                         motion_blur, roll)


def _plate_with_corner_marks(h: int = 50, w: int = 200) -> np.ndarray:
    img = np.full((h, w, 3), 255, np.uint8)
    for y, x in ((2, 2), (2, w - 8), (h - 8, 2), (h - 8, w - 8)):
        img[y:y + 6, x:x + 6] = (0, 0, 255)  # red squares in the four corners
    return img


def _noise(h: int, w: int) -> np.ndarray:
    """A BGR crop of random levels (seed 0): any change to it shows."""
    return np.random.default_rng(0).integers(0, 256, (h, w, 3), dtype=np.uint8)


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


def recorded(monkeypatch, *names: str) -> list[tuple]:
    """The calls made to the augmentations `names` (each left doing nothing): (name, its arguments after the image
    and the generator)."""
    import ocr.augment as aug

    calls: list[tuple] = []
    for name in names:
        monkeypatch.setattr(aug, name, lambda img, rng, *args, _n=name: calls.append((_n, *args)) or img)
    return calls


STEPS = ("roll", "crop_jitter", "perspective", "photometric", "infrared", "blur_noise", "far", "interlace",
         "motion_blur", "jpeg")


@pytest.mark.parametrize("level, p, steps", [
    ("heavy", 0.0, [("roll", 10.0), ("crop_jitter", 0.08), ("perspective", 0.06, 6.0), ("photometric", 1.0),
                    ("blur_noise", 1.0, 7)]),
    ("heavy", 0.29, [("roll", 10.0), ("crop_jitter", 0.08), ("perspective", 0.06, 6.0), ("photometric", 1.0),
                     ("blur_noise", 1.0, 7)]),
    ("heavy", 0.3, [("crop_jitter", 0.08), ("perspective", 0.06, 6.0), ("photometric", 1.0), ("blur_noise", 1.0, 7)]),
    ("heavy", 0.7, [("crop_jitter", 0.08), ("photometric", 1.0), ("blur_noise", 1.0, 7)]),
    ("medium", 0.14, [("roll", 10.0), ("crop_jitter", 0.03), ("perspective", 0.03, 3.0), ("photometric", 0.5),
                      ("blur_noise", 0.5, 7)]),
    ("medium", 0.15, [("crop_jitter", 0.03), ("perspective", 0.03, 3.0), ("photometric", 0.5), ("blur_noise", 0.5, 7)]),
    ("medium", 0.69, [("crop_jitter", 0.03), ("perspective", 0.03, 3.0), ("photometric", 0.5), ("blur_noise", 0.5, 7)]),
    ("ir", 0.99, [("crop_jitter", 0.03), ("infrared",), ("blur_noise", 1.0, 7)]),
    ("far", 0.99, [("crop_jitter", 0.03), ("photometric", 0.5), ("blur_noise", 0.5, 7), ("far",)]),
    ("interlaced", 0.99, [("crop_jitter", 0.03), ("photometric", 0.5), ("blur_noise", 0.5, 7), ("interlace",)]),
    ("motion", 0.49, [("crop_jitter", 0.03), ("perspective", 0.03, 3.0), ("photometric", 0.5), ("blur_noise", 0.5, 7),
                      ("motion_blur", (0.03, 0.12), 7), ("jpeg", 30, 90)]),
    ("motion", 0.5, [("crop_jitter", 0.03), ("perspective", 0.03, 3.0), ("photometric", 0.5), ("blur_noise", 0.5, 7),
                     ("motion_blur", (0.03, 0.12), 7)]),
])
def test_each_level_applies_its_steps_at_its_strength(monkeypatch, level, p, steps, fixed_draws) -> None:
    calls = recorded(monkeypatch, *STEPS)
    augment(_plate_with_corner_marks(), fixed_draws(p), level)  # type: ignore[arg-type]
    assert calls == steps


def test_the_characters_across_reach_the_motion_smear_and_none_is_the_crop_itself(monkeypatch, fixed_draws) -> None:
    calls = recorded(monkeypatch, *STEPS)
    augment(_plate_with_corner_marks(), fixed_draws(0.99), "motion", chars_across=11)  # type: ignore[arg-type]
    assert calls[-2:] == [("blur_noise", 0.5, 11), ("motion_blur", (0.03, 0.12), 11)]
    img = _plate_with_corner_marks()
    assert augment(img, fixed_draws(0.0), "none") is img  # type: ignore[arg-type]


@pytest.mark.parametrize("strength, p, steps", [
    (1.0, [0.99, 0.3, 0.99, 0.99], [("motion_blur", (0.015, 0.10), 7)]),
    (1.0, [0.99, 0.54, 0.49, 0.49], [("motion_blur", (0.015, 0.10), 7), ("sensor_noise", 14), ("jpeg", 15, 80)]),
    (1.0, [0.99, 0.55, 0.5, 0.5], []),
    (0.5, [0.99, 0.15, 0.24, 0.99], [("motion_blur", (0.015, 0.10), 7), ("sensor_noise", 14)]),
    (0.5, [0.99, 0.275, 0.99, 0.24], [("jpeg", 15, 80)]),
])
def test_blur_noise_draws_its_blur_noise_and_jpeg_by_strength(monkeypatch, strength, p, steps, fixed_draws) -> None:
    calls = recorded(monkeypatch, "motion_blur", "sensor_noise", "jpeg")
    img = _plate_with_corner_marks()
    out = blur_noise(img, fixed_draws(p), strength)  # type: ignore[arg-type]
    assert calls == steps and (out == img).all()  # nothing else was done to it


@pytest.mark.parametrize("strength, p", [(1.0, [0.49, 0.99, 0.99, 0.99]), (0.5, [0.24, 0.99, 0.99, 0.99])])
def test_blur_noise_lowers_the_resolution_to_a_quarter_at_most(strength, p, fixed_draws) -> None:
    img = _noise(50, 200)
    small = cv2.resize(img, (50, 12), interpolation=cv2.INTER_AREA)  # a quarter of each side, the range's low end
    want = cv2.resize(small, (200, 50), interpolation=cv2.INTER_LINEAR)
    assert (blur_noise(img, fixed_draws(p), strength) == want).all()  # type: ignore[arg-type]
    untouched = blur_noise(img, fixed_draws([strength / 2, 0.99, 0.99, 0.99]), strength)  # type: ignore[arg-type]
    assert (untouched == img).all()


@pytest.mark.parametrize("strength, r, k", [(1.0, 0.29, 3), (0.5, 0.149, 3)])
def test_blur_noise_blurs_with_a_small_gaussian(strength, r, k, fixed_draws) -> None:
    img = _noise(50, 200)
    out = blur_noise(img, fixed_draws([0.99, r, 0.99, 0.99]), strength)  # type: ignore[arg-type]
    assert (out == cv2.GaussianBlur(img, (k, k), 0)).all()


@pytest.mark.parametrize("at, shape", [(0.0, (58, 232, 3)), (1.0, (42, 168, 3))])
def test_crop_jitter_pads_or_cuts_each_side_by_up_to_its_share(at, shape, fixed_draws) -> None:
    img = _plate_with_corner_marks()  # 50 x 200: 8 % is 4 rows, 16 columns
    out = crop_jitter(img, fixed_draws(at=at), 0.08)  # type: ignore[arg-type]
    assert out.shape == shape
    if at == 0.0:
        assert (out[4:54, 16:216] == img).all() and (out[:4, 16:216] == img[:1]).all()  # the border replicated
    else:
        assert (out == img[4:46, 16:184]).all()


def test_crop_jitter_keeps_a_crop_it_would_cut_below_8_by_16(fixed_draws) -> None:
    img = _noise(12, 24)
    assert crop_jitter(img, fixed_draws(at=1.0), 0.2).shape == (8, 16, 3)  # 2 rows and 4 columns off each side: kept
    assert (crop_jitter(img, fixed_draws(at=1.0), 0.25) == img).all()  # 3 and 6 off each side: 6 x 12, too small


@pytest.mark.parametrize("p, at, width, interp", [([0.99, 0.99, 0.99], 0.0, 32, "cubic"),
                                                  ([0.99, 0.99, 0.69], 1.0, 72, "linear")])
def test_far_shrinks_to_32_to_72_px_and_enlarges_back(p, at, width, interp, fixed_draws) -> None:
    img = _noise(50, 200)
    small = cv2.resize(img, (width, round(50 * width / 200)), interpolation=cv2.INTER_AREA)
    want = cv2.resize(small, (200, 50), interpolation=cv2.INTER_CUBIC if interp == "cubic" else cv2.INTER_LINEAR)
    assert (far(img, fixed_draws(p, at)) == want).all()  # type: ignore[arg-type]
    edge = img[:, :width]
    assert far(edge, fixed_draws(p, at)) is edge  # type: ignore[arg-type]  # a crop as small as that is kept


def test_far_adds_noise_and_jpeg_at_the_small_size(monkeypatch, fixed_draws) -> None:
    calls = recorded(monkeypatch, "sensor_noise", "jpeg")
    far(np.zeros((50, 200, 3), np.uint8), fixed_draws([0.49, 0.49, 0.99]))  # type: ignore[arg-type]
    assert calls == [("sensor_noise", 8), ("jpeg", 30, 90)]


@pytest.mark.parametrize("at, quality", [(0.0, 40), (1.0, 89)])
def test_jpeg_quality_is_drawn_from_its_range_less_its_top(at, quality, fixed_draws) -> None:
    img = _noise(50, 200)
    want = cv2.imdecode(cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, quality])[1], cv2.IMREAD_COLOR)
    assert (jpeg(img, fixed_draws(at=at), 40, 90) == want).all()  # type: ignore[arg-type]


@pytest.mark.parametrize("p, at, shift, field, blended", [([0.49, 0.49], 1.0, 8.0, 1, True),
                                                          ([0.5, 0.5], 0.0, -1.0, 0, False)])
def test_interlace_moves_either_field_either_way_and_blends_half_the_time(p, at, shift, field, blended,
                                                                         fixed_draws) -> None:
    img = _noise(50, 200)
    want = comb(img, shift, field)
    out = interlace(img, fixed_draws(p, at))  # type: ignore[arg-type]
    assert (out == (blend_fields(want) if blended else want)).all()
