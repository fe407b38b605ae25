"""The detector for still photos: the whole-image pass, with tiles for high-resolution photos (detection/tiles.py)
and a zoomed-out look for photos that are all plate (detection/zoom.py), on the photo stretched in contrast when it
is dark all over (detection/exposure.py), as `configs/detector.yaml` says."""
from __future__ import annotations

from typing import Any

from common.errors import UserError
from detection.config import DetectorConfig
from detection.exposure import for_dark_frames
from detection.tiles import TiledDetector
from detection.zoom import ZoomOutDetector


def for_stills(detector: Any, cfg: DetectorConfig) -> Any:
    """`detector` (a whole-image detector) with the still-photo passes that `cfg` turns on (each on the photo as
    `for_dark_frames` gives it); itself when none is."""
    if cfg.still_tile and cfg.still_tile < 64:
        raise UserError(f"detector.still_tile must be 0 (off) or at least 64 px, not {cfg.still_tile}")
    if cfg.still_zoom_out and cfg.still_zoom_out <= 1:
        raise UserError(f"detector.still_zoom_out must be 0 (off) or over 1, not {cfg.still_zoom_out}")
    if not 0 <= cfg.still_zoom_above <= 1:
        raise UserError(f"detector.still_zoom_above must be within 0-1, not {cfg.still_zoom_above}")
    first = (TiledDetector(detector, cfg.still_tile, iou=cfg.iou, max_overlap=cfg.max_overlap) if cfg.still_tile
             else detector)
    if cfg.still_zoom_out:
        first = ZoomOutDetector(first, detector, cfg.still_zoom_out, cfg.still_zoom_above, cfg.imgsz, cfg.iou,
                                cfg.max_overlap)
    return for_dark_frames(first, cfg.dark_below, cfg.pale_above)
