"""Frozen result types that flow between the pipeline stages."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Iterable

import numpy as np

Box = tuple[float, float, float, float]  # x1, y1, x2, y2 in pixels


def as_box(values: Iterable[float], ndigits: int | None = None) -> Box:
    """Four numbers (an array row, a list) as a `Box` of floats, rounded to `ndigits` when given."""
    x1, y1, x2, y2 = (float(v) if ndigits is None else round(float(v), ndigits) for v in values)
    return x1, y1, x2, y2


def iso_time(text: str) -> datetime:
    """An ISO 8601 date or time as typed (`2026-12-01`, `2026-12-01 18:00`, `...T18:00:00Z`, `...+01:00`); one
    without an offset is UTC, the times events carry. Not such a time: ValueError."""
    t = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    return t.replace(tzinfo=timezone.utc) if t.tzinfo is None else t


def utc_iso(epoch_s: float) -> str:
    """The ISO 8601 UTC time, to the millisecond, that events and reads carry: `2026-12-01T18:27:03.250Z`."""
    return datetime.fromtimestamp(epoch_s, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


CLOCK_STEP_S = 2.0  # the system clock moved against the monotonic one by more than this: it was set, not slewed


def clock_step(clock: float, t0: float) -> float:
    """How far the system clock was set since `clock` (epoch s) was read with `t0` (`time.monotonic()`) beside it:
    0.0 unless over `CLOCK_STEP_S` (NTP slews both clocks alike; only a step parts them: a Raspberry Pi, which has no
    real-time clock, boots at the time it was shut down and is set once the network is up)."""
    step = time.time() - clock - (time.monotonic() - t0)
    return step if abs(step) > CLOCK_STEP_S else 0.0


@dataclass(frozen=True)
class Frame:
    """One frame of a source, with its number and time."""
    image: np.ndarray  # BGR
    index: int  # frame number in the source (after stride)
    time_s: float  # seconds from the start of the source (wall-clock for live sources)
    source: str  # display name (credentials removed)


@dataclass(frozen=True)
class SourceEvent:
    """A live source's state change, handed over in the frame stream: `lost` (reason in `detail`) or
    `reconnected`. It is never a frame: nothing reaches the detector."""

    kind: str  # lost | reconnected | down (still lost: every few seconds) | clock (the system clock set by `detail` s)
    time_s: float  # seconds from the start of the source
    detail: str = ""  # why it was lost: read failed | stalled | read hung | NOT_OPENED...; a clock's step: +3600.000


NOT_OPENED = "not opened yet"  # a lost event's detail from the start: a camera waited for until it opens


@dataclass(frozen=True)
class Tracks:
    """Tracked plates in one frame: xyxy (N x 4), conf (N), ids (N, per-tracker-instance)."""

    xyxy: np.ndarray = field(default_factory=lambda: np.zeros((0, 4), np.float32))
    conf: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.float32))
    ids: np.ndarray = field(default_factory=lambda: np.zeros((0,), np.int64))

    def __len__(self) -> int:
        return len(self.ids)


@dataclass(frozen=True)
class Reading:
    """One OCR read of one track in one frame."""

    frame_index: int
    time_s: float
    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    box: tuple[float, float, float, float]
    quality: float = 0.0  # sharpness x size x confidence, to pick the best crop
    probs: np.ndarray | None = None  # T x C CTC posteriors, kept for posterior fusion
    rows: int = 1  # the layout the crop was read in (2: a two-row plate read side by side)


@dataclass(frozen=True)
class Candidate:
    """A whole-string candidate of a track's vote."""
    text: str
    votes: float  # summed confidence weight of the reads with this text
    reads: int


@dataclass(frozen=True)
class PlateEvent:
    """One vehicle: the fused result of one track."""

    event_id: str
    source: str
    track_id: int
    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    alternatives: tuple[Candidate, ...]
    frames_read: int
    first_frame: int
    last_frame: int
    first_time_s: float
    last_time_s: float
    best_frame: int
    box: tuple[float, float, float, float]
    reason: str  # lost | end | early | source_lost | stopped
    direction: str = ""  # crossing direction of the counting line, when one is configured
    crop_path: str = ""
    frame_path: str = ""  # the whole frame of the best read, its box drawn (evidence of where the vehicle was)
    first_seen_utc: str = ""  # wall-clock time of first_time_s / last_time_s (ISO 8601, UTC) for a live source;
    last_seen_utc: str = ""  # empty for files, whose times are positions in the video
    watch: str = ""  # the watchlist plate this vehicle's text matches (pipeline/watchlist.py); empty: none
    watch_label: str = ""  # that entry's label
