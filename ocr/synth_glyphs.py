"""The faces a synthetic plate's characters are drawn in, and the drawing: TrueType fonts found on the machine,
OpenCV's Hershey stroke faces and our own plate faces (`ocr/plate_faces.py`), as font names a renderer picks from
(`char_fonts`), each glyph a cached grey mask blended onto the plate (`draw_chars`, `draw_text`).
"""
from __future__ import annotations

import glob
import os
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from common.errors import UserError
from ocr.plate_faces import PLATE_FACES, plate_glyph

BGR = tuple[int, int, int]  # an OpenCV colour


@lru_cache(maxsize=1)
def font_files() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(fonts for plate characters, fonts for small decorative text), from matplotlib and the system."""
    import matplotlib

    dirs = [os.path.join(os.path.dirname(matplotlib.__file__), "mpl-data", "fonts", "ttf"),
            "/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/truetype/liberation"]
    by_name = {os.path.basename(f): f for d in dirs for f in glob.glob(os.path.join(d, "*.ttf"))}
    # in order of name, not of path: the faces' order (and so every draw) must not depend on where matplotlib is
    files = [by_name[name] for name in sorted(by_name)]
    main_names = ("DejaVuSans-Bold", "DejaVuSans.", "DejaVuSansMono-Bold", "DejaVuSansMono.", "DejaVuSerif-Bold",
                  "DejaVuSansCondensed-Bold", "DejaVuSansCondensed.", "STIXGeneralBol", "cmss10", "cmtt10",
                  "LiberationSans-Bold", "LiberationMono-Bold", "LiberationSansNarrow-Bold")
    deco_names = ("DejaVuSerif-Italic", "DejaVuSerif-BoldItalic", "DejaVuSans-Oblique", "cmr10", "cmti10",
                  "STIXGeneralItalic", "DejaVuSans-Bold", "DejaVuSerif.")
    main = tuple(f for f in files if any(n in os.path.basename(f) for n in main_names)
                 and "Oblique" not in f and "Italic" not in f)
    deco = tuple(f for f in files if any(n in os.path.basename(f) for n in deco_names))
    if not main:
        raise RuntimeError("no TrueType fonts found (matplotlib's DejaVu fonts are expected)")
    return main, deco or main


# OpenCV's Hershey stroke faces, drawn with a pen of any width: monoline shapes unlike the TrueType faces above
# (their own 1, 4, 7, 0, B, G, Q, ...), closer to the engraving and DIN-like faces of many plates. OpenCV 5 draws
# these faces in its embedded TrueType font, so their characters come from `ATLAS`, drawn once by OpenCV 4
# (`bench/hershey_atlas.py`): the same strokes whichever OpenCV is installed
STROKE_FACES = (cv2.FONT_HERSHEY_SIMPLEX, cv2.FONT_HERSHEY_PLAIN, cv2.FONT_HERSHEY_DUPLEX, cv2.FONT_HERSHEY_COMPLEX,
                cv2.FONT_HERSHEY_TRIPLEX, cv2.FONT_HERSHEY_COMPLEX_SMALL)
STROKE_FONTS = tuple(f"hershey:{face}" for face in STROKE_FACES)
ATLAS = Path(__file__).with_name("hershey_strokes.npz")
ATLAS_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
# our own plate faces (`ocr/plate_faces.py`): the angular skeletons (`plate`) and the round ones (`round`)
PLATE_FONTS = tuple(f"plate:{name}" for name, face in PLATE_FACES.items() if face.skeleton == "angular")
ROUND_FONTS = tuple(f"plate:{name}" for name, face in PLATE_FACES.items() if face.skeleton == "round")
FONT_SETS = ("ttf", "stroke", "plate", "round", "all")  # character faces a synthetic plate is drawn in (`char_fonts`)


def char_fonts(name: str) -> tuple[str, ...]:
    """The character faces of a font set: `ttf` (the TrueType faces, the default), `stroke` (`STROKE_FONTS`), `plate`
    (`PLATE_FONTS`), `round` (`ROUND_FONTS`), `all`, or several joined by `+` (`ttf+stroke`)."""
    sets = {"ttf": font_files()[0], "stroke": STROKE_FONTS, "plate": PLATE_FONTS, "round": ROUND_FONTS}
    sets["all"] = sets["ttf"] + sets["stroke"] + sets["plate"] + sets["round"]
    parts = name.split("+")
    for part in parts:
        if part not in sets:
            where = f" in {name!r}" if part != name else ""
            raise UserError(f"unknown font set {part!r}{where} (known: {', '.join(FONT_SETS)}, joined by +)")
    return tuple(dict.fromkeys(f for part in parts for f in sets[part]))


def atlas_key(face: int, ch: str) -> str:
    """A Hershey character's name in `ATLAS`."""
    return f"{face}_{ch}"


@lru_cache(maxsize=1)
def _atlas() -> dict[str, np.ndarray]:
    with np.load(ATLAS, allow_pickle=False) as stored:
        return {key: stored[key] for key in stored.files}


def _stroke_glyph(face: int, ch: str, stroke: int) -> np.ndarray:
    """A Hershey character about 80 px tall with a pen 2-6 px wide (`stroke` 0-2), as an alpha mask."""
    line = _atlas().get(atlas_key(face, ch))  # drawn with a 2 px pen, OpenCV drawing these faces no wider
    if line is None:
        raise ValueError(f"the Hershey stroke faces hold 0-9 and A-Z, not {ch!r}")
    return widen(line, stroke)


def widen(line: np.ndarray, stroke: int) -> np.ndarray:
    """A line drawn with OpenCV's 2 px pen (the widest it draws the Hershey faces with), drawn with a wider one."""
    pen = 1 + 2 * stroke  # so a wider pen is a disc swept along the 2-px line (2-6 px in all)
    return cv2.dilate(line, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (pen, pen)))


def ink(mask: np.ndarray) -> np.ndarray:
    """A glyph's mask cut to its ink (above 40 of 255); a blank 96 x 48 where it has none."""
    ys, xs = np.nonzero(mask > 40)
    return mask[ys.min():ys.max() + 1, xs.min():xs.max() + 1] if len(xs) else np.zeros((96, 48), np.uint8)


@lru_cache(maxsize=4096)
def _glyph(font: str, ch: str, stroke: int) -> np.ndarray:
    """Alpha mask of one character, rendered at 96 px, cropped tight (a `hershey:` face: drawn by OpenCV; a `plate:`
    face: its whole cell, so that narrow characters stay narrow)."""
    if font.startswith("plate:"):
        return plate_glyph(font.split(":")[1], ch, stroke)
    if font.startswith("hershey:"):
        a = _stroke_glyph(int(font.split(":")[1]), ch, stroke)
    else:
        img = Image.new("L", (160, 160), 0)
        ImageDraw.Draw(img).text((20, 10), ch, font=ImageFont.truetype(font, 96), fill=255, stroke_width=stroke,
                                 stroke_fill=255)
        a = np.array(img)
    return ink(a)


def _blend(canvas: np.ndarray, mask: np.ndarray, x: int, y: int, color: tuple[int, int, int]) -> None:
    """Alpha-blend a solid colour through `mask` at (x, y), clipped to the canvas."""
    h, w = mask.shape
    H, W = canvas.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, W), min(y + h, H)
    if x1 <= x0 or y1 <= y0:
        return
    a = mask[y0 - y:y1 - y, x0 - x:x1 - x, None].astype(np.float32) / 255.0
    roi = canvas[y0:y1, x0:x1].astype(np.float32)
    canvas[y0:y1, x0:x1] = (roi * (1 - a) + np.array(color, np.float32) * a).astype(np.uint8)


def draw_chars(canvas: np.ndarray, groups: list[str], box: tuple[int, int, int, int], color: BGR, font: str,
               rng: np.random.Generator, sep: str = " ", aspect_range: tuple[float, float] = (0.42, 0.68)) -> None:
    """Draw character groups evenly into box=(x, y, w, h): each glyph scaled to the box height, its width
    `aspect_range` x its height."""
    x, y, w, h = box
    stroke = int(rng.integers(0, 3))
    aspect = rng.uniform(*aspect_range)
    gap = rng.uniform(0.06, 0.2)
    n = sum(len(g) for g in groups)
    sep_w = rng.uniform(0.35, 0.9)
    total = n * aspect + (n - 1) * gap * aspect + (len(groups) - 1) * sep_w * aspect
    unit = min(h, w / total)  # glyph height that fits
    cw, ch = unit * aspect, unit
    cx = x + (w - total * unit) / 2
    cy = y + (h - ch) / 2
    for gi, g in enumerate(groups):
        for c in g:
            m = _glyph(font, c, stroke)
            gw = max(2, int(round(cw if c not in "1I" else min(cw, ch * m.shape[1] / m.shape[0] * 1.3))))
            m = cv2.resize(m, (gw, max(2, int(round(ch)))), interpolation=cv2.INTER_AREA)
            _blend(canvas, m, int(round(cx + (cw - gw) / 2)), int(round(cy)), color)
            cx += cw * (1 + gap)
        if gi < len(groups) - 1:
            sw = sep_w * cw
            if sep == "-":
                cv2.rectangle(canvas, (int(cx), int(cy + ch * 0.45)), (int(cx + sw * 0.7), int(cy + ch * 0.55)), color, -1)
            elif sep == ".":
                cv2.circle(canvas, (int(cx + sw * 0.3), int(cy + ch / 2)), max(1, int(ch * 0.06)), color, -1)
            elif sep == "o":  # an emblem in the middle of the gap, clear of the characters on either side
                radius = max(2, int(min(ch * 0.18, sw * 0.45)))
                cv2.circle(canvas, (int(cx - cw * gap + sw / 2), int(cy + ch / 2)), radius, random_color(rng), -1)
            cx += sw - cw * gap


def draw_text(canvas: np.ndarray, text: str, center: tuple[int, int], height: int, color: BGR, font: str) -> None:
    """Small decorative text (state names, slogans), centred, not part of the label."""
    f = ImageFont.truetype(font, max(6, height))
    img = Image.new("L", (max(8, int(height * len(text) * 0.9) + 8), int(height * 1.6)), 0)
    ImageDraw.Draw(img).text((4, 0), text, font=f, fill=255)
    m = np.array(img)
    xs = np.nonzero(m.max(axis=0) > 0)[0]
    if len(xs):
        m = m[:, xs.min():xs.max() + 1]
    _blend(canvas, m, center[0] - m.shape[1] // 2, center[1] - m.shape[0] // 2, color)


def random_color(rng: np.random.Generator, dark: bool | None = None) -> tuple[int, int, int]:
    """A random BGR colour: dark, light, or any (`dark=None`)."""
    lo, hi = (0, 256) if dark is None else (0, 90) if dark else (170, 256)
    b, g, r = (int(v) for v in rng.integers(lo, hi, 3))
    return b, g, r
