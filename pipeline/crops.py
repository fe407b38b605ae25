"""Plates cut from the frame for reading: the box with a margin (`crop_box`); a rolled plate cut level and a dim or
washed-out one stretched in contrast (`cut_plate`); an interlaced one also cut from one field (`field_window`); a
narrow crop's one-row view (`one_row_view`); `CropSpec` holds how a run cuts them.

An interlaced camera's moving plate comes out combed (its two fields moved apart along the rows), which the OCR
never learnt. A crop whose `comb_score` (detection/interlace.py) reaches `deinterlace_above` is also cut from one
field of the frame, line-doubled, and read both ways, the surer read kept (`pipeline.orchestrator.read_crops`): a
large plate's comb costs little, and its field has half its rows.

The OCR learnt plates rolled by up to ~10 degrees; beyond that its reads fall fast (a tilted camera, a car on a
slope, a photo taken askew). `plate_roll` finds the turn that lines up the crop's horizontal edges (the characters'
tops and feet, the plate's rims) in rows: the row profile of the vertical gradient is sharpest there (the
projection-profile method of document deskewing). `cut_plate` then cuts the box from the frame turned by that
angle about the box's centre, its height shrunk to the level plate's.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from detection.exposure import stretch_levels
from detection.interlace import comb_score, one_field

MAX_DEG = 30.0  # rolls searched: -30..30 degrees
HEIGHT = 32  # the crop is measured at this height (px)


def _sharpness(edges: np.ndarray, angle: float) -> float:
    h, w = edges.shape
    turned = cv2.warpAffine(edges, cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0), (w, h))
    return float(np.sum(np.diff(turned.sum(axis=1)) ** 2))


def plate_roll(crop: np.ndarray, max_deg: float = MAX_DEG) -> float:
    """Degrees to turn `crop` (counter-clockwise, as cv2.getRotationMatrix2D) to level its plate: 3-degree steps,
    then 0.5-degree steps around the best, within +-`max_deg`; of equally sharp turns the least (0 for a blank crop)."""
    g = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    h, w = g.shape[:2]
    if h < 2 or w < 2:
        return 0.0
    g = cv2.resize(g, (max(8, round(w * HEIGHT / h)), HEIGHT), interpolation=cv2.INTER_AREA).astype(np.float32)
    edges = np.abs(cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3))

    def key(a: float) -> tuple[float, float]:
        return _sharpness(edges, float(a)), -abs(float(a))

    coarse = max(np.arange(-max_deg, max_deg + 1e-6, 3.0), key=key)
    fine = np.arange(max(-max_deg, coarse - 2.0), min(max_deg, coarse + 2.0) + 1e-6, 0.5)
    return float(max(fine, key=key))


def level_size(w: float, h: float, angle: float) -> tuple[float, float]:
    """Width and height of a rectangle turned by `angle` degrees whose bounding box is w x h; the height is kept
    within 0.4-1 of h (a loose box makes the exact answer unstable as tan(angle) nears h / w)."""
    t = math.radians(abs(angle))
    c, s = math.cos(t), math.sin(t)
    c2 = c * c - s * s
    lw = (w * c - h * s) / c2 if c2 > 0.1 else w
    lh = (h * c - w * s) / c2 if c2 > 0.1 else h
    return max(lw, 0.5 * w), min(max(lh, 0.4 * h), h)


def crop_box(image: np.ndarray, box: np.ndarray, margin: float) -> np.ndarray:
    """The box cut from the full-resolution frame with a relative margin, clipped to the frame."""
    x1, y1, x2, y2 = box
    mw, mh = (x2 - x1) * margin, (y2 - y1) * margin
    H, W = image.shape[:2]
    xa, ya = int(max(0, x1 - mw)), int(max(0, y1 - mh))
    xb, yb = int(min(W, x2 + mw)), int(min(H, y2 + mh))
    return image[ya:yb, xa:xb]


def field_window(image: np.ndarray, box: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The frame around `box` (a box's size each side, for levelling) from an even frame row, de-interlaced
    (`one_field`), and the box in its coordinates."""
    x1, y1, x2, y2 = (float(v) for v in box)
    H, W = image.shape[:2]
    bw, bh = x2 - x1, y2 - y1
    xa, xb = int(max(0, x1 - bw)), int(min(W, x2 + bw + 1))
    ya, yb = int(max(0, y1 - bh)) // 2 * 2, int(min(H, y2 + bh + 1))
    return one_field(image[ya:yb, xa:xb]), np.array([x1 - xa, y1 - ya, x2 - xa, y2 - ya], np.float32)


def stretch_contrast(crop: np.ndarray, below: float) -> np.ndarray:
    """`crop` with its 1st-99th percentile of luminance stretched to 0-255 when that range is under `below` grey
    levels (a plate at night, in shade or washed out by glare); else itself."""
    if below <= 0 or crop.size == 0:
        return crop
    lo, hi = np.percentile(cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop, [1, 99])
    if hi - lo < 8 or hi - lo >= below:  # flat (nothing to stretch) or contrasted enough
        return crop
    return stretch_levels(crop, lo, hi)


def cut_plate(image: np.ndarray, box: np.ndarray, margin: float, min_deg: float = 0.0,
              stretch_below: float = 0.0) -> np.ndarray:
    """`crop_box`, or, when `min_deg` > 0 and the plate is rolled by at least that much, the plate cut level:
    the frame turned about the box's centre, the box's level plate with the margin. Then `stretch_contrast`."""
    crop = crop_box(image, box, margin)
    if min_deg > 0 and crop.shape[0] >= 8 and crop.shape[1] >= 8:
        angle = plate_roll(crop)
        if abs(angle) >= min_deg:
            crop = level_cut(image, box, margin, angle)
    return stretch_contrast(crop, stretch_below)


def level_cut(image: np.ndarray, box: np.ndarray, margin: float, angle: float) -> np.ndarray:
    """The plate in `box`, rolled by -`angle`, cut level: the frame turned by `angle` about the box's centre, the
    box's level plate (`level_size`) with the margin."""
    x1, y1, x2, y2 = (float(v) for v in box)
    lw, lh = level_size(x2 - x1, y2 - y1, angle)
    ow, oh = max(2, round(lw * (1 + 2 * margin))), max(2, round(lh * (1 + 2 * margin)))
    cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
    m = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    m[:, 2] += np.array([ow / 2 - cx, oh / 2 - cy])
    return cv2.warpAffine(image, m, (ow, oh), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


ONE_ROW_ASPECT = 200 / 64  # the OCR's input: a one-row view is stretched at least this wide


def one_row_view(crop: np.ndarray, rows: int) -> np.ndarray | None:
    """For a crop the OCR would read as a two-row plate (`rows` 2: narrower than its `two_row_aspect`), the crop
    stretched wide enough to be read as one row: a one-row plate seen from the side is as narrow. Else None."""
    if rows != 2:
        return None
    h, w = crop.shape[:2]
    return cv2.resize(crop, (max(w, round(h * ONE_ROW_ASPECT)), h), interpolation=cv2.INTER_LINEAR)


@dataclass(frozen=True)
class CropSpec:
    """How a run cuts plates for the recognizer (from `configs/pipeline.yaml`: `pipeline.settings.crop_spec`)."""
    margin: float = 0.06  # relative margin around the box
    min_height: int = 8  # crops lower than this (px) are not read
    deskew_min_deg: float = 0.0  # plates rolled at least this much are cut level; 0 = off
    stretch_below: float = 0.0  # crops whose luminance spans fewer grey levels are stretched in contrast; 0 = off
    both_ways: bool = False  # crops read as two-row plates are also read as one row (`one_row_view`), the surer kept
    views: bool = False  # each crop is read in a few views, trimmed and padded a little, the reads fused (ocr.views)
    deinterlace_above: float = 0.0  # crops whose comb_score reaches this are also read from one field; 0 = off

    def cut(self, image: np.ndarray, box: np.ndarray) -> np.ndarray | None:
        """The plate in `box` cut for reading (`cut_plate`), or None when it is too small to read."""
        crop = cut_plate(image, box, self.margin, self.deskew_min_deg, self.stretch_below)
        return crop if crop.shape[0] >= self.min_height and crop.shape[1] >= 2 else None

    def combed(self, crop: np.ndarray) -> bool:
        """Whether `crop` is read from one field too: `deinterlace_above` > 0 and its `comb_score` reaches it."""
        return self.deinterlace_above > 0 and comb_score(crop) >= self.deinterlace_above

    def field_cut(self, image: np.ndarray, box: np.ndarray) -> np.ndarray | None:
        """The plate in `box` cut as `cut` does from one field of the frame around it (`field_window`) when the
        plain crop is `combed` (an interlaced plate); else None."""
        if not self.combed(crop_box(image, box, self.margin)):
            return None
        window, wbox = field_window(image, box)
        return self.cut(window, wbox)

    def field_view(self, crop: np.ndarray) -> np.ndarray | None:
        """An image that is all plate from one field (`one_field`) when it is `combed`; else None."""
        return one_field(crop) if self.combed(crop) else None
