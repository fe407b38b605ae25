"""Zones with shapely: a region of interest that filters plates, and a counting line that gives a direction."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from shapely.geometry import LineString, Point, Polygon
from shapely.prepared import prep

from common.errors import UserError


@dataclass(frozen=True)
class ZoneConfig:
    """The region of interest and counting line, in configs/pipeline.yaml."""
    roi: tuple[tuple[float, float], ...] = ()  # polygon vertices; empty = whole frame
    line: tuple[tuple[float, float], ...] = ()  # two points; empty = no counting line
    normalized: bool = True  # coordinates as fractions of width/height (survive resolution changes)
    directions: tuple[str, ...] = ("in", "out")  # [0]: crossed towards the line direction turned 90° clockwise on screen (line drawn top to bottom: moving left); [1]: the reverse


class Zones:
    """`keep(xyxy)` -> boolean mask of plates whose centre lies in the ROI; `direction(centres)` -> name or ''."""

    def __init__(self, cfg: ZoneConfig, width: int, height: int) -> None:
        if cfg.roi and len(cfg.roi) < 3:
            raise UserError(f"roi needs at least 3 points, got {len(cfg.roi)}")
        if cfg.line and len(cfg.line) != 2:
            raise UserError(f"line needs exactly 2 points, got {len(cfg.line)}")
        if len(set(cfg.directions)) != 2 or len(cfg.directions) != 2:  # two alike: no event could tell them apart
            raise UserError(f"directions needs two different names, got {list(cfg.directions)}")
        for key, pts in (("roi", cfg.roi), ("line", cfg.line)):
            for pt in pts:
                if len(pt) != 2:
                    raise UserError(f"{key} point {list(pt)} is not [x, y]")
                if cfg.normalized and not all(0 <= v <= 1 for v in pt):
                    raise UserError(f"{key} point {list(pt)} is outside the frame: points are fractions of its "
                                    f"width and height (0-1)")
        self.cfg = cfg
        self.resize(width, height)

    def resize(self, width: int, height: int) -> None:
        """Recompute the geometry for a new frame size (e.g. after a reconnect)."""
        sx, sy = (width, height) if self.cfg.normalized else (1.0, 1.0)
        scale = lambda pts: [(x * sx, y * sy) for x, y in pts]  # noqa: E731
        self.outline = (scale(self.cfg.roi), scale(self.cfg.line))  # in pixels, for drawing
        poly = Polygon(scale(self.cfg.roi)) if self.cfg.roi else None
        if poly is not None and poly.convex_hull.area == 0:
            raise UserError(f"roi encloses no area: its points {[list(p) for p in self.cfg.roi]} lie on one line")
        if poly is not None and not poly.is_valid:
            raise UserError("roi is not a valid polygon (edges cross)")
        self.roi = prep(poly) if poly is not None else None
        self.line = LineString(scale(self.cfg.line)) if self.cfg.line else None
        if self.line is not None and self.line.length == 0:
            raise UserError(f"line's two points are the same, {list(self.cfg.line[0])}: it has no length to cross")

    def keep(self, xyxy: np.ndarray) -> np.ndarray:
        if self.roi is None or len(xyxy) == 0:
            return np.ones(len(xyxy), bool)
        cx, cy = (xyxy[:, 0] + xyxy[:, 2]) / 2, (xyxy[:, 1] + xyxy[:, 3]) / 2
        return np.array([self.roi.contains(Point(x, y)) for x, y in zip(cx, cy)], bool)

    def direction(self, centres: list[tuple[float, float]]) -> str:
        """Crossing direction of a track's path over the line, by the side it ended on; '' if it never crossed."""
        if self.line is None or len(centres) < 2:
            return ""
        path = LineString(centres)
        if not path.intersects(self.line):
            return ""
        (ax, ay), (bx, by) = self.line.coords
        side = lambda p: np.sign((bx - ax) * (p[1] - ay) - (by - ay) * (p[0] - ax))  # noqa: E731
        start, end = side(centres[0]), side(centres[-1])
        if start == end or end == 0:
            return ""
        return self.cfg.directions[0] if end > 0 else self.cfg.directions[1]
