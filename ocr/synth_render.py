"""Render clean synthetic plates of several real layouts; returns a BGR plate image and its label.

Layouts: `digits11` (the guide's 11-digit plates), `us` (state name, slogan, stickers, stacked small
characters), `eu` (blue band with country code, spaced groups, county codes), `br_old`, `br_mercosur`,
`ar_old`, `ar_mercosur`, `two_row` (motorcycle plates, written top row then bottom row).
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from ocr.synth_glyphs import BGR, draw_chars, draw_text, font_files, random_color

DIGITS = "0123456789"
LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
US_LETTERS = "ABCDEFGHJKLMNPRSTUVWXYZ"  # most US states never issue I, O or Q (too like 1 and 0)

US_STATES = ("ALABAMA", "ALASKA", "ARIZONA", "Arkansas", "CALIFORNIA", "Colorado", "CONNECTICUT", "DELAWARE",
             "Florida", "GEORGIA", "Hawaii", "IDAHO", "Illinois", "INDIANA", "IOWA", "KANSAS", "KENTUCKY",
             "Louisiana", "MAINE", "Maryland", "Massachusetts", "MICHIGAN", "Minnesota", "MISSISSIPPI",
             "MISSOURI", "MONTANA", "NEBRASKA", "NEVADA", "New Hampshire", "NEW JERSEY", "NEW MEXICO",
             "NEW YORK", "North Carolina", "NORTH DAKOTA", "OHIO", "Oklahoma", "Oregon", "PENNSYLVANIA",
             "Rhode Island", "South Carolina", "SOUTH DAKOTA", "TENNESSEE", "TEXAS", "UTAH", "Vermont",
             "VIRGINIA", "WASHINGTON", "West Virginia", "Wisconsin", "WYOMING", "THE FIRST STATE")
SLOGANS = ("First in Flight", "Land of Lincoln", "Spirit of America", "Ocean State", "Garden State",
           "Great Lakes", "10,000 lakes", "Wild, Wonderful", "Famous Potatoes", "Sunshine State",
           "www.visitPA.com", "Green Mountain", "Live Free or Die", "Grand Canyon State", "Aloha State",
           "America's Dairyland", "Lone Star State", "Centennial", "Sportsman's Paradise", "The Silver State",
           "Evergreen State", "Peach State", "dmv.gov", "Land of Enchantment", "Empire State")
US_FORMATS = ("DLLDDD", "LLLDDDD", "DDDLLL", "LLLDDD", "DLLLDDD", "DDDDDD", "LLDDDDD", "DDLDDD", "LDDDDD",
              "DDDLDD", "LLLLDD", "DDDDLL", "LLDDDD", "DDDDD", "LLDDDL", "DDLLLD", "LLLDLD", "DDDDDDD", "LLLL",
              "DLDDD", "LDLDLD", "DDDLLLL")
EU_CODES = ("RO", "D", "F", "I", "NL", "PL", "B", "E", "P", "CZ", "H", "A", "BG", "S", "L", "SK", "LT")
RO_COUNTIES = ("B", "AB", "AG", "AR", "BC", "BH", "BN", "BR", "BT", "BV", "BZ", "CJ", "CL", "CS", "CT", "CV",
               "DB", "DJ", "GJ", "GL", "GR", "HD", "HR", "IF", "IL", "IS", "MH", "MM", "MS", "NT", "OT", "PH",
               "SB", "SJ", "SM", "SV", "TL", "TM", "TR", "VL", "VN", "VS")
LAYOUTS = ("digits11", "us", "eu", "br_old", "br_mercosur", "ar_old", "ar_mercosur", "two_row")


@dataclass(frozen=True)
class Plate:
    """A rendered synthetic plate and its text."""
    image: np.ndarray  # BGR uint8, the plate itself (no background)
    text: str
    across: int = 0  # characters across its widest row; 0: the whole text is one row

    @property
    def chars_across(self) -> int:
        return self.across or len(self.text)


def random_text(fmt: str, rng: np.random.Generator, letters: str = LETTERS) -> str:
    """Fill a format: D = digit, L = letter from `letters`, anything else kept as is."""
    return "".join(rng.choice(list(DIGITS)) if t == "D" else rng.choice(list(letters)) if t == "L" else t for t in fmt)


def _split(text: str, rng: np.random.Generator) -> list[str]:
    """Break text into 1 or 2 visual groups of 2 or more (spaces/dashes are never part of the label)."""
    if len(text) < 4 or rng.random() < 0.3:
        return [text]
    k = int(rng.integers(2, len(text) - 1))
    return [text[:k], text[k:]]


def _canvas(w: int, h: int, color: BGR, rng: np.random.Generator) -> np.ndarray:
    c = np.empty((h, w, 3), np.uint8)
    c[:] = color
    if rng.random() < 0.6:  # soft gradient
        g = np.linspace(rng.uniform(-30, 0), rng.uniform(0, 30), h if rng.random() < 0.5 else w, dtype=np.float32)
        g = g[:, None, None] if g.shape[0] == h else g[None, :, None]
        c = np.clip(c.astype(np.float32) + g, 0, 255).astype(np.uint8)
    return c


def _border(c: np.ndarray, color: BGR, rng: np.random.Generator) -> None:
    t = int(rng.integers(1, max(2, c.shape[0] // 25)))
    cv2.rectangle(c, (t, t), (c.shape[1] - 1 - t, c.shape[0] - 1 - t), color, t)


def render_digits11(rng: np.random.Generator, fonts: tuple[str, ...] = ()) -> Plate:
    """The guide's 11-digit plate."""
    main, _ = font_files()
    text = random_text("D" * 11, rng)
    h, w = 110, int(110 * rng.uniform(3.6, 4.6))
    bg = random_color(rng, dark=False) if rng.random() < 0.4 else (245, 245, 245)
    c = _canvas(w, h, bg, rng)
    if rng.random() < 0.7:
        _border(c, (20, 20, 20), rng)
    draw_chars(c, [text] if rng.random() < 0.6 else [text[:3], text[3:7], text[7:]], (10, 12, w - 20, h - 24),
               random_color(rng, dark=True), str(rng.choice(fonts or main)), rng, sep=str(rng.choice([" ", "-"])))
    return Plate(c, text)


def render_us(rng: np.random.Generator, fonts: tuple[str, ...] = ()) -> Plate:
    """A US plate: state name, slogan and serial, sometimes stacked small characters."""
    main, deco = font_files()
    # serial plates skip I/O/Q as the states do; vanity-like draws (15 %) use every letter
    text = random_text(str(rng.choice(US_FORMATS)), rng, US_LETTERS if rng.random() < 0.85 else LETTERS)
    h = 150
    w = int(h * rng.uniform(1.9, 2.1))
    dark_bg = rng.random() < 0.15
    bg = random_color(rng, dark=True) if dark_bg else random_color(rng, dark=False)
    c = _canvas(w, h, bg, rng)
    for _ in range(int(rng.integers(0, 4))):  # pale scenery: hills, sun, shapes
        col = tuple(int(v) for v in np.clip(np.array(bg) + rng.integers(-60, 60, 3), 0, 255))
        if rng.random() < 0.5:
            cv2.ellipse(c, (int(rng.integers(0, w)), int(rng.integers(h // 2, h + 40))),
                        (int(rng.integers(30, w)), int(rng.integers(10, 60))), 0, 0, 360, col, -1)
        else:
            pts = np.stack([np.linspace(0, w, 6), rng.uniform(h * 0.5, h, 6)], 1).astype(np.int32)
            cv2.polylines(c, [pts], False, col, int(rng.integers(2, 8)))
    ink = random_color(rng, dark=False) if dark_bg else random_color(rng, dark=True)
    if rng.random() < 0.5:
        ink = (int(rng.integers(60, 160)), int(rng.integers(0, 60)), int(rng.integers(0, 60)))  # dark blue / navy
    draw_text(c, str(rng.choice(US_STATES)), (w // 2 + int(rng.integers(-20, 20)), int(h * 0.13)),
              int(h * rng.uniform(0.12, 0.2)), random_color(rng, dark=not dark_bg), str(rng.choice(deco)))
    if rng.random() < 0.8:
        draw_text(c, str(rng.choice(SLOGANS)), (w // 2, int(h * 0.9)), int(h * rng.uniform(0.08, 0.13)),
                  random_color(rng, dark=not dark_bg), str(rng.choice(deco)))
    for corner in range(int(rng.integers(0, 3))):  # registration stickers
        sx = int(rng.integers(4, 20)) if corner == 0 else w - int(rng.integers(30, 45))
        col = random_color(rng)
        cv2.rectangle(c, (sx, 6), (sx + 28, 26), col, -1)
        draw_text(c, str(rng.choice(["JAN", "MAY", "12", "09", "APR", "2010", "SEP"])), (sx + 14, 16), 12,
                  (255, 255, 255) if sum(col) < 380 else (0, 0, 0), deco[0])
    stacked = rng.random() < 0.12
    x0, x1 = int(w * 0.05), int(w * (0.85 if stacked else 0.95))
    draw_chars(c, _split(text, rng), (x0, int(h * 0.24), x1 - x0, int(h * rng.uniform(0.5, 0.58))), ink,
               str(rng.choice(fonts or main)), rng, sep=str(rng.choice([" ", "-", ".", "o", " "])))
    if stacked:  # two small characters stacked at the right, read after the main ones
        extra = random_text(str(rng.choice(["LL", "DD", "LD"])), rng)
        draw_chars(c, [extra[0]], (x1, int(h * 0.28), w - x1 - 6, int(h * 0.24)), ink, main[0], rng)
        draw_chars(c, [extra[1]], (x1, int(h * 0.54), w - x1 - 6, int(h * 0.24)), ink, main[0], rng)
        text += extra
    if rng.random() < 0.6:
        _border(c, ink, rng)
    return Plate(c, text)


def render_eu(rng: np.random.Generator, fonts: tuple[str, ...] = ()) -> Plate:
    """A European plate with its blue band: Romanian county codes or another EU format."""
    main, _ = font_files()
    if rng.random() < 0.5:  # Romanian: county + 2-3 digits + 3 letters
        county = str(rng.choice(RO_COUNTIES))
        digits = random_text("DDD" if county == "B" and rng.random() < 0.5 else "DD", rng)
        groups, code = [county, digits, random_text("LLL", rng)], "RO"
    else:
        fmt = str(rng.choice(["LL DDDD LL", "L LL DDDD", "LLL DDDD", "DD LLL DD", "LL DDD LL", "LL DDDDD"]))
        groups, code = [random_text(g, rng) for g in fmt.split()], str(rng.choice(EU_CODES))
    h, w = 110, int(110 * rng.uniform(4.2, 4.8))
    c = _canvas(w, h, (int(rng.integers(215, 256)),) * 3, rng)
    band = int(w * 0.085)
    c[:, :band] = (int(rng.integers(120, 180)), int(rng.integers(30, 70)), 0)
    cx, cy, r = band // 2, int(h * 0.32), int(band * 0.32)
    for k in range(12):
        a = 2 * np.pi * k / 12
        cv2.circle(c, (int(cx + r * np.cos(a)), int(cy + r * np.sin(a))), 2, (0, 210, 255), -1)
    draw_text(c, code, (cx, int(h * 0.75)), int(h * 0.22), (255, 255, 255), main[0])
    draw_chars(c, groups, (band + 8, int(h * 0.12), w - band - 16, int(h * 0.76)), (20, 20, 20),
               str(rng.choice(fonts or main)), rng)
    _border(c, (10, 10, 10), rng)
    return Plate(c, "".join(groups))


def render_br_old(rng: np.random.Generator, fonts: tuple[str, ...] = ()) -> Plate:
    """The old grey Brazilian plate (`LLLDDDD`) with its city line."""
    main, deco = font_files()
    text = random_text("LLLDDDD", rng)
    h, w = 130, int(130 * 3.08)
    grey = int(rng.integers(150, 215))
    c = _canvas(w, h, (grey, grey, grey), rng)
    draw_text(c, str(rng.choice(["SP - SAO PAULO", "RJ - RIO DE JANEIRO", "MG - BELO HORIZONTE", "PR - CURITIBA"])),
              (w // 2, int(h * 0.12)), int(h * 0.13), (20, 20, 20), str(rng.choice(deco)))
    draw_chars(c, [text[:3], text[3:]], (12, int(h * 0.25), w - 24, int(h * 0.65)), (15, 15, 15),
               str(rng.choice(fonts or main)), rng, sep="-")
    _border(c, (10, 10, 10), rng)
    return Plate(c, text)


def _mercosur(rng: np.random.Generator, text: str, country: str, fonts: tuple[str, ...] = (),
              groups: list[str] | None = None, aspect_range: tuple[float, float] = (0.42, 0.68)) -> Plate:
    """A white Mercosur plate with its blue band; `groups`: how the text is printed (default: whole, or halved)."""
    main, _ = font_files()
    h, w = 130, int(130 * 3.08)
    c = _canvas(w, h, (int(rng.integers(220, 256)),) * 3, rng)
    band = int(h * 0.22)
    c[:band] = (int(rng.integers(130, 190)), int(rng.integers(50, 90)), 0)
    draw_text(c, country, (w // 2, band // 2), int(band * 0.6), (255, 255, 255), main[0])
    if groups is None:
        groups = [text] if rng.random() < 0.5 else [text[:len(text) // 2], text[len(text) // 2:]]
    draw_chars(c, groups, (12, band + 8, w - 24, h - band - 18), (15, 15, 15), str(rng.choice(fonts or main)),
               rng, aspect_range=aspect_range)
    _border(c, (15, 15, 15), rng)
    return Plate(c, text)


def render_br_mercosur(rng: np.random.Generator, fonts: tuple[str, ...] = ()) -> Plate:
    """The Brazilian Mercosur plate (`LLLDLDD`)."""
    return _mercosur(rng, random_text("LLLDLDD", rng), "BRASIL", fonts)


def render_ar_mercosur(rng: np.random.Generator, fonts: tuple[str, ...] = ()) -> Plate:
    """The Argentinian Mercosur plate (2016-): printed `AB 123 CD` in tall narrow characters, as on the real
    crops (until the fifty-fifth session it was printed as the Brazilian one may be, whole or halved: `AB1 23CD`)."""
    text = random_text("LLDDDLL", rng)
    return _mercosur(rng, text, "REPUBLICA ARGENTINA", fonts, [text[:2], text[2:5], text[5:]], (0.38, 0.55))


def render_ar_old(rng: np.random.Generator, fonts: tuple[str, ...] = ()) -> Plate:
    """The 1995-2016 Argentinian plate: white condensed embossed characters on black inside a wide raised light
    rim that carries "REPUBLICA ARGENTINA" and the bolt holes (the look of the real crops, mostly infrared)."""
    main, _ = font_files()
    text = random_text("LLLDDD", rng)
    h = 130
    w = int(h * rng.uniform(2.2, 2.7))
    chars = fonts or main
    narrow = tuple(f for f in chars if "Condensed" in f or "Narrow" in f) or chars
    font = str(rng.choice(narrow if rng.random() < 0.7 else chars))
    rim = (int(rng.integers(170, 256)),) * 3
    c = _canvas(w, h, rim, rng)
    top, bottom, side = (int(h * rng.uniform(a, b)) for a, b in ((0.13, 0.2), (0.06, 0.11), (0.04, 0.08)))
    ink_bg = (int(rng.integers(0, 60)),) * 3
    cv2.rectangle(c, (side, top), (w - 1 - side, h - 1 - bottom), ink_bg, -1)
    cv2.rectangle(c, (side, top), (w - 1 - side, h - 1 - bottom), tuple(v // 2 for v in rim), max(1, h // 60))
    if rng.random() < 0.7:  # the rim's small text, dark on light
        draw_text(c, str(rng.choice(["REPUBLICA ARGENTINA", "ARGENTINA"])), (w // 2, top // 2), max(6, int(top * 0.5)),
                  (60, 60, 60), main[0])
    for bx in (int(w * rng.uniform(0.12, 0.2)), int(w * rng.uniform(0.8, 0.88))):  # bolt holes in the top rim
        if rng.random() < 0.7:
            cv2.ellipse(c, (bx, top // 2), (max(2, h // 22), max(2, h // 30)), 0, 0, 360, (40, 40, 40), -1)
    box = (side + 6, top + int(h * 0.05), w - 2 * side - 12, h - top - bottom - int(h * 0.1))
    seed = int(rng.integers(1 << 31))
    sep = str(rng.choice(["o", ".", " ", " "]))
    ink = (int(rng.integers(200, 256)),) * 3
    if rng.random() < 0.6:  # embossed: a shadow under the raised characters
        draw_chars(c, [text[:3], text[3:]], (box[0] + 2, box[1] + 2, box[2], box[3]), (10, 10, 10), font,
                   np.random.default_rng(seed), sep=sep, aspect_range=(0.36, 0.5))
    draw_chars(c, [text[:3], text[3:]], box, ink, font, np.random.default_rng(seed), sep=sep,
               aspect_range=(0.36, 0.5))
    return Plate(c, text)


def render_two_row(rng: np.random.Generator, fonts: tuple[str, ...] = ()) -> Plate:
    """A motorcycle plate (about as wide as tall), optionally with a Mercosur-style band on top."""
    main, _ = font_files()
    formats = [("LDD", "DLLL"), ("DDD", "LLL"), ("LLL", "DDD"), ("LL", "DDDD"), ("DDD", "LLLL")]
    top_fmt, bottom_fmt = formats[int(rng.integers(0, len(formats)))]
    top, bottom = random_text(top_fmt, rng), random_text(bottom_fmt, rng)
    h = 150
    w = int(h * rng.uniform(1.0, 1.3))
    dark = rng.random() < 0.3
    c = _canvas(w, h, random_color(rng, dark=dark), rng)
    ink = random_color(rng, dark=not dark)
    font = str(rng.choice(fonts or main))
    y0, row = int(h * 0.08), 0.4
    if rng.random() < 0.5:  # a band with the country name (Mercosur motorcycle plates)
        band = int(h * rng.uniform(0.12, 0.18))
        c[:band] = (int(rng.integers(130, 190)), int(rng.integers(50, 90)), 0)
        draw_text(c, str(rng.choice(["ARGENTINA", "BRASIL", "MERCOSUR"])), (w // 2, band // 2), int(band * 0.55),
                  (255, 255, 255), main[0])
        y0, row = band + int(h * 0.04), (h - band - int(h * 0.12)) / h / 2
    draw_chars(c, [top], (8, y0, w - 16, int(h * row)), ink, font, rng)
    draw_chars(c, [bottom], (8, y0 + int(h * (row + 0.04)), w - 16, int(h * row)), ink, font, rng)
    _border(c, ink, rng)
    return Plate(c, top + bottom, max(len(top), len(bottom)))


# the characters each layout's texts are drawn from (the fixed characters of its formats among them)
LAYOUT_CHARS = {name: DIGITS if name == "digits11" else DIGITS + LETTERS for name in LAYOUTS}

RENDERERS = {"digits11": render_digits11, "us": render_us, "eu": render_eu, "br_old": render_br_old,
             "br_mercosur": render_br_mercosur, "ar_old": render_ar_old, "ar_mercosur": render_ar_mercosur,
             "two_row": render_two_row}
