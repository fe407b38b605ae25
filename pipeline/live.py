"""Live sources: cameras, streams and standard input, read as they come.

A reader thread keeps only the newest frame and reconnects with exponential back-off when the stream drops, stalls
or freezes; the source hands over `SourceEvent`s (lost / reconnected) in the frame stream, so the orchestrator closes
the open tracks as soon as a stream is lost.
"""
from __future__ import annotations

import sys
import threading
import time
from collections import deque
from dataclasses import dataclass, replace
from typing import Any, Callable, Iterator

import cv2
import numpy as np
from loguru import logger

from common.errors import UserError
from common.liveness import beat, doing, wait
from pipeline.addresses import STDIN, redact
from pipeline.types import NOT_OPENED, Frame, SourceEvent, clock_step


@dataclass(frozen=True)
class LiveConfig:
    """How a live camera or stream is opened, watched for stalls and reconnected."""
    open_timeout_s: float = 10.0
    read_timeout_s: float = 10.0
    stall_timeout_s: float = 20.0
    backoff_start_s: float = 1.0
    backoff_max_s: float = 30.0
    open_retry_s: float = 0.0  # a source that cannot be opened at start is retried this long (< 0: for ever)
    frozen_timeout_s: float = 120.0  # the same picture this long = a frozen stream: lost, reopened (0: never)
    max_fps: float = 0.0  # frames handed on at most this many a second, the newest each time (0: as they come)


def open_live(url: str | int, cfg: LiveConfig) -> Any:
    """A capture of camera `url` (its index) or stream `url` (through FFmpeg, within `cfg`'s open and read timeouts)."""
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, int(cfg.open_timeout_s * 1000),
              cv2.CAP_PROP_READ_TIMEOUT_MSEC, int(cfg.read_timeout_s * 1000)]
    if isinstance(url, int):
        return cv2.VideoCapture(url)
    return cv2.VideoCapture(url, cv2.CAP_FFMPEG, params)


def reported_fps(cap: Any) -> float:
    """A live capture's frame rate as it reports it; 0 where it gives none, or one no camera runs at (a stream's
    90 kHz clock)."""
    try:
        fps = float(cap.get(cv2.CAP_PROP_FPS))
    except Exception:  # a backend or stand-in without the property
        return 0.0
    return fps if 1 <= fps <= 120 else 0.0


FROZEN = "the same picture for {:g} s (a frozen stream)"
STILL_DOWN_EVERY_S = 600.0  # a camera still lost, or not opened yet, is told again this often (a wrong address)
DOWN_EVERY_S = 5.0  # while a source is lost, a `down` event this often: its run's status kept current meanwhile


def picture_change(still: tuple[np.ndarray, float] | None, img: np.ndarray,
                   now: float) -> tuple[np.ndarray, float]:
    """`still` (a sample of the last picture that changed, and when) kept while `img` is that picture again, pixel for
    pixel (a camera's encoder or a recorder's channel that hangs sends one picture for ever; a live one never does,
    its sensor's noise changing every key frame), else `img`'s sample and `now`."""
    sample = img[::16, ::16]
    if still is not None and still[0].shape == sample.shape and np.array_equal(still[0], sample):
        return still
    return sample.copy(), now


class LiveSource:
    """A camera or stream: newest frame only (stale frames dropped and counted), reconnect on drop/stall (`once`: a
    recorder's playback of a time window, which ends with its stream instead, and says `ENDED` then).

    Iterating yields `Frame`s and, as they happen, `SourceEvent`s (lost / reconnected), so the consumer can
    close its tracks while the stream is down. A read that hangs past `stall_timeout_s` (a backend that ignores
    OpenCV's read timeout) is abandoned: its thread is left to finish on its own and a new one reconnects.
    Iteration ends on `close()` or when `stop` (the run's stop event) is set, even while reconnecting."""

    ENDED = "the playback ended (a recording's window: not opened again)"
    NAME = ""  # a name of the source's own; "" = its URL, redacted (cameras: camera<index>)

    def __init__(self, url: str | int, cfg: LiveConfig = LiveConfig(),
                 opener: Callable[[str | int, LiveConfig], Any] = open_live, max_frames: int = 0,
                 stop: threading.Event | None = None, once: bool = False) -> None:
        self.url, self.cfg, self.opener, self.max_frames = url, cfg, opener, max_frames
        self.once = once  # a recorder's playback of a time window: ends with its stream, never reopened
        self.name = self.NAME or (redact(str(url)) if not isinstance(url, int) else f"camera{url}")
        self.fps, self.total, self.dropped = 0.0, 0, 0
        self.events: deque[SourceEvent] = deque(maxlen=1000)  # the latest lost / reconnected, in order
        self._pending: deque[SourceEvent] = deque()  # not yet handed over by the iterator
        self._latest: np.ndarray | None = None
        self._fresh = threading.Condition()
        self._stop = threading.Event()
        self._run_stop = stop or threading.Event()
        self._backoff = cfg.backoff_start_s  # the next reconnect delay
        self._gen = 0  # the current reader; an abandoned (hung) reader sees a newer value and exits
        self._read_since: tuple[int, float] | None = None  # (reader, start) of a read in progress
        cap = self._first_open()
        self._opened = cap is not None  # False until the first opening (a camera waited for from the start)
        self.fps = reported_fps(cap) if cap is not None else 0.0  # what the annotated video is written at (0: 25)
        self._t0 = time.monotonic()
        self.clock = time.time()  # wall-clock (epoch s) at time_s 0: events carry UTC times
        self.follows_clock = True  # a set system clock re-anchors `clock` (a "clock" SourceEvent); False: a time given
        if cap is None:  # waited for as a stream lost is: the run goes on, told of it (log, webhook, status)
            self._event("lost", NOT_OPENED + (f": {self.why}" if self.why else ""))
        self._thread = self._start_reader(cap)

    def _first_open(self) -> Any:
        """Open the source; one that cannot be opened is retried with the back-off for `open_retry_s`, then refused
        in one line. None where it is to be waited for until it opens or the run stops (`open_retry_s` < 0: a camera
        that boots after the server, or one down when the service starts): the reader opens it with the back-off,
        and the run meanwhile goes on as with a stream lost (a recorder's playback is waited for here)."""
        retry, delay = self.cfg.open_retry_s, self.cfg.backoff_start_s
        deadline = time.monotonic() + retry if retry >= 0 else float("inf")
        while True:
            cap = self.opener(self.url, self.cfg)
            if cap.isOpened():
                doing("")
                return cap
            cap.release()
            if retry < 0 and not self.once:
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise UserError(f"cannot open camera/stream {self.name}" + (f": {self.why}" if self.why else "")
                                + (f" (retried for {retry:g} s)" if retry > 0 else ""))
            logger.warning(f"{self.name}: cannot open it yet; trying again in {min(delay, left):.1f} s")
            doing("waiting for the camera to open")
            if wait(self._run_stop, min(delay, left)):
                raise UserError(f"stopped before camera/stream {self.name} opened")
            delay = min(delay * 2, self.cfg.backoff_max_s)

    @property
    def why(self) -> str:
        """What the address last answered when it could not be opened, where its opener says (an http(s) URL's)."""
        return str(getattr(self.opener, "why", ""))

    def _start_reader(self, cap: Any) -> threading.Thread:
        t = threading.Thread(target=self._reader, args=(self._gen, cap), name=f"reader-{self.name}", daemon=True)
        t.start()
        return t

    def _event(self, kind: str, detail: str = "") -> None:
        with self._fresh:
            if kind == "lost" and self._latest is not None:  # a frame from before the drop: never after its event
                self._latest, self.dropped = None, self.dropped + 1
            event = SourceEvent(kind, round(time.monotonic() - self._t0, 3), detail)
            self.events.append(event)
            self._pending.append(event)
            self._fresh.notify()

    def _current(self, gen: int) -> bool:
        return gen == self._gen and not self._stop.is_set()

    def _reader(self, gen: int, cap: Any) -> None:
        last_frame, self._backoff = time.monotonic(), self.cfg.backoff_start_s
        still: tuple[np.ndarray, float] | None = None  # a sample of the last picture that changed, and when
        while self._current(gen):
            if cap is None:
                if self.once:  # a read hung past the stall timeout: reopened, it would start again
                    logger.info(f"{self.name}: no frame for {self.cfg.stall_timeout_s:g} s: {self.ENDED}")
                    break
                cap = self._reconnect(gen)
                last_frame = time.monotonic()
                continue
            self._read_since = (gen, time.monotonic())
            try:
                ok, img = cap.read()
            except Exception:  # a backend error is a dropped stream like any other
                ok, img = False, None
            if not self._current(gen):
                break  # abandoned while the read hung, or closing
            self._read_since = None
            now = time.monotonic()
            if ok and img is not None and img.size:
                still = picture_change(still, img, now)
                if now - still[1] >= self.cfg.frozen_timeout_s > 0:  # frames, but the same picture: frozen
                    still = None
                    if self.once:
                        logger.info(f"{self.name}: {FROZEN.format(self.cfg.frozen_timeout_s)}: {self.ENDED}")
                        break
                    self._event("lost", FROZEN.format(self.cfg.frozen_timeout_s))
                    cap.release()
                    cap = None
                    continue
                last_frame, self._backoff = now, self.cfg.backoff_start_s  # back-off restarts once frames flow
                with self._fresh:
                    if self._latest is not None:
                        self.dropped += 1
                    self._latest = img
                    self._fresh.notify()
                continue
            if now - last_frame < self.cfg.stall_timeout_s and ok:
                continue
            if self.once:  # reopened, a playback would play its window again from the start: its events twice
                logger.info(f"{self.name}: {self.ENDED}")
                break
            self._event("lost", "stalled" if ok else "read failed")
            cap.release()
            cap = None
        if cap is not None:  # each reader releases its own capture (an abandoned one once its read returns)
            cap.release()

    def _reconnect(self, gen: int) -> Any:
        """Open the stream again with exponential back-off (kept across a reopened stream that gives no frame);
        None when this reader is stopped or abandoned. One that stays down is told again every `STILL_DOWN_EVERY_S`
        (a camera's address mistyped, or one unplugged, would otherwise be one line at the start of months)."""
        since = told = time.monotonic()
        while self._current(gen):
            if self._stop.wait(self._backoff) or not self._current(gen):
                return None
            self._backoff = min(self._backoff * 2, self.cfg.backoff_max_s)
            try:
                cap = self.opener(self.url, self.cfg)
            except Exception:
                cap = None
            if cap is not None and cap.isOpened() and self._current(gen):
                if not self._opened:  # a camera waited for from the start: its rate known at last
                    self.fps, self._opened = reported_fps(cap), True
                self._event("reconnected")
                return cap
            if cap is not None:
                cap.release()
            if time.monotonic() - told >= STILL_DOWN_EVERY_S:
                told = time.monotonic()
                logger.warning(f"{self.name}: {'still lost' if self._opened else NOT_OPENED} after "
                               f"{(told - since) / 60:.0f} min" + (f" ({self.why})" if self.why else "")
                               + f"; trying again every {self._backoff:g} s")
        return None

    def _watchdog(self) -> None:
        """Abandon a reader whose read has hung past the stall timeout, and start a fresh one."""
        since = self._read_since
        if since is None or since[0] != self._gen or time.monotonic() - since[1] < self.cfg.stall_timeout_s:
            return
        self._gen += 1
        self._read_since = None
        self._event("lost", "read hung")
        self._thread = self._start_reader(None)

    def __iter__(self) -> Iterator[Frame | SourceEvent]:
        n, down = 0, None  # down: when it was lost or last said to be still down (None: up)
        due = 0.0  # with max_fps, when the next frame may be handed on (the reader keeps the newest meanwhile)
        while not (self._stop.is_set() or self._run_stop.is_set()):
            beat()  # waiting for a frame (at most 0.25 s a round) is no hang
            early = due - time.monotonic()
            if early > 0:
                self._run_stop.wait(min(early, 0.25))
                continue
            with self._fresh:
                if self._latest is None and not self._pending:
                    self._fresh.wait(timeout=0.25)
                img, self._latest = self._latest, None
                new = list(self._pending)
                self._pending.clear()
            for event in new:
                if event.kind in ("lost", "reconnected"):  # systemctl status: what the camera's run waits for
                    doing("" if event.kind != "lost" else "waiting for the camera to open"
                          if event.detail.startswith(NOT_OPENED) else f"reconnecting ({event.detail})")
                    down = time.monotonic() if event.kind == "lost" else None
                yield event
            if img is None:
                if down is not None and time.monotonic() - down >= DOWN_EVERY_S:  # no frame to time a status by
                    down = time.monotonic()
                    yield SourceEvent("down", round(down - self._t0, 3))
                self._watchdog()
                if not self._thread.is_alive():
                    return
                continue
            step = clock_step(self.clock, self._t0) if self.follows_clock else 0.0
            if step:
                self.clock += step
                yield SourceEvent("clock", round(time.monotonic() - self._t0, 3), f"{step:+.3f}")
            handed = time.monotonic()
            yield Frame(img, n, handed - self._t0, self.name)
            n += 1
            if self.cfg.max_fps > 0:
                due = handed + 1 / self.cfg.max_fps
            if self.max_frames and n >= self.max_frames:
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)  # the reader releases its capture as it exits


PIPE = "pipe:0"  # FFmpeg's name for it
PIPED = ("a stream can be piped: MPEG-TS, MJPEG, raw H.264 or HEVC; an MP4 or MOV cannot, FFmpeg needs to seek in "
         "it: give its file")


class StdinSource(LiveSource):
    """A video stream piped into standard input (`rpicam-vid -t 0 --inline -o - | python run_pipeline.py -`, FFmpeg's
    MPEG-TS, MJPEG or raw H.264): read as a camera is (newest frame, timed as it comes), once, to its end."""

    ENDED = "standard input ended"
    NAME = "stdin"

    def __init__(self, cfg: LiveConfig = LiveConfig(), stop: threading.Event | None = None,
                 opener: Callable[[str | int, LiveConfig], Any] = open_live) -> None:
        if sys.stdin is None or sys.stdin.isatty():
            raise UserError(f"source {STDIN} reads a video stream piped into standard input, and none is (rpicam-vid "
                            f"-t 0 --inline -o - | python run_pipeline.py {STDIN}): pipe one, or give a file or URL")
        try:  # what the first opening took from the pipe is gone: it is not opened again
            super().__init__(PIPE, replace(cfg, open_retry_s=0), opener, stop=stop, once=True)
        except UserError:
            raise UserError(f"standard input holds no video stream FFmpeg can read ({PIPED})") from None
        self.frames = 0

    def __iter__(self) -> Iterator[Frame | SourceEvent]:
        for item in super().__iter__():
            self.frames += isinstance(item, Frame)
            yield item
        if not self.frames and not (self._stop.is_set() or self._run_stop.is_set()):
            raise UserError(f"standard input ended before its first frame ({PIPED})")
        if self.dropped > self.frames and not self.cfg.max_fps:  # came faster than read, not left by a cap: a
            # recording, not a camera
            logger.warning(f"{self.name}: {self.dropped} of {self.dropped + self.frames} frames were dropped as stale "
                           "(a stream piped in is read as a camera's, as it comes): a recording is read whole given "
                           "as its file")


def web_source(spec: str, live: LiveConfig, every_s: float, stop: threading.Event | None = None) -> LiveSource:
    """An http(s) stream or camera: read as a snapshot camera, asked for a picture every `every_s` (no more often
    than its `max_fps` allows: a picture left unread is not fetched), when it answers one picture per request (told
    at each opening: a camera that was down when the run began), else by FFmpeg."""
    from pipeline.snapshots import WebOpener

    every_s = max(every_s, 1 / live.max_fps) if live.max_fps > 0 else every_s
    return LiveSource(spec, live, opener=WebOpener(every_s, open_live, redact(spec)), stop=stop)
