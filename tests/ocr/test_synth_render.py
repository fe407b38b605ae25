"""The synthetic plates' layouts (`ocr/synth_render.py`): sizes, texts, and where each part is drawn."""
import numpy as np
import pytest

import ocr.synth_render as render
from ocr.decode import matches
from ocr.synth_render import (DIGITS, LETTERS, RENDERERS, RO_COUNTIES, US_FORMATS, US_LETTERS, Plate, _border,
                              _canvas, _split, random_text)

FIXED = 400 / 130  # int(130 * 3.08) px wide
SIZES = {"digits11": (110, 3.6, 4.6), "us": (150, 1.9, 2.1), "eu": (110, 4.2, 4.8), "br_old": (130, FIXED, FIXED),
         "br_mercosur": (130, FIXED, FIXED), "ar_mercosur": (130, FIXED, FIXED), "ar_old": (130, 2.2, 2.7),
         "two_row": (150, 1.0, 1.3)}  # height, least and most width / height


@pytest.fixture
def rectangles(monkeypatch):
    """The rectangles the renderers draw, as (corner, corner, colour, thickness); drawn as well."""
    import cv2

    seen: list[tuple] = []

    class Recording:
        def __getattr__(self, name):
            return getattr(cv2, name)

        def rectangle(self, img, p1, p2, color, thickness=1, *args):
            seen.append((tuple(p1), tuple(p2), tuple(color), thickness))
            return cv2.rectangle(img, p1, p2, color, thickness, *args)

    monkeypatch.setattr(render, "cv2", Recording())
    return seen


@pytest.fixture
def calls(monkeypatch):
    """What the renderers ask to be drawn: ("chars", groups, box, colour, font, sep, aspect_range) and ("text", text,
    centre, height, colour, font), in order, with the drawing's own defaults; drawn as well."""
    import inspect

    seen: list[tuple] = []

    def recorded(kind, draw, keys):
        signature = inspect.signature(draw)

        def drawing(*args, **kwargs):
            given = signature.bind(*args, **kwargs)
            given.apply_defaults()
            seen.append((kind, *(given.arguments[k] for k in keys)))
            return draw(*args, **kwargs)
        return drawing

    monkeypatch.setattr(render, "draw_chars", recorded("chars", render.draw_chars,
                                                       ("groups", "box", "color", "font", "sep", "aspect_range")))
    monkeypatch.setattr(render, "draw_text", recorded("text", render.draw_text,
                                                      ("text", "center", "height", "color", "font")))
    return seen


@pytest.mark.parametrize("layout", list(SIZES))
def test_each_layout_has_its_plates_size(layout):
    height, least, most = SIZES[layout]
    shapes = [RENDERERS[layout](np.random.default_rng(seed)).image.shape for seed in range(12)]
    assert all(h == height and least <= w / h <= most for h, w, _ in shapes), shapes
    if least < most:
        assert len({w for _, w, _ in shapes}) > 3  # drawn across the range


def test_texts_fill_their_formats():
    rng = np.random.default_rng(0)
    texts = [random_text("LD-xL", rng) for _ in range(400)]
    assert all(t[0] in LETTERS and t[1] in DIGITS and t[2:4] == "-x" and t[4] in LETTERS for t in texts)
    assert {t[1] for t in texts} == set(DIGITS) and len({t[0] for t in texts}) == 26
    assert {random_text("L", rng, "AB") for _ in range(50)} == {"A", "B"}


def test_a_text_is_split_into_at_most_two_groups_of_two_or_more():
    rng = np.random.default_rng(0)
    splits = [_split("ABCDEFG", rng) for _ in range(400)]
    whole = sum(s == ["ABCDEFG"] for s in splits) / len(splits)
    assert 0.22 <= whole <= 0.38  # 30 % drawn whole
    cuts = {len(s[0]) for s in splits if len(s) == 2}
    assert cuts == {2, 3, 4, 5} and all("".join(s) == "ABCDEFG" for s in splits)
    assert all(_split("ABC", rng) == ["ABC"] for _ in range(20))
    assert {tuple(_split("ABCD", rng)) for _ in range(40)} == {("ABCD",), ("AB", "CD")}


def test_a_canvas_is_its_colour_or_a_soft_gradient_across_or_down_it():
    kinds = set()
    for seed in range(40):
        c = _canvas(60, 30, (128, 100, 160), np.random.default_rng(seed)).astype(int)
        assert c.shape == (30, 60, 3)
        if (c == (128, 100, 160)).all():
            kinds.add("flat")
            continue
        down = (c == c[:, :1]).all()  # every row one value: a gradient down
        assert down or (c == c[:1]).all(), seed
        line = c[:, 0] if down else c[0]
        step = np.diff(line - (128, 100, 160), axis=0)
        assert (step >= 0).all() and -30 <= (line[0] - (128, 100, 160)).min() <= 0 <= line[-1, 0] - 128 <= 30
        kinds.add("down" if down else "across")
    assert kinds == {"flat", "down", "across"}


def test_a_border_is_a_frame_one_to_a_25th_of_the_height_thick():
    widths = set()
    for seed in range(30):
        c = np.zeros((110, 400, 3), np.uint8)
        _border(c, (255, 255, 255), np.random.default_rng(seed))
        row = np.nonzero(c[55, :, 0])[0]
        left, right = row[row < 200], row[row >= 200]
        assert left.min() >= 0 and right.max() <= 399 and not c[10:100, 10:390].any()
        assert len(left) == len(right) and (c[:, :, 0] == c[::-1, ::-1, 0]).all()  # the same on every side
        widths.add(len(left))
    assert len(widths) == 3  # 1, 2 or 3 px lines (110 // 25 = 4)


def test_a_plate_knows_its_widest_row():
    image = np.zeros((4, 4, 3), np.uint8)
    assert Plate(image, "ABC123").chars_across == 6 and Plate(image, "ABC1234", 4).chars_across == 4
    assert RENDERERS["two_row"](np.random.default_rng(0)).across in (3, 4)


def test_the_digits_plate(calls):
    for seed in range(20):
        plate = render.render_digits11(np.random.default_rng(seed))
        h, w = plate.image.shape[:2]
        _, groups, box, color, _, sep, _ = calls[-1]
        t = plate.text
        assert groups in ([t], [t[:3], t[3:7], t[7:]]) and box == (10, 12, w - 20, h - 24) and sep in " -"
        assert max(color) < 90 and matches(t, "D" * 11)


def test_the_european_plate(calls):
    romanian = 0
    for seed in range(30):
        plate = render.render_eu(np.random.default_rng(seed))
        img, (h, w) = plate.image, plate.image.shape[:2]
        band = int(w * 0.085)
        (_, code, centre, height, white, _), (_, groups, box, ink, *_) = calls[-2:]
        assert centre == (band // 2, int(h * 0.75)) and height == int(h * 0.22) and white == (255, 255, 255)
        assert box == (band + 8, int(h * 0.12), w - band - 16, int(h * 0.76)) and ink == (20, 20, 20)
        blue = img[int(h * 0.5), band // 2 - 6].astype(int)  # the band, below its stars, beside its code
        assert 120 <= blue[0] < 180 and 30 <= blue[1] < 70 and blue[2] == 0 and "".join(groups) == plate.text
        ys, xs = np.nonzero((img == (0, 210, 255)).all(axis=2))  # the ring of yellow stars high in the band
        assert len(xs) and xs.max() < band and abs(xs.mean() - band // 2) <= 1 and abs(ys.mean() - h * 0.32) <= 1
        assert 0.28 * band <= np.hypot(xs - band // 2, ys - int(h * 0.32)).mean() <= 0.4 * band
        if code == "RO":
            romanian += 1
            county, digits, letters = groups
            assert county in RO_COUNTIES and matches(digits + letters, "DDLLL" if len(digits) == 2 else "DDDLLL")
            assert len(digits) == 2 or county == "B"
    assert 8 <= romanian <= 22


def test_the_old_brazilian_plate(calls):
    plate = render.render_br_old(np.random.default_rng(0))
    h, w = plate.image.shape[:2]
    (_, city, centre, *_), (_, groups, box, *_, sep, _) = calls
    assert city.startswith(("SP", "RJ", "MG", "PR")) and centre == (w // 2, int(h * 0.12))
    assert groups == [plate.text[:3], plate.text[3:]] and box == (12, int(h * 0.25), w - 24, int(h * 0.65))
    assert sep == "-" and matches(plate.text, "LLLDDDD") and calls[0][3:5] == (int(h * 0.13), (20, 20, 20))
    assert calls[1][3] == (15, 15, 15)


@pytest.mark.parametrize("layout, color", [("eu", 10), ("br_old", 10), ("br_mercosur", 15), ("ar_mercosur", 15)])
def test_printed_plates_have_a_dark_border(layout, color):
    for seed in range(5):
        img = RENDERERS[layout](np.random.default_rng(seed)).image
        h = img.shape[0]
        for edge in (img[h // 2, -8:], img[-8:, img.shape[1] // 2]):  # the right (the EU band is left) and foot
            assert edge.min(axis=0).tolist() == [color] * 3, (layout, seed)


def test_layout_characters():
    assert render.LAYOUT_CHARS["digits11"] == DIGITS
    assert all(render.LAYOUT_CHARS[name] == DIGITS + LETTERS for name in RENDERERS if name != "digits11")


@pytest.mark.parametrize("layout, country", [("br_mercosur", "BRASIL"), ("ar_mercosur", "REPUBLICA ARGENTINA")])
def test_mercosur_plates_have_their_band_on_top(calls, layout, country):
    for seed in range(5):
        plate = RENDERERS[layout](np.random.default_rng(seed))
        img, (h, w) = plate.image, plate.image.shape[:2]
        band = int(h * 0.22)
        (_, name, centre, height, white, _), (_, groups, box, ink, *_) = calls[-2:]
        assert (name, centre, height, white) == (country, (w // 2, band // 2), int(band * 0.6), (255, 255, 255))
        assert box == (12, band + 8, w - 24, h - band - 18) and ink == (15, 15, 15)
        top, below = img[band // 2, 8].astype(int), img[band + 2, 8].astype(int)
        assert 130 <= top[0] < 190 and 50 <= top[1] < 90 and top[2] == 0 and below.min() >= 200


def test_the_old_argentinian_plate(calls, rectangles):
    shadows = 0
    for seed in range(20):
        before = len(calls)
        rectangles.clear()
        plate = render.render_ar_old(np.random.default_rng(seed))
        h, w = plate.image.shape[:2]
        (side, top), (right, low), ground, filled = rectangles[0]
        assert filled == -1 and max(ground) < 60 and right == w - 1 - side and int(0.04 * h) <= side <= int(0.08 * h)
        drawn = [c for c in calls[before:] if c[0] == "chars"]
        *shadow, (_, groups, box, ink, font, sep, aspect) = drawn
        assert groups == [plate.text[:3], plate.text[3:]] and aspect == (0.36, 0.5) and min(ink) >= 200
        assert sep in ("o", ".", " ") and len(set(ink)) == 1 and matches(plate.text, "LLLDDD")
        # the characters on the dark ground, 6 px in from its sides, 5 % of the height below its top and above its foot
        assert box == (side + 6, top + int(h * 0.05), w - 2 * side - 12, h - top - (h - 1 - low) - int(h * 0.1))
        if shadow:  # embossed: the same characters 2 px down and right, near black, under the light ones
            shadows += 1
            (_, s_groups, s_box, s_ink, s_font, s_sep, s_aspect), = shadow
            assert (s_groups, s_font, s_sep, s_aspect, s_ink) == (groups, font, sep, aspect, (10, 10, 10))
            assert s_box == (box[0] + 2, box[1] + 2, box[2], box[3])
    assert 6 <= shadows <= 18


def test_the_us_plate(calls):
    stacked = 0
    for seed in range(60):
        before = len(calls)
        plate = render.render_us(np.random.default_rng(seed))
        h, w = plate.image.shape[:2]
        texts = [c for c in calls[before:] if c[0] == "text"]
        chars = [c for c in calls[before:] if c[0] == "chars"]
        state = texts[0]
        assert abs(state[2][0] - w // 2) <= 20 and state[2][1] == int(h * 0.13) and h * 0.12 <= state[3] <= h * 0.2
        serial = "".join(chars[0][1])
        assert any(matches(serial, f) for f in US_FORMATS) and chars[0][2][:2] == (int(w * 0.05), int(h * 0.24))
        if len(chars) == 3:  # two small characters stacked at the right, read after the serial
            stacked += 1
            (_, top, top_box, *_), (_, low, low_box, *_) = chars[1:]
            x1 = int(w * 0.85)
            assert chars[0][2][2] == x1 - int(w * 0.05) and top_box == (x1, int(h * 0.28), w - x1 - 6, int(h * 0.24))
            assert low_box == (x1, int(h * 0.54), w - x1 - 6, int(h * 0.24)) and plate.text == serial + top[0] + low[0]
        else:
            assert plate.text == serial and chars[0][2][2] == int(w * 0.95) - int(w * 0.05)
    assert 2 <= stacked <= 14  # 12 %


def test_us_serial_letters_leave_out_i_o_q():
    assert set(US_LETTERS) == set(LETTERS) - set("IOQ")


def test_two_row_plates_draw_the_top_row_above_the_bottom_one(calls):
    for seed in range(20):
        plate = render.render_two_row(np.random.default_rng(seed))
        h, w = plate.image.shape[:2]
        rows = [c for c in calls if c[0] == "chars"][-2:]
        (_, top, top_box, ink, font, *_), (_, bottom, low_box, ink2, font2, *_) = rows
        assert plate.text == top[0] + bottom[0] and plate.across == max(len(top[0]), len(bottom[0]))
        assert (ink, font) == (ink2, font2) and top_box[0] == low_box[0] == 8 and top_box[2] == low_box[2] == w - 16
        assert top_box[3] == low_box[3] and low_box[1] >= top_box[1] + top_box[3] and low_box[1] + low_box[3] <= h
