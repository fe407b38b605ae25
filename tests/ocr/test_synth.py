import csv
import re

import cv2
import numpy as np
import pytest

from ocr.decode import matches
from ocr.synth import main as synth_main
from ocr.synth import synth_sample, write_dataset
from common.errors import UserError
from ocr.data import SourceDataset
from ocr.synth_glyphs import PLATE_FONTS, ROUND_FONTS, STROKE_FONTS, _glyph, char_fonts
from ocr.synth_render import LAYOUTS, RENDERERS

FORMATS = {"digits11": ("DDDDDDDDDDD",), "br_old": ("LLLDDDD",), "br_mercosur": ("LLLDLDD",),
           "ar_old": ("LLLDDD",), "ar_mercosur": ("LLDDDLL",)}


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_renders(layout):
    rng = np.random.default_rng(1)
    for _ in range(5):
        plate = RENDERERS[layout](rng)
        assert plate.image.dtype == np.uint8 and plate.image.ndim == 3 and plate.image.shape[2] == 3
        assert plate.text.isalnum() and plate.text.upper() == plate.text and 3 <= len(plate.text) <= 11
        if layout in FORMATS:
            assert any(matches(plate.text, f) for f in FORMATS[layout]), plate.text


def test_sample_is_deterministic():
    a = synth_sample(np.random.default_rng(5), {"us": 1.0})
    b = synth_sample(np.random.default_rng(5), {"us": 1.0})
    assert a[1] == b[1] and np.array_equal(a[0], b[0])


def test_write_dataset(tmp_path):
    labels = write_dataset(tmp_path, 6, {"digits11": 1.0}, seed=0)
    rows = list(csv.DictReader(labels.open()))
    assert len(rows) == 6
    for r in rows:
        assert len(r["plate_text"]) == 11 and r["image"].startswith(r["plate_text"] + "_")
        assert cv2.imread(str(tmp_path / "images" / r["image"])) is not None


def test_cli_rejects_unknown_layout(tmp_path, capsys):
    assert synth_main(["--out", str(tmp_path), "--n", "1", "--mix", "moon=1"]) == 2


def test_cli_never_writes_over_a_set_drawn_before(tmp_path, capsys):
    assert synth_main(["--out", str(tmp_path), "--n", "3", "--mix", "digits"]) == 0
    before = (tmp_path / "labels.csv").read_text()
    assert synth_main(["--out", str(tmp_path), "--n", "2", "--mix", "digits"]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"error: {tmp_path} already holds a set (labels.csv): give another --out, or delete it first")
    assert (tmp_path / "labels.csv").read_text() == before and len(list((tmp_path / "images").iterdir())) == 3


def test_a_set_drawn_onto_a_full_disk_is_one_line_naming_the_image_and_no_set(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(cv2, "imwrite", lambda *a: False)  # as cv2 answers on a full disk
    assert synth_main(["--out", str(tmp_path / "s"), "--n", "2", "--mix", "digits"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.fullmatch(rf"error: {re.escape(str(tmp_path / 's' / 'images'))}/\d{{11}}_0\.jpg: "
                                          r"the image could not be written \(a full disk\?\)", err[0]), err
    assert not (tmp_path / "s" / "labels.csv").exists()


def test_us_serials_mostly_skip_i_o_q():
    """US states do not issue I, O or Q on serial plates: the renderer's prior follows them."""
    rng = np.random.default_rng(0)
    letters = "".join(c for _ in range(300) for c in RENDERERS["us"](rng).text if c.isalpha())
    share = sum(letters.count(c) for c in "IOQ") / len(letters)
    assert len(letters) > 300 and share < 0.04  # uniform letters would give 3/26 = 11.5 %


def test_two_row_plates_are_narrow_enough_to_be_unfolded():
    """The latin model reads crops narrower than 1.5 x their height as two rows: the rendered plates are."""
    for seed in range(20):
        plate = RENDERERS["two_row"](np.random.default_rng(seed))
        h, w = plate.image.shape[:2]
        assert 1.0 <= w / h <= 1.3 and len(plate.text) in (6, 7)


def test_old_argentinian_plates_have_a_light_rim_around_dark_ground():
    """Like the real crops: light characters on a dark ground inside a wider light rim (raised metal border)."""
    for seed in range(10):
        img = cv2.cvtColor(RENDERERS["ar_old"](np.random.default_rng(seed)).image, cv2.COLOR_BGR2GRAY)
        h, w = img.shape
        assert 2.1 <= w / h <= 2.8
        rim = np.concatenate([img[:4].ravel(), img[:, :3].ravel(), img[:, -3:].ravel()])
        ground = np.percentile(img[int(h * 0.25):int(h * 0.85), int(w * 0.1):int(w * 0.9)], 30)  # between the strokes
        assert np.median(rim) >= 150 and ground <= 90, (seed, np.median(rim), ground)


@pytest.mark.parametrize("face", STROKE_FONTS + PLATE_FONTS + ROUND_FONTS)
def test_drawn_faces_draw_every_character_distinctly(face):
    masks = {}
    for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
        m = _glyph(face, ch, 1)
        assert m.shape[0] >= 60 and m.max() == 255, ch  # a full-height glyph, not the blank fallback
        masks[ch] = cv2.resize(m, (32, 64), interpolation=cv2.INTER_AREA).astype(np.float32)
    for a, b in ("0O", "8B", "1I", "5S"):  # the confusable pairs differ in every face
        assert np.abs(masks[a] - masks[b]).mean() > 8, (face, a, b)
    assert _glyph(face, "W", 2).sum() > _glyph(face, "W", 0).sum()  # a wider pen draws more ink


@pytest.mark.parametrize("layout", LAYOUTS)
def test_every_layout_renders_in_drawn_faces(layout):
    for faces in (STROKE_FONTS, PLATE_FONTS, ROUND_FONTS):
        plate = RENDERERS[layout](np.random.default_rng(2), faces)
        assert plate.image.ndim == 3 and plate.text.isalnum()


def test_plate_faces_keep_narrow_characters_narrow():
    """A plate face's glyph is its whole cell: 1 and I keep their width (a tight crop would stretch them)."""
    for face in PLATE_FONTS + ROUND_FONTS:
        one, eight = _glyph(face, "1", 0), _glyph(face, "8", 0)
        assert one.shape == eight.shape
        cols = np.nonzero(one.max(axis=0) > 40)[0]
        assert cols.max() - cols.min() < 0.8 * one.shape[1], face


def test_plate_faces_keep_the_pen_inside_the_padded_cell():
    """Every character of every plate face, with the widest pen, leaves the cell's border blank (a stroke running
    off it, like one from a bad point, would be cut)."""
    for face in PLATE_FONTS + ROUND_FONTS:
        for ch in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ":
            m = _glyph(face, ch, 2)
            assert max(m[:, :2].max(), m[:, -2:].max(), m[:2].max(), m[-2:].max()) == 0, (face, ch)


def test_round_faces_tell_apart_what_plates_keep_apart():
    """The round faces (FE-Schrift-like): O is round and wider than the narrow 0, and 3 and 6 have a straight
    diagonal where 8 has a bowl (the top left of 3, the top right of 6 stay empty where 8 is inked)."""
    for face in ROUND_FONTS:
        ink = {ch: _glyph(face, ch, 0) > 128 for ch in "0O368"}
        h, w = ink["8"].shape
        width = {ch: np.ptp(np.nonzero(ink[ch].any(axis=0))[0]) for ch in "0O"}
        assert width["O"] > width["0"] * 1.08, (face, width)
        rows = slice(int(h * 0.27), int(h * 0.4))
        top_left, top_right = (rows, slice(0, int(w * 0.25))), (rows, slice(int(w * 0.75), w))
        assert ink["8"][top_left].mean() > 0.1 and ink["3"][top_left].mean() < 0.02, face
        assert ink["8"][top_right].mean() > 0.1 and ink["6"][top_right].mean() < 0.02, face


def test_default_font_set_keeps_the_generator_output():
    """`fonts: ttf` draws exactly what the generator drew before font sets existed, so recorded sets re-draw."""
    a = synth_sample(np.random.default_rng(9), {"us": 0.5, "ar_old": 0.5})
    b = synth_sample(np.random.default_rng(9), {"us": 0.5, "ar_old": 0.5}, char_fonts("ttf"))
    assert a[1] == b[1] and np.array_equal(a[0], b[0])
    c = synth_sample(np.random.default_rng(9), {"us": 0.5, "ar_old": 0.5}, char_fonts("stroke"))
    assert c[1] == a[1] and not np.array_equal(c[0], a[0])  # same draw, other faces


def test_font_sets():
    assert set(char_fonts("all")) == set(char_fonts("ttf")) | set(STROKE_FONTS) | set(PLATE_FONTS) | set(ROUND_FONTS)
    assert char_fonts("round") == ROUND_FONTS and not set(ROUND_FONTS) & set(PLATE_FONTS)
    assert char_fonts("ttf+stroke") == char_fonts("ttf") + STROKE_FONTS
    assert char_fonts("plate+plate") == PLATE_FONTS == char_fonts("plate")
    with pytest.raises(UserError, match="unknown font set 'comic'"):
        char_fonts("comic")
    with pytest.raises(UserError, match="unknown font set 'comic' in 'ttf\\+comic'"):
        char_fonts("ttf+comic")
    with pytest.raises(UserError, match="unknown font set 'comic'"):
        SourceDataset({"synth": "latin", "fonts": "comic"}, None)
    with pytest.raises(UserError, match="'fonts' is for synthetic sources"):
        SourceDataset({"path": "data_gen/x", "fonts": "plate"}, None)
    src = SourceDataset({"synth": "eu", "fonts": "stroke"}, None)
    img, text = src.get(0, np.random.default_rng(0))
    assert img.ndim == 3 and len(text) >= 4


def test_cli_font_set(tmp_path):
    assert synth_main(["--out", str(tmp_path), "--n", "2", "--mix", "eu", "--fonts", "stroke"]) == 0
    assert len(list((tmp_path / "images").glob("*.jpg"))) == 2



def test_argentinian_mercosur_plates_are_printed_in_three_groups(monkeypatch):
    """`AB 123 CD` in tall narrow characters, as on the real crops (halved, as other layouts may be, it read
    `AB1 23CD`); the Brazilian Mercosur plate keeps its own printing."""
    import ocr.synth_render as render

    drawn = []
    monkeypatch.setattr(render, "draw_chars", lambda *a, **k: drawn.append((a[1], k.get("aspect_range"))))
    for seed in range(5):
        text = render.render_ar_mercosur(np.random.default_rng(seed)).text
        assert drawn[-1] == ([text[:2], text[2:5], text[5:]], (0.38, 0.55)), (seed, drawn[-1])
    for seed in range(20):
        text = render.render_br_mercosur(np.random.default_rng(seed)).text
        assert drawn[-1][0] in ([text], [text[:3], text[3:]]) and drawn[-1][1] == (0.42, 0.68), (seed, drawn[-1])


def test_a_set_stopped_before_its_end_is_no_set_and_is_drawn_again(tmp_path, monkeypatch, capsys):
    """Ctrl-C (or SIGTERM) while plates are drawn: status 130, one line, and no labels.csv, so the interrupted set
    is neither taken for a whole one by training nor refused as one when the command runs again."""
    import ocr.synth as synth

    drawn = []

    def stop_at_third(*args, **kwargs):
        if len(drawn) == 2:
            raise KeyboardInterrupt
        drawn.append(1)
        return synth_sample(*args, **kwargs)

    monkeypatch.setattr(synth, "synth_sample", stop_at_third)
    assert synth_main(["--out", str(tmp_path / "s"), "--n", "4", "--mix", "digits"]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == (
        f"interrupted: {tmp_path / 's'} is unfinished (no labels.csv written); run the same command again")
    assert not (tmp_path / "s" / "labels.csv").exists()
    monkeypatch.setattr(synth, "synth_sample", synth_sample)
    assert synth_main(["--out", str(tmp_path / "s"), "--n", "4", "--mix", "digits"]) == 0
    rows = list(csv.DictReader((tmp_path / "s" / "labels.csv").open()))
    assert len(rows) == 4 and sorted(p.name for p in (tmp_path / "s" / "images").iterdir()) == sorted(
        r["image"] for r in rows)


def test_a_set_is_its_seeds_samples_as_fine_jpegs(tmp_path):
    labels = write_dataset(tmp_path, 2, {"us": 3.0, "eu": 1.0}, seed=3)  # weights need not add up to 1
    rng = np.random.default_rng(3)
    for r in csv.DictReader(labels.open()):
        img, text = synth_sample(rng, {"us": 3.0, "eu": 1.0})
        assert r["plate_text"] == text
        assert (tmp_path / "images" / r["image"]).read_bytes() == cv2.imencode(
            ".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def test_mixes_by_alphabet_and_by_name():
    from ocr.synth import MIXES, mix_for, parse_mix

    assert mix_for("0123456789") == {"digits11": 1.0} and mix_for("0123456789ABC") is MIXES["latin"]
    assert abs(sum(MIXES["latin"].values()) - 1.0) < 1e-9 and set(MIXES["latin"]) <= set(RENDERERS)
    assert parse_mix("us=0,eu") == {"us": 0.0, "eu": 1.0} and parse_mix("latin") is MIXES["latin"]


def test_the_generator_runs_as_a_script(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, str(root / "ocr" / "synth.py"), "--out", str(tmp_path / "s"), "--n", "1",
                           "--mix", "us"], cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert len(list(csv.DictReader((tmp_path / "s" / "labels.csv").open()))) == 1


@pytest.mark.parametrize("fmt, pattern, chars", [
    ("fmt:B DD LLL", r"B\d\d[A-Z]{3}", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
    ("fmt:LL-DD-LLL", r"[A-Z]{2}\d\d[A-Z]{3}", "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"),
    ("fmt:DDDD", r"\d{4}", "0123456789"),
    ("fmt:*** 9A", r"[A-Z0-9]{3}9A", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"),
])
def test_plates_of_a_format_the_user_gives(fmt, pattern, chars):
    """A country the layouts do not draw: D a digit, L a letter, * either (as in the decoder's patterns), other
    characters as themselves; spaces and dashes part the printed groups, never the text."""
    from ocr.synth import layout_chars, parse_mix
    from ocr.synth_formats import render_format

    rng = np.random.default_rng(0)
    for _ in range(20):
        plate = render_format(fmt, rng)
        assert re.fullmatch(pattern, plate.text) and plate.image.shape[0] == 110 and plate.image.dtype == np.uint8
    assert sorted(layout_chars(fmt)) == sorted(chars) and parse_mix(f"{fmt}=2") == {fmt: 2.0}
    img, text = synth_sample(np.random.default_rng(1), {fmt: 1.0})
    assert re.fullmatch(pattern, text) and img.ndim == 3


def test_format_plates_are_as_wide_as_their_characters_ask_and_print_fixed_characters():
    """A one-row plate about 0.45 of its height per character (2 to 5.2 times as wide as tall); the bounds of what a
    format may hold: 1 and 12 characters, fixed characters from A to Z and 0 to 9."""
    from ocr.synth_formats import render_format

    rng = np.random.default_rng(3)
    for fmt, n in (("fmt:D", 1), ("fmt:LLL", 3), ("fmt:LL DD LLL", 7), ("fmt:DDDDDDDDDDDD", 12)):
        aspects = [(lambda p: p.image.shape[1] / p.image.shape[0])(render_format(fmt, rng)) for _ in range(30)]
        expected = min(max(0.45 * n + 0.9, 2.0), 5.2)
        assert expected * 0.92 - 0.02 <= min(aspects) and max(aspects) <= expected * 1.1 + 0.02
        assert np.mean(aspects) == pytest.approx(expected * 1.01, rel=0.05)
    assert {render_format("fmt:Z0-9A", rng).text for _ in range(5)} == {"Z09A"}


def test_a_preset_inside_a_mix_shares_its_weight_among_its_layouts():
    from ocr.synth import MIXES, parse_mix

    mix = parse_mix("latin=0.5, fmt:B DD LLL=0.5")  # a space after the comma is no part of the name
    assert mix["fmt:B DD LLL"] == 0.5 and sum(mix.values()) == pytest.approx(1.0)
    assert {k: round(v, 6) for k, v in mix.items() if k in MIXES["latin"]} == {
        k: round(v * 0.5, 6) for k, v in MIXES["latin"].items()}
    assert parse_mix("digits=1,digits11=1") == {"digits11": 2.0}
    assert parse_mix("us=0,eu=1") == {"us": 0.0, "eu": 1.0}  # a layout weighed 0 is not drawn


@pytest.mark.parametrize("spec, says", [
    ("fmt:", r"'fmt:': 0 characters \(1 to 12\)"),
    ("fmt:DDDDDDDDDDDDD", r"'fmt:DDDDDDDDDDDDD': 13 characters \(1 to 12\)"),
    ("fmt:ab DD", r"'fmt:ab DD': 'ab' cannot be printed \(D: a digit, L: a letter, \*: either"),
    ("fmt:DD.LL", r"'fmt:DD.LL': '.' cannot be printed"),
    ("us=0", r"synthetic mix 'us=0': every layout weighs 0, so none would be drawn"),
    ("us=inf", r"layout weight inf for 'us' must be 0 or more"),
    ("us=-1", r"layout weight -1 for 'us' must be 0 or more"),
    ("fnt:DD", r"unknown synthetic layout 'fnt:DD' \(known: digits11, .*; the presets digits, latin; or a format "
               r"of your plates, fmt:LL DD LLL\)"),
])
def test_a_format_that_cannot_be_drawn_is_one_line(spec, says):
    from ocr.synth import parse_mix

    with pytest.raises(UserError, match=says):
        parse_mix(spec)


def test_a_format_with_characters_outside_the_alphabet_is_refused_before_training():
    from ocr.alphabet import Codec

    with pytest.raises(UserError, match=r"data source synth: fmt:LL DD: its plates have characters outside the "
                                        r"alphabet '0123456789'"):
        SourceDataset({"synth": "fmt:LL DD"}, Codec("0123456789"))
    assert SourceDataset({"synth": "fmt:DDD-DD", "size": 8}, Codec("0123456789")).size == 8
