"""Plate tracking with ultralytics' own ByteTrack / BoT-SORT behind a small interface.

`PlateTracker(cfg).update(detections, frame) -> Tracks`; ids are counted per tracker instance.
"""
from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace
from typing import Annotated, Literal, get_args

import numpy as np

from common.config import Range
from common.errors import UserError
from detection.detections import Detections
from detection.metrics import iou_matrix
from pipeline.types import Tracks


GmcMethod = Literal["none", "sparseOptFlow", "orb", "sift", "ecc"]  # ultralytics' GMC (BoT-SORT's motion compensation)
GMC_METHODS: tuple[str, ...] = get_args(GmcMethod)


@dataclass(frozen=True)
class TrackerConfig:
    """The tracker's settings (configs/tracker.yaml): ultralytics' ByteTrack or BoT-SORT."""
    tracker_type: Literal["bytetrack", "botsort"] = "bytetrack"
    track_high_thresh: Annotated[float, Range(0, 1)] = 0.25
    track_low_thresh: Annotated[float, Range(0, 1)] = 0.1
    new_track_thresh: Annotated[float, Range(0, 1)] = 0.25
    track_buffer: Annotated[int, Range(1)] = 30
    match_thresh: Annotated[float, Range(0, 1)] = 0.8
    fuse_score: bool = True
    gmc_method: GmcMethod = "none"
    box_buffer: Annotated[float, Range(0, 10)] = 0.3


def buffered(xyxy: np.ndarray, b: float) -> np.ndarray:
    """Boxes widened by `b` x their width and `b` x their height on every side (C-BIoU's buffered matching space:
    a small plate that moves further than its size between frames still overlaps its last box)."""
    if not b:
        return xyxy
    pad = (xyxy[:, 2:] - xyxy[:, :2]) * b
    return np.concatenate([xyxy[:, :2] - pad, xyxy[:, 2:] + pad], axis=1)


def unbuffered(xyxy: np.ndarray, b: float) -> np.ndarray:
    """`buffered`'s boxes back to their own size."""
    if not b:
        return xyxy
    pad = (xyxy[:, 2:] - xyxy[:, :2]) * b / (1 + 2 * b)
    return np.concatenate([xyxy[:, :2] + pad, xyxy[:, 2:] - pad], axis=1)


class _Boxes:
    """The numpy-backed, boolean-indexable detections object ultralytics' trackers read."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray) -> None:
        self.xyxy = xyxy.astype(np.float32).reshape(-1, 4)
        self.conf = conf.astype(np.float32).reshape(-1)
        self.cls = np.zeros(len(self.conf), np.float32)
        wh = self.xyxy[:, 2:] - self.xyxy[:, :2]
        self.xywh = np.concatenate([self.xyxy[:, :2] + wh / 2, wh], axis=1)

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, idx: np.ndarray) -> "_Boxes":
        return _Boxes(self.xyxy[idx], self.conf[idx])


def _detection_boxes(out: np.ndarray, det_xyxy: np.ndarray) -> np.ndarray:
    """Each track's box: its detection in this frame (column 7, the detection's index), not the Kalman-filtered
    box (columns 0-3), which lags a plate that speeds up or turns (IoU down to 0.7 on the bundled clip): the crop
    must hold the plate. The filtered box stays where the index does not point at an overlapping detection (some
    ultralytics versions number second-stage matches within their subset)."""
    kf = out[:, :4].astype(np.float32)
    idx = out[:, 7].astype(np.int64)
    ok = (idx >= 0) & (idx < len(det_xyxy))
    det = np.where(ok[:, None], det_xyxy[np.clip(idx, 0, max(len(det_xyxy) - 1, 0))], kf).astype(np.float32)
    overlap = np.diag(iou_matrix(kf.astype(np.float64), det.astype(np.float64)))
    return np.where((ok & (overlap >= 0.3))[:, None], det, kf)


class PlateTracker:
    """Ultralytics' ByteTrack or BoT-SORT over plate detections: `update(dets)` gives track ids."""

    def __init__(self, cfg: TrackerConfig) -> None:
        from detection.ultra import yolo_class

        yolo_class()  # ultralytics imported with its offline switches set
        from ultralytics.trackers.bot_sort import BOTSORT
        from ultralytics.trackers.byte_tracker import BYTETracker

        kinds = {"bytetrack": BYTETracker, "botsort": BOTSORT}
        if cfg.tracker_type not in kinds:  # a config built in Python, not loaded (the loader checks the Literals)
            raise UserError(f"tracker_type must be one of {sorted(kinds)}, not {cfg.tracker_type!r}")
        if cfg.gmc_method not in GMC_METHODS:
            raise UserError(f"gmc_method must be one of {', '.join(GMC_METHODS)}, not {cfg.gmc_method!r}")
        args = SimpleNamespace(**{k: getattr(cfg, k) for k in cfg.__dataclass_fields__ if k != "box_buffer"},
                               proximity_thresh=0.5, appearance_thresh=0.8, with_reid=False, model="auto")
        self.cfg = cfg
        self.tracker = kinds[cfg.tracker_type](args)
        self._ids: dict[int, int] = {}  # ultralytics' id (counted across all instances) -> ours
        self._next = 1

    def update(self, dets: Detections, frame: np.ndarray | None = None) -> Tracks:
        b = self.cfg.box_buffer
        seen = buffered(dets.xyxy.reshape(-1, 4), b)  # the boxes the tracker matches (and its Kalman filter follows)
        out = self.tracker.update(_Boxes(seen, dets.conf), frame)
        if len(out) == 0:
            return Tracks()
        ids = np.array([self._our_id(int(t)) for t in out[:, 4]], np.int64)
        xyxy = unbuffered(_detection_boxes(out, seen), b)
        if len(self._ids) > 256:  # forget removed tracks: a live run meets vehicles without end
            live = {s.track_id for s in self.tracker.tracked_stracks + self.tracker.lost_stracks}
            self._ids = {k: v for k, v in self._ids.items() if k in live}
        return Tracks(xyxy, out[:, 5].astype(np.float32), ids)

    def _our_id(self, theirs: int) -> int:
        if theirs not in self._ids:
            self._ids[theirs], self._next = self._next, self._next + 1
        return self._ids[theirs]

    def reset(self) -> None:
        """Forget all tracks (after the source was lost); ids keep counting up."""
        self.tracker.reset()
