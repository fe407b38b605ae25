"""The passes the detector makes, as `configs/detector.yaml` says: for still photos, the whole-image pass with tiles
for high-resolution photos (detection/tiles.py) and a zoomed-out look for photos that are all plate
(detection/zoom.py); for video, the whole-frame pass alone. Both on the frame as one field when it is combed all
over (detection/interlace.py), then stretched in contrast when it is dark or pale all over (detection/exposure.py)."""
from __future__ import annotations

from typing import Any

from detection.config import DetectorConfig
from detection.exposure import for_dark_frames
from detection.interlace import for_interlaced_frames
from detection.tiles import TiledDetector
from detection.zoom import ZoomOutDetector


def for_stills(detector: Any, cfg: DetectorConfig) -> Any:
    """`detector` (a whole-image detector) with the still-photo passes that `cfg` turns on (each on the photo as
    `for_interlaced_frames` and `for_dark_frames` give it); itself when none is."""
    first = (TiledDetector(detector, cfg.still_tile, iou=cfg.iou, max_overlap=cfg.max_overlap) if cfg.still_tile
             else detector)
    if cfg.still_zoom_out:
        first = ZoomOutDetector(first, detector, cfg.still_zoom_out, cfg.still_zoom_above, cfg.imgsz, cfg.iou,
                                cfg.max_overlap)
    return for_interlaced_frames(for_dark_frames(first, cfg.dark_below, cfg.pale_above), cfg.deinterlace_above)


def for_video(detector: Any, cfg: DetectorConfig) -> Any:
    """`detector` as video runs it: each frame whole (a second pass per frame would halve the frame rate), stretched
    when it is dark or pale all over, as one field when it is combed all over."""
    return for_interlaced_frames(for_dark_frames(detector, cfg.dark_below, cfg.pale_above), cfg.deinterlace_above)
