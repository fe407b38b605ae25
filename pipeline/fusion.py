"""Per-track fusion: collect each track's reads, decide when it is confident, emit one event per vehicle."""
from __future__ import annotations

import uuid
from collections import deque
from dataclasses import dataclass, field, replace
from typing import Annotated, Callable

import cv2
import numpy as np

from common.config import ConfigError, Range
from ocr.metrics import near_text
from ocr.process import fold_o0
from pipeline.fusion_vote import Vote, vote
from pipeline.plate_sizes import MIN_FRAMES
from pipeline.types import Box, PlateEvent, Reading, as_box, utc_iso


def _utc(clock: float | None, time_s: float) -> str:
    """ISO 8601 UTC time (ms) of `time_s` seconds after `clock`; empty without a clock."""
    return "" if clock is None else utc_iso(clock + time_s)


MAX_PATH = 256  # centres kept per track for its crossing direction (thinned by half when full)
WIDTHS_KEPT = 10_000  # the widest box of this many ended tracks is kept (`plate_widths`: the camera's plate sizes)


@dataclass(frozen=True)
class FusionConfig:
    """How a track's reads are fused into one event (configs/fusion.yaml)."""
    lost_frames: Annotated[int, Range(1)] = 15
    max_reads: Annotated[int, Range(1)] = 30
    decisive_reads: Annotated[int, Range(1)] = 3
    decisive_share: Annotated[float, Range(0, 1)] = 0.75
    decisive_conf: Annotated[float, Range(0, 1)] = 0.6
    early_events: bool = False
    min_reads: Annotated[int, Range(1)] = 1
    min_chars: Annotated[int, Range(0)] = 4
    min_conf: Annotated[float, Range(0, 1)] = 0.1
    dedupe_s: Annotated[float, Range(0)] = 10.0
    dedupe_edits: Annotated[int, Range(0)] = 2
    patterns: tuple[str, ...] = ()
    off_pattern: Annotated[float, Range(0, 1)] = 0.3
    posterior_top_k: Annotated[int, Range(0)] = 0
    hold_below: Annotated[float, Range(0, 1)] = 0.6
    decide_after_s: Annotated[float, Range(0)] = 0.0
    width_power: Annotated[float, Range(0)] = 1.0
    reread_growth: Annotated[float, Range(0)] = 1.25

    def __post_init__(self) -> None:
        if 0 < self.reread_growth <= 1:  # a plate no wider than its widest read: every frame read again
            raise ConfigError(f"fusion.reread_growth must be 0 (off) or over 1 (a plate grown), "
                              f"not {self.reread_growth}")


def crop_quality(crop: np.ndarray, confidence: float) -> float:
    """Sharpness (variance of the Laplacian) x size x OCR confidence: higher is a better crop to keep."""
    if crop.size == 0:
        return 0.0
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.ndim == 3 else crop
    sharp = float(cv2.Laplacian(grey, cv2.CV_64F).var())
    return float(np.log1p(sharp) * np.sqrt(crop.shape[0] * crop.shape[1]) * max(confidence, 0.05))


@dataclass
class TrackState:
    """What the fuser keeps of one track: its reads, best crop, path and decision."""
    track_id: int
    first_frame: int
    first_time_s: float
    last_frame: int
    last_time_s: float
    reads: deque = field(default_factory=deque)
    best: Reading | None = None
    best_crop: np.ndarray | None = None
    best_image: np.ndarray | None = None  # the whole frame of the best read (kept only to save it: save_frame)
    centers: list[tuple[float, float]] = field(default_factory=list)
    width: float = 0.0  # of its last box
    widest: float = 0.0  # of its widest box
    read_widest: float = 0.0  # of its widest box read
    seen: int = 0  # frames it was seen in
    decided: Vote | None = None  # set once the vote is decisive: no more OCR for it but as its plate grows
    emitted: bool = False


class TrackFuser:
    """`add()` reads as they come, `end_lost()` each frame, `flush()` at the end; each returns new events.

    `decode` (optional) turns a mean T x C posterior back into a Reading-like (text, conf, char_confs), for
    posterior fusion of the best `posterior_top_k` crops. `urgent` (optional): whether a decided text's event is
    written at once, as `early_events` writes every one (a watchlist's plates: the alert while the vehicle is in view).
    """

    def __init__(self, cfg: FusionConfig, source: str = "",
                 direction: Callable[[list[tuple[float, float]]], str] | None = None,
                 decode: Callable[[np.ndarray], tuple[str, float, tuple[float, ...]]] | None = None,
                 save_crop: Callable[[PlateEvent, np.ndarray], str] | None = None, clock: float | None = None,
                 save_frame: Callable[[PlateEvent, np.ndarray], str] | None = None,
                 recent: dict[str, tuple[float, float]] | None = None,
                 urgent: Callable[[str], object] | None = None) -> None:
        self.cfg, self.source, self.direction, self.decode, self.urgent = cfg, source, direction, decode, urgent
        self.clock = clock  # wall-clock (epoch s) at time 0 of a live source: events then carry UTC times
        self.save_crop, self.save_frame = save_crop, save_frame
        self.tracks: dict[int, TrackState] = {}
        # O/0-folded text -> (last time (s) it was seen in an event, its highest confidence), for dedupe_s; a given
        # dict is kept up to date in place (a watched folder's clips: carried from one clip to the next)
        self.recent: dict[str, tuple[float, float]] = {} if recent is None else recent
        # weak ended tracks waiting for the open tracks that may continue them: (track, vote, reason, their ids)
        self.held: list[tuple[TrackState, Vote, str, set[int]]] = []
        self.now_s = 0.0  # the latest time seen
        # the widest box (px) of each ended track seen in MIN_FRAMES frames or more, read or not: the newest WIDTHS_KEPT
        self.widths: deque[float] = deque(maxlen=WIDTHS_KEPT)

    def needs_read(self, track_id: int) -> bool:
        """False once a track's vote is decisive (saves OCR work), until its plate has grown to `reread_growth`
        times its widest read (a nearer view; not once its event is written)."""
        t = self.tracks.get(track_id)
        g = self.cfg.reread_growth
        return t is None or t.decided is None or (g > 0 and not t.emitted and t.width >= g * t.read_widest)

    def touch(self, track_id: int, frame_index: int, time_s: float, box: Box) -> None:
        """Record that a track was seen in this frame (read or not). Its path keeps at most `MAX_PATH` centres: when
        full, every other one is dropped (the first and the last stay), so a vehicle parked in front of a camera
        for days holds bounded memory and its direction still comes from where it started and ended."""
        t = self.tracks.get(track_id)
        if t is None:
            t = self.tracks[track_id] = TrackState(track_id, frame_index, time_s, frame_index, time_s,
                                                   deque(maxlen=self.cfg.max_reads))
        elif frame_index == t.last_frame and t.centers:
            return  # already seen in this frame (a read after the frame's touch)
        t.last_frame, t.last_time_s, t.width = frame_index, time_s, box[2] - box[0]
        t.widest, t.seen = max(t.widest, t.width), t.seen + 1
        self.now_s = max(self.now_s, time_s)
        if t.emitted and t.decided is not None:  # written early and still in view: its plate is seen until now, so
            key = fold_o0(t.decided.text)  # a track that breaks as it moves off is the same vehicle (dedupe_s)
            if key in self.recent:
                self.recent[key] = (max(self.recent[key][0], time_s), self.recent[key][1])
        t.centers.append(((box[0] + box[2]) / 2, (box[1] + box[3]) / 2))
        if len(t.centers) > MAX_PATH:
            t.centers = t.centers[:-1:2] + t.centers[-1:]

    def add(self, track_id: int, reading: Reading, crop: np.ndarray,
            image: np.ndarray | None = None) -> list[PlateEvent]:
        """A read of a track; `image` is the whole frame it was read in (held, not copied: the pipeline never
        draws on its frames), kept while it is the track's best read when frames are saved."""
        self.touch(track_id, reading.frame_index, reading.time_s, reading.box)
        t = self.tracks[track_id]
        t.reads.append(reading)
        t.read_widest = max(t.read_widest, reading.box[2] - reading.box[0])
        if t.best is None or reading.quality > t.best.quality:
            t.best, t.best_crop = reading, crop.copy()
            t.best_image = image if self.save_frame is not None else None
        v = self._vote(t)
        c = self.cfg
        texts = len([r for r in t.reads if r.text])
        decisive = texts >= c.decisive_reads and v.share >= c.decisive_share and v.confidence >= c.decisive_conf
        waited = (c.decide_after_s > 0 and reading.time_s - t.first_time_s >= c.decide_after_s  # a car at a barrier
                  and texts >= c.min_reads and self._reportable(v))  # whose reads never agree: its vote as it stands
        if decisive or waited:
            t.decided = v
            early = c.early_events or (self.urgent is not None and bool(self.urgent(v.text)))
            if early and not t.emitted and self._wanted(t, v):
                t.emitted = True
                event = self._event(t, v, "early")
                t.best_image = None  # saved: a vehicle that stays in view (parked) holds no frame for it
                return [event]
        elif t.decided is not None:  # a nearer view (reread_growth) that unsettles the vote: every frame read again
            t.decided = None
        return []

    def end_lost(self, frame_index: int) -> list[PlateEvent]:
        """Events for tracks not seen for more than `lost_frames` frames."""
        gone = [k for k, t in self.tracks.items() if frame_index - t.last_frame > self.cfg.lost_frames]
        return self._close(gone, "lost") + (self._release() if self.held else [])

    def flush(self, reason: str = "end") -> list[PlateEvent]:
        """Events for every open track (end of video, source lost, stop), then for every held one."""
        return self._close(list(self.tracks), reason) + self._release(everything=True)

    def current_text(self, track_id: int) -> str:
        t = self.tracks.get(track_id)
        return "" if t is None else (t.decided or self._vote(t)).text

    def _close(self, ids: list[int], reason: str) -> list[PlateEvent]:
        events = []
        for k in ids:
            t = self.tracks.pop(k)
            if t.seen >= MIN_FRAMES:
                self.widths.append(t.widest)
            if t.emitted:
                continue  # an early event was already written for this vehicle
            if len([r for r in t.reads if r.text]) < self.cfg.min_reads:
                continue
            v = t.decided or self._vote(t)
            weak = v.confidence < self.cfg.hold_below and self.cfg.dedupe_s > 0
            after = self._successors(t) if weak else set()
            if after:
                self.held.append((t, v, reason, after))
            elif self._wanted(t, v):
                events.append(self._event(t, v, reason))
        return events

    def _successors(self, t: TrackState) -> set[int]:
        """Open tracks that may be `t` again after its track broke: begun after it, by the time it was lost, near
        where it was last seen (within three widths of its last box)."""
        if not t.centers:
            return set()
        (x, y), reach = t.centers[-1], 3 * max(t.width, 1.0)
        last = t.last_frame + self.cfg.lost_frames
        return {k for k, o in self.tracks.items() if t.first_frame < o.first_frame <= last and o.centers
                and abs(o.centers[0][0] - x) <= reach and abs(o.centers[0][1] - y) <= reach}

    def _release(self, everything: bool = False) -> list[PlateEvent]:
        """Events of held tracks none of whose possible continuations is open any more, or held `dedupe_s` already
        (a parked car beside it holds nothing for long; all of them at the end), judged after those: a weak read of
        a vehicle read surely since is then a duplicate (`dedupe_edits`)."""
        ready: list[tuple[TrackState, Vote, str, set[int]]] = []
        waiting: list[tuple[TrackState, Vote, str, set[int]]] = []
        for h in self.held:
            due = everything or not h[3] & self.tracks.keys() or self.now_s - h[0].last_time_s > self.cfg.dedupe_s
            (ready if due else waiting).append(h)
        self.held = waiting
        return [self._event(t, v, reason) for t, v, reason, _ in ready if self._wanted(t, v)]

    def _wanted(self, t: TrackState, v: Vote) -> bool:
        """Whether a track's fused text makes an event: long enough, confident enough, and not the same vehicle
        as an event of the last `dedupe_s` seconds whose track broke (an occlusion, a frame gap): the same text,
        or a less confident text within `dedupe_edits` edits of it (at most a third of its characters), the
        vehicle read wrong further away.
        Records the plate's last time either way, so a vehicle that keeps breaking its track stays deduplicated."""
        c = self.cfg
        if not self._reportable(v):
            return False
        key = fold_o0(v.text)
        # plates last seen before every open track began (minus the window) can match no track any more
        horizon = min([t.first_time_s] + [o.first_time_s for o in self.tracks.values()]) - c.dedupe_s
        for gone in [k for k, r in self.recent.items() if r[0] < horizon]:
            del self.recent[gone]
        like = [k for k, (last, conf) in self.recent.items()
                if c.dedupe_s > 0 and t.first_time_s - last <= c.dedupe_s
                and (k == key or (v.confidence < conf and near_text(k, key, c.dedupe_edits)))]
        for k in like:  # the vehicle is still around: keep its plate deduplicated
            self.recent[k] = (max(t.last_time_s, self.recent[k][0]), self.recent[k][1])
        last, conf = self.recent.get(key, (t.last_time_s, v.confidence))
        self.recent[key] = (max(t.last_time_s, last), max(v.confidence, conf))
        return not like

    def _reportable(self, v: Vote) -> bool:
        """Whether a fused text is long and confident enough for an event (`min_chars`, `min_conf`)."""
        return len(v.text) >= max(self.cfg.min_chars, 1) and v.confidence >= self.cfg.min_conf

    def _vote(self, t: TrackState) -> Vote:
        reads = list(t.reads)
        if self.cfg.posterior_top_k and self.decode is not None:
            ranked = sorted((r for r in reads if r.probs is not None), key=lambda r: -r.confidence)
            # only posteriors of one layout: a two-row read's frames hold the rows side by side
            top = [r for r in ranked if r.rows == ranked[0].rows][:self.cfg.posterior_top_k] if ranked else []
            if len(top) >= 2 and len({r.probs.shape for r in top}) == 1:
                text, conf, chars = self.decode(np.mean([r.probs for r in top], axis=0))
                reads.append(Reading(top[0].frame_index, top[0].time_s, text, conf * len(top), chars, top[0].box))
        return vote(reads, self.cfg.patterns, self.cfg.off_pattern, width_power=self.cfg.width_power)

    def _event(self, t: TrackState, v: Vote, reason: str) -> PlateEvent:
        best = t.best
        assert best is not None
        event = PlateEvent(
            event_id=uuid.uuid4().hex, source=self.source, track_id=t.track_id, text=v.text,
            confidence=round(v.confidence, 4), char_confidences=tuple(round(c, 4) for c in v.char_confidences),
            alternatives=v.alternatives, frames_read=len(t.reads), first_frame=t.first_frame,
            last_frame=t.last_frame, first_time_s=round(t.first_time_s, 3), last_time_s=round(t.last_time_s, 3),
            best_frame=best.frame_index, box=as_box(best.box, 1), reason=reason,
            direction=self.direction(t.centers) if self.direction else "",
            first_seen_utc=_utc(self.clock, t.first_time_s), last_seen_utc=_utc(self.clock, t.last_time_s))
        if self.save_crop is not None and t.best_crop is not None:
            event = replace(event, crop_path=self.save_crop(event, t.best_crop))
        if self.save_frame is not None and t.best_image is not None:
            event = replace(event, frame_path=self.save_frame(event, t.best_image))
        return event
