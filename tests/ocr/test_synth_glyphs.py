"""The synthetic plates' character faces and their drawing (`ocr/synth_glyphs.py`), measured in pixels."""
import os

import numpy as np
import pytest

import ocr.synth_glyphs as glyphs
from ocr.synth_glyphs import STROKE_FONTS, _blend, _glyph, draw_chars, draw_text, font_files, random_color

BOX = (20, 10, 360, 80)  # x, y, w, h


class Draws:
    """A stand-in for the generator's random draws: `uniform` answers the given values in turn, `integers` its lower
    bound; both record the ranges asked."""

    def __init__(self, *uniform: float):
        self.values, self.asked = list(uniform), []

    def uniform(self, lo, hi):
        self.asked.append((lo, hi))
        return self.values.pop(0)

    def integers(self, lo, hi=None, size=None):
        self.asked.append((lo, hi))
        return lo if size is None else np.full(size, lo)


def runs(columns: np.ndarray) -> list[tuple[int, int]]:
    """(first, last + 1) of each run of True."""
    edges = np.diff(np.concatenate([[0], columns.astype(np.int8), [0]]))
    return list(zip(np.nonzero(edges == 1)[0].tolist(), np.nonzero(edges == -1)[0].tolist()))


@pytest.fixture
def solid(monkeypatch):
    """Every glyph a solid block 96 x 48, the 1 a narrow one 96 x 16, so that each drawn glyph is a rectangle."""
    monkeypatch.setattr(glyphs, "_glyph",
                        lambda font, ch, stroke: np.full((96, 16 if ch == "1" else 48), 255, np.uint8))


def drawn(groups, box=BOX, sep=" ", aspect=0.5, gap=0.1, sep_w=0.5, ground=0):
    canvas = np.full((100, 400, 3), ground, np.uint8)
    draws = Draws(aspect, gap, sep_w)
    draw_chars(canvas, groups, box, (255, 255, 255), "any", draws, sep=sep)  # type: ignore[arg-type]
    assert draws.asked[:4] == [(0, 3), (0.42, 0.68), (0.06, 0.2), (0.35, 0.9)]  # pen, the recipe's ranges
    assert draws.asked[4:] == ([(0, 256)] if sep == "o" else [])  # the ring's colour
    return canvas[..., 0]


def test_glyphs_fill_the_box_height_and_are_centred_across_it(solid):
    """Aspect 0.5, gap 0.1, separator 0.5 of a glyph's width: 4 glyphs 2.4 heights wide in all (one gap too many
    counted at the group break), 80 px high in a box 360 x 80: glyphs 40 x 80 from x = 20 + (360 - 192) / 2."""
    ink = drawn(["AB", "CD"]) == 255
    assert runs(ink.any(axis=0)) == [(104, 144), (148, 188), (208, 248), (252, 292)]
    assert runs(ink.any(axis=1)) == [(10, 90)]


def test_glyphs_fit_a_narrow_box_by_its_width_and_are_centred_down_it(solid):
    """In a box 150 x 80 the 2.4 heights fit at 62.5 px: glyphs 31 x 62 from x = 20, y = 10 + (80 - 62.5) / 2."""
    ink = drawn(["AB", "CD"], box=(20, 10, 150, 80)) == 255
    assert runs(ink.any(axis=0)) == [(20, 51), (54, 85), (101, 132), (136, 167)]
    assert runs(ink.any(axis=1)) == [(19, 81)]


def test_a_narrow_one_keeps_its_width_in_the_middle_of_its_cell(solid):
    """A 1 (or I) is drawn no wider than 1.3 x its own shape (16 / 96 of 80 px: 17 px), in the middle of its 40 px
    cell; three glyphs 1.6 heights wide from x = 20 + (360 - 128) / 2."""
    ink = drawn(["A1B"]) == 255
    assert runs(ink.any(axis=0)) == [(136, 176), (192, 209), (224, 264)]


@pytest.mark.parametrize("sep, rows, columns", [("-", (46, 55), (192, 207)), (".", (46, 55), (194, 203))])
def test_a_separator_between_groups_and_none_after_the_last(solid, sep, rows, columns):
    """A dash 0.7 of the separator's width from 45 to 55 % down the glyphs; a dot 6 % of their height in radius
    0.3 of the separator in; nothing after the last group."""
    ink = drawn(["AB", "CD"], sep=sep) == 255
    between = ink[:, 188:208]
    assert runs(between.any(axis=1)) == [rows] and runs(between.any(axis=0)) == [(columns[0] - 188, columns[1] - 188)]
    assert not ink[:, 292:].any() and not ink[:, :104].any()


@pytest.mark.parametrize("sep_w, rows, columns, glyphs", [
    (0.5, (41, 60), (189, 208), [(148, 188), (208, 248)]),  # radius 0.45 of the 20 px gap: 9 px
    (0.9, (36, 65), (184, 213), [(140, 180), (216, 256)]),  # radius 18 % of the glyphs' height: 14 px
])
def test_an_o_separator_is_a_disc_in_the_gap_in_a_colour_of_its_own(solid, sep_w, rows, columns, glyphs):
    """`o`: a disc in the middle of the gap between the groups, 18 % of the glyphs' height in radius but no more than
    0.45 of the gap, so that it touches neither glyph beside it (the real plates' emblem sits in the gap), in a random
    colour (black here)."""
    canvas = drawn(["AB", "CD"], sep="o", sep_w=sep_w, ground=100)
    disc = canvas == 0
    assert runs(disc.any(axis=1)) == [rows] and runs(disc.any(axis=0)) == [columns]
    assert disc[sum(rows) // 2, sum(columns) // 2]  # filled, not a ring
    assert (columns[0] + columns[1] - 1) / 2 == (glyphs[0][1] + glyphs[1][0]) / 2  # centred in the gap
    assert glyphs[0][1] < columns[0] and columns[1] <= glyphs[1][0]  # within the gap...
    assert columns[1] - columns[0] == rows[1] - rows[0]  # ...and whole: no glyph drawn over a part of it
    for first, last in glyphs:  # the glyphs either side whole
        assert (canvas[10:90, first:last] == 255).all()


def test_blend_mixes_the_colour_in_by_the_mask_and_clips_at_the_edges():
    canvas = np.full((10, 10, 3), 100, np.uint8)
    mask = np.array([[255, 51], [0, 128]], np.uint8)
    _blend(canvas, mask, 3, 4, (200, 0, 50))
    assert canvas[4, 3].tolist() == [200, 0, 50] and canvas[5, 3].tolist() == [100, 100, 100]
    assert canvas[4, 4].tolist() == [120, 80, 90] and canvas[5, 4].tolist() == [150, 49, 74]  # 20 and 50.2 %, cut
    assert (canvas[:4] == 100).all() and (canvas[6:] == 100).all() and (canvas[:, 5:] == 100).all()
    corner = np.full((10, 10, 3), 0, np.uint8)
    _blend(corner, np.full((4, 4), 255, np.uint8), -2, 8, (9, 9, 9))  # over the left and bottom edges
    assert runs(corner[..., 0].any(axis=0)) == [(0, 2)] and runs(corner[..., 0].any(axis=1)) == [(8, 10)]
    for x, y in ((10, 0), (0, 10), (-4, 0), (0, -4), (12, 3), (3, 12)):  # wholly outside: nothing, no error
        _blend(corner, np.full((4, 4), 255, np.uint8), x, y, (9, 9, 9))
    assert corner.sum() == 2 * 2 * 3 * 9


def test_decorative_text_is_centred_on_its_point():
    main, deco = font_files()
    for text, font in (("TEXAS", deco[0]), ("Land of Lincoln", deco[-1]), ("REPUBLICA ARGENTINA", main[0])):
        canvas = np.zeros((120, 400, 3), np.uint8)
        draw_text(canvas, text, (180, 60), 24, (255, 255, 255), font)
        cols, rows = runs(canvas[..., 0].any(axis=0) > 0), np.nonzero(canvas[..., 0].any(axis=1))[0]
        assert abs((cols[0][0] + cols[-1][1] - 1) / 2 - 180) <= 1, (text, cols[0], cols[-1])
        assert 60 - 0.8 * 24 <= rows.min() and rows.max() <= 60 + 0.8 * 24 and np.ptp(rows) >= 12, text


def test_random_colours_are_dark_light_or_any():
    rng = np.random.default_rng(0)
    dark = np.array([random_color(rng, dark=True) for _ in range(300)])
    light = np.array([random_color(rng, dark=False) for _ in range(300)])
    either = np.array([random_color(rng) for _ in range(300)])
    assert dark.min() == 0 and dark.max() == 89 and light.min() == 170 and light.max() == 255
    assert either.min() < 10 and either.max() > 245 and ((either > 89) & (either < 170)).any()


MATPLOTLIB_FACES = {"DejaVuSans-Bold.ttf", "DejaVuSans.ttf", "DejaVuSansMono-Bold.ttf", "DejaVuSansMono.ttf",
                    "DejaVuSerif-Bold.ttf", "STIXGeneralBol.ttf", "STIXGeneralBolIta.ttf", "cmss10.ttf", "cmtt10.ttf"}
SYSTEM_FACES = {"DejaVuSansCondensed-Bold.ttf", "DejaVuSansCondensed.ttf", "LiberationSans-Bold.ttf",
                "LiberationMono-Bold.ttf", "LiberationSansNarrow-Bold.ttf"}  # where fonts-dejavu-extra etc. are


def test_the_character_faces_and_the_decorative_ones():
    """The character faces: matplotlib's nine upright ones (STIX's bold italic among them: it has been in every set and
    model drawn since the generator's first version) and the condensed and Liberation faces where the system has
    them (eleven on these machines); decorative text in faces of its own, italics among them; both in order of name."""
    main, deco = font_files()
    names = [os.path.basename(f) for f in main]
    assert names == sorted(names) and MATPLOTLIB_FACES <= set(names) <= MATPLOTLIB_FACES | SYSTEM_FACES
    assert [os.path.basename(f) for f in deco] == [
        "DejaVuSans-Bold.ttf", "DejaVuSans-BoldOblique.ttf", "DejaVuSans-Oblique.ttf", "DejaVuSerif-BoldItalic.ttf",
        "DejaVuSerif-Italic.ttf", "DejaVuSerif.ttf", "STIXGeneralItalic.ttf", "cmr10.ttf", "cmti10.ttf"]


@pytest.mark.parametrize("matplotlib_at", ["/aa/site-packages", "/zz/site-packages"])
def test_the_faces_order_does_not_depend_on_where_matplotlib_is(monkeypatch, matplotlib_at):
    """Ordered by path, the faces (and every draw) changed with the folder the environment was made in: a checkout
    under /tmp drew other plates from the same seed than one under /work."""
    import matplotlib

    mpl = os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf")
    found = {mpl: [f"{matplotlib_at}/{n}" for n in ("STIXGeneralBol.ttf", "DejaVuSans.ttf", "cmtt10.ttf")],
             "/usr/share/fonts/truetype/dejavu": ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                                                  "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf"]}
    monkeypatch.setattr(glyphs.glob, "glob", lambda pattern: found.get(os.path.dirname(pattern), []))
    main, _ = font_files.__wrapped__()
    assert main == ("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
                    "/usr/share/fonts/truetype/dejavu/DejaVuSansCondensed.ttf",
                    f"{matplotlib_at}/STIXGeneralBol.ttf", f"{matplotlib_at}/cmtt10.ttf")


def test_a_character_with_no_ink_is_a_blank_glyph_of_plate_proportions():
    blank = _glyph(font_files()[0][0], " ", 0)
    assert blank.shape == (96, 48) and not blank.any()


def test_the_stored_strokes_are_read_without_unpickling(tmp_path, monkeypatch):
    """A strokes file holding a pickled object is refused, not run."""
    bad = tmp_path / "strokes.npz"
    np.savez(bad, **{"0_A": np.array([{"a": 1}], dtype=object)})
    monkeypatch.setattr(glyphs, "ATLAS", bad)
    glyphs._atlas.cache_clear()
    try:
        with pytest.raises(ValueError, match="allow_pickle=False"):
            glyphs._atlas()
    finally:
        glyphs._atlas.cache_clear()


def test_the_stroke_faces_are_monoline_whichever_opencv_draws_text():
    """OpenCV 5 draws its Hershey faces in a TrueType font (an I 14 px thick); the stored strokes keep the faces as
    OpenCV 4 drew them: H about 80 px high, the plain faces' I a stem 3-4 px thick, 2 px more per pen step."""
    for face, thin in ((STROKE_FONTS[0], 4), (STROKE_FONTS[1], 3)):
        assert 75 <= _glyph(face, "H", 0).shape[0] <= 81, face
        stems = [int((_glyph(face, "I", stroke)[40] > 127).sum()) for stroke in range(3)]
        assert stems == [thin, thin + 2, thin + 4], (face, stems)
    for ch in ("a", "AB", ""):
        with pytest.raises(ValueError, match=f"the Hershey stroke faces hold 0-9 and A-Z, not {ch!r}"):
            _glyph(STROKE_FONTS[0], ch, 0)
