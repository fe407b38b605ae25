"""The pipeline: frames -> detector -> tracker -> recognizer -> fusion -> sinks, each stage injected."""
from __future__ import annotations

import statistics
import threading
import time
from collections import defaultdict, deque
from contextlib import suppress
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Iterable, Protocol

import numpy as np
from loguru import logger

from common.liveness import beat
from detection.detections import Detections
from detection.metrics import iou_matrix
from ocr.views import best_view, views_of
from pipeline.crops import CropSpec, one_row_view
from pipeline.fusion import TrackFuser, crop_quality
from pipeline.plate_sizes import plate_widths
from pipeline.types import NOT_OPENED, Frame, PlateEvent, Reading, SourceEvent, Tracks, as_box
from pipeline.watchlist import Watchlist
from pipeline.zones import Zones


class Detector(Protocol):
    """Finds plates in a BGR frame."""

    def detect(self, frame: np.ndarray) -> Detections: ...


class Tracker(Protocol):
    """Gives each frame's detections track ids."""

    def update(self, dets: Detections, frame: np.ndarray | None = None) -> Tracks: ...
    def reset(self) -> None: ...


class Recognizer(Protocol):
    """Reads batches of plate crops (posteriors, then decoded reads)."""
    cfg: Any  # the model config: its alphabet and two_row_aspect (read_crops' views)

    def probs(self, crops: list[np.ndarray]) -> np.ndarray: ...
    def decode(self, probs: np.ndarray) -> Any: ...
    def rows(self, crop: np.ndarray) -> int: ...


class Sink(Protocol):
    """Writes each vehicle's event as it is decided."""

    def write(self, event: PlateEvent) -> None: ...


STAGE_WINDOW = 10_000  # frames whose stage times make the summary's medians (a live run holds no more)


@dataclass(frozen=True)
class RunSummary:
    """What one source's run did: frames, speed, stage times, events."""
    source: str
    frames: int
    seconds: float
    fps: float
    stage_ms: dict[str, float]  # median ms per frame of each stage (over the last STAGE_WINDOW frames)
    dropped_frames: int
    events: int
    stopped: bool
    outages: int = 0  # times a live source was lost (each followed by reconnect attempts)
    unreadable_frames: int = 0  # frames of a video file its decoder could not read (skipped)
    detected_frames: int = 0  # frames the detector ran on (fewer than `frames` with the motion gate)
    position_s: float | None = None  # the last frame's time (a video file's: where a stopped run goes on from)
    plate_width_px: dict[str, float] = field(default_factory=dict)  # the vehicles' plate sizes (`plate_widths`)
    source_down: bool = False  # a live source lost and not back (yet): a camera down now, as a monitor asks


@dataclass
class Pipeline:
    """Frames -> detector -> tracker -> recognizer -> fusion -> sinks, each stage injected."""
    detector: Detector
    tracker: Tracker
    recognizer: Recognizer
    fuser: TrackFuser
    sinks: list[Sink]
    zones: Zones | None = None
    video: Any = None  # VideoSink-like: .write(image, time_s)
    annotate: Any = None  # callable(image, tracks, texts, watched track ids) -> image
    crops: CropSpec = CropSpec()  # how plates are cut for reading
    stop: threading.Event = field(default_factory=threading.Event)
    trace: list | None = None  # when a list: (frame index, {track id: current fused text}) per frame
    watchlist: Watchlist | None = None  # events whose text it lists are flagged and logged
    on_status: Callable[[RunSummary], None] | None = None  # given the run so far every `status_every_s` and at a
    status_every_s: float = 60.0  # live source's loss and return (its summary.json kept current for a monitor)
    on_source: Callable[[SourceEvent, str], None] | None = None  # told each time a live source is lost or is back
    name: str = ""  # what the logs and the summary call the source ("": the source's own name)
    events_written: int = field(default=0, init=False)  # by the current run
    gate: Any = None  # MotionGate (pipeline/motion.py): a frame that has not moved is given the last boxes found
    detected_frames: int = field(default=0, init=False)  # frames the detector ran on, in the current run
    _size: tuple[int, ...] | None = field(default=None, init=False)  # the frame size the zones are scaled to
    _seen: Detections = field(default_factory=Detections, init=False)  # the detector's boxes, when it last looked
    _still: bool = field(default=False, init=False)  # its last two looks found the same boxes
    _position: float | None = field(default=None, init=False)  # the time of the last frame the run went through
    _down: bool = field(default=False, init=False)  # the live source lost and not back

    def _emit(self, events: Iterable[PlateEvent]) -> None:
        for e in events:
            e = self._watch(e)
            for s in self.sinks:
                s.write(e)
            self.events_written += 1
            when = e.first_seen_utc or f"{e.first_time_s:.1f}-{e.last_time_s:.1f} s"  # a log file's line only
            logger.bind(vehicle=True).info(f"{e.source}: {e.text or '(unread)'} ({e.confidence:.2f}) {when}"
                                           f"{' ' + e.direction if e.direction else ''}, event {e.event_id}")

    def _watch(self, e: PlateEvent) -> PlateEvent:
        if self.watchlist is None:
            return e
        when = e.first_seen_utc or f"{e.first_time_s:.1f} s"
        hit = self.watchlist.alert(e.text, f"on {e.source} at {when}, confidence {e.confidence:.2f}, "
                                           f"event {e.event_id}")
        return e if hit is None else replace(e, watch=hit.plate, watch_label=hit.label)

    def _source_event(self, ev: SourceEvent, name: str) -> None:
        if ev.kind == "down":  # still lost: nothing new to tell
            return
        if ev.kind == "lost" and ev.detail.startswith(NOT_OPENED):  # at the start: no track yet
            logger.warning(f"{name}: {ev.detail}; waiting for it to open")
        elif ev.kind == "lost":
            logger.warning(f"{name}: stream lost ({ev.detail}); reconnecting, open tracks written")
            self._emit(self.fuser.flush("source_lost"))
            self.tracker.reset()
            self._still = False  # the motion gate looks afresh when the stream is back
        elif ev.kind == "clock":
            self.clock_set(float(ev.detail), name)
        else:
            logger.info(f"{name}: stream {ev.kind}")
        if self.on_source is not None and ev.kind in ("lost", "reconnected"):
            self.on_source(ev, name)

    def clock_set(self, step: float, name: str) -> None:
        """The system clock was set by `step` seconds: events are timed by it as it is now, open tracks' too."""
        if self.fuser.clock is not None:
            self.fuser.clock += step
        logger.warning(f"{name}: the system clock was set {step:+.1f} s; events are timed by it")

    def step(self, frame: Frame, times: dict[str, deque[float]]) -> Tracks:
        """Process one frame; returns its tracks."""
        t0 = time.perf_counter()
        view = self.gate.view(frame.image) if self.gate is not None else None
        if view is not None and self._still and not self.gate.moved(view, frame.time_s):
            dets = self._seen  # nothing moved since the detector last looked: what it found then
        else:
            dets = self.detector.detect(frame.image)
            self.detected_frames += 1
            if self.zones is not None and len(dets):
                dets = dets.filter(self.zones.keep(dets.xyxy))
            if view is not None:  # the detector may rest only once what it finds stays put
                self._still = same_boxes(dets, self._seen)
                self.gate.looked(view, frame.time_s)
                self._seen = dets
        t1 = time.perf_counter()
        tracks = self.tracker.update(dets, frame.image)
        t2 = time.perf_counter()
        todo, crops, fields = [], [], []
        for k in range(len(tracks)):
            box = as_box(tracks.xyxy[k])
            tid = int(tracks.ids[k])
            self.fuser.touch(tid, frame.index, frame.time_s, box)
            crop = self.crops.cut(frame.image, tracks.xyxy[k]) if self.fuser.needs_read(tid) else None
            if crop is not None:
                todo.append((tid, box))
                crops.append(crop)
                fields.append(self.crops.field_cut(frame.image, tracks.xyxy[k]))
        reads = read_crops(self.recognizer, crops, self.crops.both_ways, self.crops.views, fields)
        t3 = time.perf_counter()
        events: list[PlateEvent] = []
        for (tid, box), crop, r in zip(todo, crops, reads):
            reading = Reading(frame.index, frame.time_s, r.read.text, r.read.confidence, r.read.char_confidences, box,
                              crop_quality(crop, r.read.confidence), r.probs, r.rows)
            events += self.fuser.add(tid, reading, crop, frame.image)
        events += self.fuser.end_lost(frame.index)
        self._emit(events)
        t4 = time.perf_counter()
        if self.video is not None or self.trace is not None:
            texts = {int(t): self.fuser.current_text(int(t)) for t in tracks.ids}
            if self.trace is not None:
                self.trace.append((frame.index, texts))
        if self.video is not None:
            if self.annotate is None:
                self.video.write(frame.image, frame.time_s)
            else:
                wl = self.watchlist
                watched = frozenset(t for t, text in texts.items() if wl is not None and wl.match(text))
                self.video.write(self.annotate(frame.image, tracks, texts, watched), frame.time_s)
        t5 = time.perf_counter()
        for name, a, b in (("detect", t0, t1), ("track", t1, t2), ("ocr", t2, t3), ("fuse+write", t3, t4),
                           ("video", t4, t5)):
            times[name].append((b - a) * 1000)
        return tracks

    def run(self, source: Any,
            progress: Callable[[Any], Iterable[Frame | SourceEvent]] | None = None) -> RunSummary:
        """Process every frame of `source` until it ends or `stop` is set; open tracks are flushed.

        A live source's `SourceEvent`s come in the stream: when it is lost, the open tracks are written at once
        (reason `source_lost`) and the tracker starts afresh. `progress` wraps the iteration (e.g. a tqdm bar);
        the source itself still reports its name and its dropped frames."""
        times: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=STAGE_WINDOW))  # bounded: live runs last
        self.events_written = self.detected_frames = 0
        n, start, outages = 0, time.perf_counter(), 0
        last_status = start
        self._position, self._down = None, False
        try:
            for frame in (progress(source) if progress else source):
                beat()  # a frame or a source's event: the run goes on (systemd's watchdog, common/liveness.py)
                if self.stop.is_set():
                    break
                if isinstance(frame, SourceEvent):
                    self._source_event(frame, self.name or getattr(source, "name", ""))
                    told = frame.kind in ("lost", "reconnected")  # at once, and while it is down as frames would
                    if told:
                        self._down = frame.kind == "lost"
                        outages += self._down
                    if self.on_status is not None and (told or frame.kind == "down" and (
                            time.perf_counter() - last_status >= self.status_every_s)):
                        last_status = time.perf_counter()
                        self.on_status(self._summary(source, n, start, times, outages))
                    continue
                self.fit(frame.image)
                self.step(frame, times)
                n, self._position = n + 1, frame.time_s
                if self.on_status is not None and time.perf_counter() - last_status >= self.status_every_s:
                    last_status = time.perf_counter()
                    self.on_status(self._summary(source, n, start, times, outages))
        except BaseException:
            with suppress(OSError):  # the open tracks are still written, unless a sink that has just failed (a full
                self.finish("stopped" if self.stop.is_set() else "end")  # disk) fails again: the first error is told
            raise
        self.finish("stopped" if self.stop.is_set() else "end")
        return self._summary(source, n, start, times, outages)

    def fit(self, image: np.ndarray) -> None:
        """The zones scaled to `image` when its size is new (a first frame, a camera that changed resolution)."""
        size = image.shape[:2]
        if size != self._size:
            if self.zones is not None:
                self.zones.resize(size[1], size[0])
            self._size = size

    def finish(self, reason: str = "end") -> None:
        """The open tracks written as events (`reason`): the source has ended or the run stops. Frames after it (a
        `VehicleReader`'s) are detected afresh."""
        self._emit(self.fuser.flush(reason))
        self._still = False

    def _summary(self, source: Any, n: int, start: float, times: dict[str, deque[float]], outages: int) -> RunSummary:
        secs = time.perf_counter() - start
        return RunSummary(self.name or getattr(source, "name", ""), n, round(secs, 3),
                          round(n / secs, 2) if secs else 0.0,
                          {k: round(statistics.median(v), 2) for k, v in times.items()},
                          int(getattr(source, "dropped", 0)), self.events_written, self.stop.is_set(), outages,
                          int(getattr(source, "unreadable", 0)), self.detected_frames, self._position,
                          plate_widths(self.fuser.widths), self._down)


def same_boxes(a: Detections, b: Detections, min_iou: float = 0.9) -> bool:
    """Whether two frames' detections are the same plates in the same places: as many boxes, each with IoU >=
    `min_iou` with one of the others (none in both counts)."""
    if len(a) != len(b):
        return False
    return len(a) == 0 or bool((iou_matrix(a.xyxy, b.xyxy) >= min_iou).any(axis=1).all())


@dataclass(frozen=True)
class ImageRead:
    """One plate read in a still image: its box, text and confidence."""
    box: tuple[float, float, float, float]
    text: str
    confidence: float


@dataclass(frozen=True)
class CropRead:
    """One crop's read with its posterior and the layout it was read in."""
    read: Any  # the recognizer's read (.text, .confidence, .char_confidences)
    probs: np.ndarray  # its T x C posterior
    rows: int  # the layout it was read in: 1 row, or 2


def read_crops(recognizer: Recognizer, crops: list[np.ndarray], both_ways: bool = False,
               views: bool = False, fields: list[np.ndarray | None] | None = None) -> list[CropRead]:
    """One batched recognizer call for `crops`. With `views`, each crop is read in a few views, trimmed and padded a
    little (`ocr.views.views_of`), and the reads fused (`best_view`). With `both_ways`, a crop the recognizer reads
    as two rows is also read as one row (`one_row_view`: a one-row plate seen from the side is as narrow) and the
    surer read kept. `fields[i]`, where given, is crop i cut from one field of an interlaced frame
    (`CropSpec.field_cut`): it is read too, and the surer read kept."""
    if not crops:
        return []
    rows = [recognizer.rows(c) for c in crops]
    wide = [one_row_view(c, n) if both_ways else None for c, n in zip(crops, rows)]
    fields = fields or [None] * len(crops)
    sets = [views_of(c, recognizer.cfg.two_row_aspect) if views else [c] for c in crops]
    flat = [v for s in sets for v in s]
    extra = [(w, 1) for w in wide if w is not None] + [(f, recognizer.rows(f)) for f in fields if f is not None]
    probs = recognizer.probs(flat + [x for x, _ in extra])
    more = iter(zip(probs[len(flat):], [n for _, n in extra]))
    out, k = [], 0
    for s, n, w in zip(sets, rows, wide):
        read, p = best_view(recognizer, probs[k:k + len(s)])
        k += len(s)
        out.append(CropRead(read, p, n))
        if w is not None:
            out[-1] = surer(out[-1], *next(more), recognizer)
    return [surer(r, *next(more), recognizer) if f is not None else r for r, f in zip(out, fields)]


def surer(r: CropRead, p: np.ndarray, rows: int, recognizer: Recognizer) -> CropRead:
    """`r`, or the read of posterior `p` (in `rows` rows) when that is the more confident."""
    r1 = CropRead(recognizer.decode(p), p, rows)
    return r1 if r1.read.confidence > r.read.confidence else r


def read_image(image: np.ndarray, detector: Detector, recognizer: Recognizer, crops: CropSpec = CropSpec(),
               min_chars: int = 0, min_conf: float = 0.0) -> list[ImageRead]:
    """Still-image mode: detect, cut every plate as `crops` says, read them (no tracking, no fusion). Reads shorter
    than `min_chars` are dropped, as fusion drops such tracks in video (not a plate, or not readable), and so are
    reads less confident than `min_conf`."""
    dets = detector.detect(image)
    cut = [(i, c) for i, c in enumerate(crops.cut(image, box) for box in dets.xyxy) if c is not None]
    fields = [crops.field_cut(image, dets.xyxy[i]) for i, _ in cut]
    reads = read_crops(recognizer, [c for _, c in cut], crops.both_ways, crops.views, fields)
    return [ImageRead(as_box(dets.xyxy[i], 1), r.read.text, round(r.read.confidence, 4))
            for (i, _), r in zip(cut, reads) if len(r.read.text) >= min_chars and r.read.confidence >= min_conf]
