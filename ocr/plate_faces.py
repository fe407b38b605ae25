"""Monoline plate faces of our own: the condensed, even-stroke sans shapes of licence plates (DIN 1451 and its
kin: German, Argentinian, Mercosur and many US plates), which none of the TrueType or Hershey faces resembles.

Each character is a few polylines on a unit cell (x right, y down, both 0..1); a corner inside a polyline is
rounded, where two polylines meet it stays square (the left side of B, D, E, P). A face is that skeleton drawn
with its own corner rounding, pen width and details (serifs on I, a foot on 1): rounding 0 gives the squared
shapes of embossed plates, a large one the round ones of DIN. A second skeleton set, `round`, draws the bowls of
0, 2, 3, 5, 6, 8, 9, B, C, D, G, O, P, Q, R, S, U, J as true arcs, with the straight diagonals of 3, 6 and 9 that
the FE-Schrift of Mercosur and German plates uses against altering one character into another (3 into 8, 6 into
8). Drawn by OpenCV, so they need no font file.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

Point = tuple[float, float]
Stroke = tuple[Point, ...]

# O and Q: an octagon, rounder than 0's rounded box
_OVAL = ((0.3, 0), (0.7, 0), (1, 0.25), (1, 0.75), (0.7, 1), (0.3, 1), (0, 0.75), (0, 0.25), (0.3, 0))
SKELETONS: dict[str, tuple[Stroke, ...]] = {
    "0": (((0.08, 0), (0.92, 0), (0.92, 1), (0.08, 1), (0.08, 0)),),
    "1": (((0.2, 0.22), (0.62, 0), (0.62, 1)),),
    "2": (((0, 0.25), (0, 0), (1, 0), (1, 0.42), (0, 1), (1, 1)),),
    "3": (((0.05, 0), (0.95, 0), (0.4, 0.42), (1, 0.42), (1, 1), (0, 1), (0, 0.82)),),
    "4": (((0.75, 1), (0.75, 0), (0, 0.68), (1, 0.68)),),
    "5": (((0.95, 0), (0.05, 0), (0, 0.45), (1, 0.42), (1, 1), (0, 1), (0, 0.85)),),
    "6": (((0.95, 0.12), (0.95, 0), (0, 0), (0, 1), (1, 1), (1, 0.45), (0, 0.45)),),
    "7": (((0, 0), (1, 0), (0.3, 1)),),
    "8": (((0.08, 0), (0.92, 0), (0.92, 0.46), (0.08, 0.46), (0.08, 0)),
          ((0, 0.46), (1, 0.46), (1, 1), (0, 1), (0, 0.46))),
    "9": (((0.05, 0.88), (0.05, 1), (1, 1), (1, 0), (0, 0), (0, 0.55), (1, 0.55)),),
    "A": (((0, 1), (0.5, 0), (1, 1)), ((0.16, 0.7), (0.84, 0.7))),
    "B": (((0, 0), (0.85, 0), (0.85, 0.46), (0, 0.46)), ((0, 0.46), (1, 0.46), (1, 1), (0, 1), (0, 0))),
    "C": (((1, 0.18), (1, 0), (0, 0), (0, 1), (1, 1), (1, 0.82)),),
    "D": (((0, 0), (0.65, 0), (1, 0.3), (1, 0.7), (0.65, 1), (0, 1)), ((0, 0), (0, 1))),
    "E": (((0, 0), (1, 0)), ((0, 0), (0, 1)), ((0, 1), (1, 1)), ((0, 0.48), (0.8, 0.48))),
    "F": (((0, 0), (1, 0)), ((0, 0), (0, 1)), ((0, 0.48), (0.8, 0.48))),
    "G": (((1, 0.2), (1, 0), (0, 0), (0, 1), (1, 1), (1, 0.55), (0.5, 0.55)),),
    "H": (((0, 0), (0, 1)), ((1, 0), (1, 1)), ((0, 0.48), (1, 0.48))),
    "I": (((0.5, 0), (0.5, 1)),),
    "J": (((1, 0), (1, 1), (0, 1), (0, 0.7)),),
    "K": (((0, 0), (0, 1)), ((1, 0), (0, 0.62)), ((0.32, 0.42), (1, 1))),
    "L": (((0, 0), (0, 1)), ((0, 1), (1, 1))),
    "M": (((0, 1), (0, 0), (0.5, 0.62), (1, 0), (1, 1)),),
    "N": (((0, 1), (0, 0), (1, 1), (1, 0)),),
    "O": (_OVAL,),
    "P": (((0, 0), (0, 1)), ((0, 0), (1, 0), (1, 0.52), (0, 0.52))),
    "Q": (_OVAL, ((0.55, 0.68), (1, 1))),
    "R": (((0, 0), (0, 1)), ((0, 0), (1, 0), (1, 0.5), (0, 0.5)), ((0.45, 0.5), (1, 1))),
    "S": (((1, 0.12), (1, 0), (0, 0), (0, 0.48), (1, 0.5), (1, 1), (0, 1), (0, 0.88)),),
    "T": (((0, 0), (1, 0)), ((0.5, 0), (0.5, 1))),
    "U": (((0, 0), (0, 1), (1, 1), (1, 0)),),
    "V": (((0, 0), (0.5, 1), (1, 0)),),
    "W": (((0, 0), (0.22, 1), (0.5, 0.3), (0.78, 1), (1, 0)),),
    "X": (((0, 0), (1, 1)), ((1, 0), (0, 1))),
    "Y": (((0, 0), (0.5, 0.5), (1, 0)), ((0.5, 0.5), (0.5, 1))),
    "Z": (((0, 0), (1, 0), (0, 1), (1, 1)),),
}


def _arc(cx: float, cy: float, rx: float, ry: float, a0: float, a1: float, n: int = 14) -> Stroke:
    """Points of an elliptic arc from angle a0 to a1 (degrees; 0 = right, 90 = down, as y points down)."""
    t = np.radians(np.linspace(a0, a1, n))
    return tuple((float(cx + rx * np.cos(a)), float(cy + ry * np.sin(a))) for a in t)


_ROUND_O = _arc(0.5, 0.5, 0.5, 0.5, 0, 360, 25)
_ROUND_P_BOWL = ((0, 0), (0.55, 0)) + _arc(0.55, 0.26, 0.45, 0.26, 270, 450, 9) + ((0, 0.52),)  # P and R
ROUND_SKELETONS: dict[str, tuple[Stroke, ...]] = {  # the `round` set: these characters differ, the rest are shared
    "0": (_arc(0.5, 0.3, 0.42, 0.3, 180, 360, 9) + _arc(0.5, 0.7, 0.42, 0.3, 0, 180, 9) + ((0.08, 0.3),),),
    "2": (_arc(0.5, 0.27, 0.47, 0.27, 190, 380) + ((0, 1), (1, 1)),),
    "3": (((0.05, 0), (0.95, 0), (0.42, 0.39)) + _arc(0.5, 0.69, 0.5, 0.31, -100, 150),),
    "5": (((0.95, 0), (0.1, 0), (0.06, 0.45), (0.25, 0.4)) + _arc(0.5, 0.68, 0.5, 0.32, -120, 150),),
    "6": (((0.8, 0), (0.04, 0.6)), _arc(0.5, 0.69, 0.5, 0.31, 0, 360, 21)),
    "8": (_arc(0.5, 0.24, 0.4, 0.24, 0, 360, 19), _arc(0.5, 0.73, 0.5, 0.27, 0, 360, 21)),
    "9": (((0.2, 1), (0.96, 0.4)), _arc(0.5, 0.31, 0.5, 0.31, 0, 360, 21)),
    "B": (((0, 0), (0, 1)), ((0, 0), (0.6, 0)) + _arc(0.6, 0.23, 0.34, 0.23, 270, 450, 9) + ((0, 0.46),),
          ((0, 0.46), (0.55, 0.46)) + _arc(0.55, 0.73, 0.45, 0.27, 270, 450, 9) + ((0, 1),)),
    "C": (_arc(0.5, 0.5, 0.5, 0.5, 320, 40, 19),),
    "D": (((0, 0), (0, 1)), ((0, 0), (0.45, 0)) + _arc(0.45, 0.5, 0.55, 0.5, 270, 450) + ((0, 1),)),
    "G": (_arc(0.5, 0.5, 0.5, 0.5, 320, 0, 19) + ((1, 0.55), (0.55, 0.55)),),
    "J": (((1, 0), (1, 0.65)) + _arc(0.5, 0.65, 0.5, 0.35, 0, 160, 9),),
    "O": (_ROUND_O,),
    "P": (((0, 0), (0, 1)), _ROUND_P_BOWL),
    "Q": (_ROUND_O, ((0.6, 0.7), (1, 1))),
    "R": (((0, 0), (0, 1)), _ROUND_P_BOWL, ((0.45, 0.52), (1, 1))),
    "S": (_arc(0.5, 0.26, 0.47, 0.26, 340, 90, 12) + _arc(0.5, 0.75, 0.5, 0.25, 270, 520, 12),),
    "U": (((0, 0), (0, 0.6)) + _arc(0.5, 0.6, 0.5, 0.4, 180, 0, 11) + ((1, 0),),),
}
_SKELETON_SETS = {"angular": {}, "round": ROUND_SKELETONS}  # a face's skeleton set: what differs from SKELETONS
# details a face may add: serifs on I, a foot on 1
_SERIFS = {"I": (((0.22, 0), (0.78, 0)), ((0.22, 1), (0.78, 1))), "1": (((0.28, 1), (0.96, 1)),)}


@dataclass(frozen=True)
class PlateFace:
    """How a skeleton is drawn: corner rounding (fraction of the cell height), pen (fraction of the cell height),
    cell width (fraction of its height), whether I and 1 get serifs and a foot, and the skeleton set (`angular`: the
    polylines of `SKELETONS`; `round`: their bowls as arcs, `ROUND_SKELETONS`)."""
    rounding: float
    pen: float
    width: float = 0.55
    serifs: bool = False
    skeleton: str = "angular"


PLATE_FACES = {  # name -> face; `plate:NAME` in a synthetic plate's faces
    "din": PlateFace(rounding=0.3, pen=0.13),  # round corners: German, Argentinian, Mercosur plates
    "square": PlateFace(rounding=0.04, pen=0.14, serifs=True),  # squared: embossed US and older plates
    "narrow": PlateFace(rounding=0.16, pen=0.1, width=0.45, serifs=True),  # tall and light: many US plates
    "wide": PlateFace(rounding=0.22, pen=0.15, width=0.62),  # broad and heavy: EU and Argentinian plates
    "plain": PlateFace(rounding=0.0, pen=0.11, width=0.5),  # sharp corners, light pen: stamped and printed plates
    # round bowls and straight diagonals (FE-Schrift, DIN): Mercosur, German, newer Argentinian plates
    "round": PlateFace(rounding=0.12, pen=0.13, width=0.56, skeleton="round"),
    "round_narrow": PlateFace(rounding=0.06, pen=0.1, width=0.46, skeleton="round"),
    "round_bold": PlateFace(rounding=0.15, pen=0.17, width=0.62, skeleton="round"),
}


def _rounded(stroke: Stroke, radius: float, steps: int = 8) -> list[Point]:
    """The polyline with each corner of 60 degrees or more rounded by a quadratic curve of about `radius`;
    sharper corners (the apex of A, V, M) stay pointed, as in the faces it imitates. A point repeating the one
    before it (where an arc meets a line) is dropped."""
    pts = [np.asarray(p, np.float64) for i, p in enumerate(stroke) if i == 0 or not np.allclose(p, stroke[i - 1])]
    closed = len(pts) > 2 and np.allclose(pts[0], pts[-1])
    if closed:
        pts = pts[:-1]
    out: list[np.ndarray] = []
    n = len(pts)
    for i, p in enumerate(pts):
        if not closed and i in (0, n - 1):
            out.append(p)
            continue
        a, b = pts[i - 1] - p, pts[(i + 1) % n] - p
        la, lb = np.linalg.norm(a), np.linalg.norm(b)
        angle = np.degrees(np.arccos(np.clip(a @ b / (la * lb), -1, 1)))
        if radius <= 0 or angle < 60 or angle > 175:
            out.append(p)
            continue
        d = min(radius, la / 2, lb / 2)
        p0, p1 = p + a / la * d, p + b / lb * d
        for t in np.linspace(0, 1, steps):
            out.append((1 - t) ** 2 * p0 + 2 * (1 - t) * t * p + t ** 2 * p1)
    if closed:
        out.append(out[0])
    return [(float(x), float(y)) for x, y in out]


def plate_glyph(name: str, ch: str, stroke: int, height: int = 96) -> np.ndarray:
    """Alpha mask of `ch` in the plate face `name`, its whole cell (`height` tall) so that narrow characters keep
    their width; `stroke` 0-2 thickens the pen by up to 24 %."""
    face = PLATE_FACES[name]
    pen = face.pen * height * (1 + 0.12 * stroke)
    pad = int(np.ceil(pen / 2)) + 1
    w, h = face.width * height, float(height)
    img = np.zeros((int(h) + 2 * pad + 1, int(w) + 2 * pad + 1), np.uint8)
    inner_w, inner_h = w - pen, h - pen  # the pen's centre line stays inside the cell
    strokes = _SKELETON_SETS[face.skeleton].get(ch, SKELETONS[ch]) + (_SERIFS.get(ch, ()) if face.serifs else ())
    for s in strokes:
        pts = _rounded(s, face.rounding)
        xy = np.array([(pad + pen / 2 + x * inner_w, pad + pen / 2 + y * inner_h) for x, y in pts])
        cv2.polylines(img, [np.round(xy * 16).astype(np.int32)], False, 255, max(1, int(round(pen))), cv2.LINE_AA,
                      shift=4)
    return img
