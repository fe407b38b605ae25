"""Synthetic plates of a format the user gives (`fmt:LL DD LLL`), for a country's plates the shipped layouts do not
draw: its plates are then in the training mix (`python ocr/synth.py --mix "fmt:LL DD LLL=1"`, a data source's
`synth: "latin=0.5,fmt:LL DD LLL=0.5"`).

In a format, as in the decoder's plate patterns (`fusion.patterns`), `D` is a digit, `L` a letter, `*` either; a
space or a dash parts the printed groups (never part of the text); any other capital letter or digit is printed as
itself (`fmt:B DD LLL`: Bucharest's). The plate is one row on a plain, yellow or dark plate, sometimes with a band
at its left and a border.
"""
from __future__ import annotations

import re
from functools import lru_cache

import numpy as np

from common.errors import UserError
from ocr.synth_glyphs import draw_chars, draw_text, font_files, random_color
from ocr.synth_render import DIGITS, LETTERS, Plate, _border, _canvas

PREFIX = "fmt:"
CODES = {"D": DIGITS, "L": LETTERS, "*": DIGITS + LETTERS}
MAX_CHARS = 12  # a one-row plate's most characters (the CRNN's 50 frames read far more; no plate has)


def is_format(name: str) -> bool:
    """Whether a layout name is a format (`fmt:...`)."""
    return name.startswith(PREFIX)


@lru_cache(maxsize=64)
def format_groups(name: str) -> tuple[str, ...]:
    """The printed groups of format layout `name` (`fmt:LL DD-LLL` -> LL, DD, LLL); a UserError naming it for one
    that draws no character, too many, or one that cannot be printed."""
    groups = tuple(g for g in re.split(r"[ \-]+", name[len(PREFIX):].strip()) if g)
    n = sum(map(len, groups))
    odd = sorted({c for g in groups for c in g if not ("A" <= c <= "Z" or "0" <= c <= "9" or c in CODES)})
    if odd:
        raise UserError(f"synthetic format {name!r}: {''.join(odd)!r} cannot be printed (D: a digit, L: a letter, "
                        "*: either, a space or - between groups, other capital letters and digits as themselves)")
    if not 1 <= n <= MAX_CHARS:
        raise UserError(f"synthetic format {name!r}: {n} characters (1 to {MAX_CHARS})")
    return groups


def format_chars(name: str) -> str:
    """The characters the plates of format layout `name` are drawn from."""
    return "".join(dict.fromkeys("".join(CODES.get(c, c) for g in format_groups(name) for c in g)))


def render_format(name: str, rng: np.random.Generator, fonts: tuple[str, ...] = ()) -> Plate:
    """A one-row plate of format layout `name`, its characters in one of `fonts` (default: the TrueType faces)."""
    main, _ = font_files()
    groups = ["".join(str(rng.choice(list(CODES[c]))) if c in CODES else c for c in g) for g in format_groups(name)]
    n = sum(map(len, groups))
    h = 110
    w = int(h * float(np.clip(0.45 * n + 0.9, 2.0, 5.2)) * rng.uniform(0.92, 1.1))
    look = rng.random()
    if look < 0.45:  # white, black characters
        bg, ink = (int(rng.integers(215, 256)),) * 3, (20, 20, 20)
    elif look < 0.65:  # yellow (a rear plate in the UK, the Netherlands, ...)
        bg, ink = (int(rng.integers(0, 60)), int(rng.integers(190, 230)), int(rng.integers(220, 256))), (15, 15, 15)
    elif look < 0.75:  # dark, light characters
        bg, ink = (int(rng.integers(0, 50)),) * 3, (int(rng.integers(200, 256)),) * 3
    else:
        bg, ink = random_color(rng, dark=False), random_color(rng, dark=True)
    c = _canvas(w, h, bg, rng)
    left = 0
    if rng.random() < 0.4:  # a band at the left with a country's letters
        left = int(w * rng.uniform(0.07, 0.1))
        c[:, :left] = random_color(rng, dark=True)
        code = "".join(str(rng.choice(list(LETTERS))) for _ in range(int(rng.integers(1, 4))))
        draw_text(c, code, (left // 2, int(h * 0.75)), int(h * 0.2), (255, 255, 255), main[0])
    draw_chars(c, groups, (left + 8, int(h * 0.12), w - left - 16, int(h * 0.76)), ink, str(rng.choice(fonts or main)),
               rng, sep=str(rng.choice([" ", " ", "-"])))
    if rng.random() < 0.6:
        _border(c, ink, rng)
    return Plate(c, "".join(groups))
