"""The plate faces' drawing: corners rounded as the faces say, and glyphs drawn on their whole padded cell."""
import numpy as np
import pytest

from ocr.plate_faces import _arc, _rounded, plate_glyph


def test_a_corner_is_rounded_by_a_curve_through_its_point_and_the_ends_are_kept():
    out = _rounded(((0, 0), (0, 1), (1, 1)), 0.2, steps=3)  # a right angle at (0, 1)
    np.testing.assert_allclose(out, [(0, 0), (0, 0.8), (0.05, 0.95), (0.2, 1), (1, 1)])  # t = 0, 1/2, 1 of the curve
    assert _rounded(((0, 0), (0, 1), (1, 1)), 0.0) == [(0, 0), (0, 1), (1, 1)]  # no rounding: as drawn
    wide = _rounded(((0, 0), (0, 1), (1, 1)), 0.8, steps=2)  # no further than half of either side
    np.testing.assert_allclose(wide, [(0, 0), (0, 0.5), (0.5, 1), (1, 1)])
    short_in = _rounded(((0, 0.6), (0, 1), (1, 1)), 0.8, steps=2)  # the side in 0.4 long: 0.2 each way
    np.testing.assert_allclose(short_in, [(0, 0.6), (0, 0.8), (0.2, 1), (1, 1)])
    short_out = _rounded(((0, 0), (0, 1), (0.4, 1)), 0.8, steps=2)  # the side out 0.4 long
    np.testing.assert_allclose(short_out, [(0, 0), (0, 0.8), (0.2, 1), (0.4, 1)])
    assert len(_rounded(((0, 0), (0, 1), (1, 1)), 0.2)) == 2 + 8  # 8 points a corner by default


def test_sharp_corners_and_straight_runs_stay_as_drawn_and_repeats_go():
    apex = ((0, 1), (0.1, 0), (0.2, 1))  # the apex of a V, under 60 degrees: pointed, as in the faces it imitates
    assert _rounded(apex, 0.2) == [(0, 1), (0.1, 0), (0.2, 1)]
    straight = ((0, 0), (0.5, 0.01), (1, 0))  # over 175 degrees: nothing to round
    assert _rounded(straight, 0.2) == [(0, 0), (0.5, 0.01), (1, 0)]
    assert _rounded(((0, 0), (0, 0), (0, 1)), 0.2) == [(0, 0), (0, 1)]  # a point repeating the one before: dropped


def test_a_closed_stroke_has_every_corner_rounded_and_ends_where_it_began():
    square = _rounded(((0, 0), (1, 0), (1, 1), (0, 1), (0, 0)), 0.1, steps=2)
    np.testing.assert_allclose(square, [(0, 0.1), (0.1, 0), (0.9, 0), (1, 0.1), (1, 0.9), (0.9, 1), (0.1, 1),
                                        (0, 0.9), (0, 0.1)], atol=1e-12)


def test_an_arc_runs_between_its_angles_on_its_ellipse():
    np.testing.assert_allclose(_arc(0.5, 0.5, 0.5, 0.25, 0, 180, 3), [(1, 0.5), (0.5, 0.75), (0, 0.5)], atol=1e-12)
    assert len(_arc(0, 0, 1, 1, 0, 90)) == 14


@pytest.mark.parametrize("face, stroke, shape", [
    ("din", 0, (113, 69)),  # the pen 13 % of 96 px: 12.5 px; 96 x 52 padded by half the pen and a pixel each side
    ("din", 2, (115, 71)),  # the thickest pen, 24 % more: 15.5 px
    ("plain", 0, (111, 63)),  # 11 %: 10.6 px, on a cell half as wide as high
])
def test_a_glyph_is_its_whole_cell_padded_for_the_pen(face, stroke, shape):
    from ocr.plate_faces import PLATE_FACES

    glyph = plate_glyph(face, "I", stroke)
    assert glyph.shape == shape
    pen = PLATE_FACES[face].pen * 96 * (1 + 0.12 * stroke)
    ink = glyph[shape[0] // 2].sum() / 255  # across the I's stem
    assert pen <= ink <= pen + 3  # the pen, and its anti-aliased edges
