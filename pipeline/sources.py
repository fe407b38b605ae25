"""Frame sources: video files, image files and folders, cameras, RTSP/HTTP streams and standard input.

Every source is an iterator of `Frame`s with a `name` (credentials removed) and `close()`. Live sources
run a reader thread that keeps only the newest frame, and reconnect with exponential back-off when the
stream drops or stalls; they hand over `SourceEvent`s (lost / reconnected) in the frame stream, so the
orchestrator closes the open tracks as soon as a stream is lost.
"""
from __future__ import annotations

import glob
import math
import os
import re
import sys
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Generator, Iterable, Iterator
from urllib.parse import SplitResult, quote, unquote, urlsplit

import cv2
import numpy as np
from loguru import logger

from common.errors import UserError
from common.liveness import beat, doing, wait
from common.paths import check_not_archive
from ocr.heif import check_heif_readable
from ocr.process import IMAGE_EXTS, turn
from pipeline.background import prefetch
from pipeline.media import RAW_STREAM_EXTS, VIDEO_EXTS, ffmpeg_path, folder_media, other_files
from pipeline.recording import cut_off_movie
from pipeline.types import Frame, SourceEvent, clock_step



# a query parameter that holds a secret: cameras that take their login in the URL's query (`?usr=admin&pwd=...`,
# `?user=...&password=...`), a stream's token or key, a signed link's signature or credential
SECRET_PARAM = re.compile(r"(?i)([?&;][^=&#;]*(?:user|usr|login|pass|pwd|token|auth|key|secret|sig|credential|session)"
                          r"[^=&#;]*=)[^&#;]*")


# a login whose password holds `#`, `/` or `?`, which end a URL's login (for FFmpeg as for urllib): `user:p#ss@host`
# (not `host:554/live@main`, a port and a path)
BROKEN_LOGIN = re.compile(r"(?<=://)[^/?#@\s]*:(?!\d+/)[^@\s]*?[#/?][^@\s]*@")


def redact(url: str) -> str:
    """`rtsp://user:pass@host/x` -> `rtsp://***@host/x` (also where the password holds a `#`, `/` or `?`, which end
    a URL's login), and a secret's value in the query (`?usr=admin&pwd=x`) -> `?usr=***&pwd=***`; the rest
    (`?channel=2`) unchanged."""
    url = re.sub(r"(?<=://)[^/?#\s]*@", "***@", url)  # to the last @ of the login (p@ss: FFmpeg's)
    return SECRET_PARAM.sub(r"\1***", BROKEN_LOGIN.sub("***@", url))


def check_login(url: str) -> None:
    """A UserError where a URL's password holds a character that ends a URL's login: no camera could be reached by
    it (its host would be read as part of the password), and percent-encoding it is the fix."""
    m = BROKEN_LOGIN.search(url)
    if m is not None:
        char = next(c for c in m.group() if c in "#/?")
        raise UserError(f"{redact(url)}: its password holds {char!r}, which ends a URL's login: write it as "
                        f"{quote(char, safe='')} (e.g. p{char}ss as p{quote(char, safe='')}ss)")


def _parts(url: str) -> SplitResult | None:
    """`url` taken apart by urllib; None for one it cannot take apart (`http://[::1/x`, a bracket left open): it has
    no path, login or host to tell it by, and FFmpeg's refusal says the rest."""
    try:
        return urlsplit(url)
    except ValueError:
        return None


def split_login(url: str) -> tuple[str, str, str] | None:
    """`http://user:pass@host/x` as (`http://host/x`, user, password), percent-escapes undone; None without a login
    (urllib, unlike FFmpeg, takes a login in the URL for part of the host's name)."""
    parts = _parts(url)
    if parts is None or parts.username is None:
        return None
    return parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]).geturl(), unquote(parts.username), unquote(
        parts.password or "")


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


MAX_BAD_FRAMES = 250  # undecodable frames in a row after which a video file is taken to end (10 s at 25 fps)


SEEK_SLACK_S = 0.0005  # a frame stamped this little before start_s (its milliseconds rounded) is still at it


CUT_OFF = ("cut off while it was recorded: no movie header, as a camera leaves a file when it loses power; untrunc "
           "rebuilds one from a whole file of the same camera")


def turned(items: Iterable[Frame | SourceEvent], degrees: int) -> Iterator[Frame | SourceEvent]:
    """A source's frames turned clockwise by `degrees`; its lost / reconnected events as they come."""
    for item in items:
        yield replace(item, image=turn(item.image, degrees)) if degrees and isinstance(item, Frame) else item


class UnreadableVideo(UserError):
    """A video file that cannot be read (not there, empty, corrupt, no frame in its window): the file's mistake, not
    the run's (a watched folder lists such a clip and goes on; an output it cannot write stops the run)."""


SEQUENCE = re.compile(r"%0?\d*d")  # a numbered image sequence's file names, as FFmpeg reads them: img_%05d.jpg


def is_sequence(spec: str) -> bool:
    """Whether `spec` names a numbered image sequence, read as a video (`burst/img_%05d.jpg`, UFPR-ALPR's
    `track0091[%02d].png`: a camera's burst of one vehicle, a dataset's track), not a still image (nor a file named
    so: `shot_%d.jpg` that is there is a photo)."""
    p = Path(spec)
    named = p.suffix.lower() in IMAGE_EXTS and SEQUENCE.search(p.name) is not None
    return named and not is_url(spec) and not p.is_file()


def sequence_name(path: Path) -> str:
    """What a sequence's outputs are called: its file names without their number (`track0091`), else its folder's."""
    return SEQUENCE.sub("", path.stem).strip("_-. []()") or path.parent.resolve().name


class VideoFileSource:
    """A video file's frames (every `stride`-th), from `start_s` to `end_s` seconds into it (0: the end), numbered
    and timed as in a reading of the whole file. A frame the decoder cannot read (a damaged recording) is skipped
    and counted (`unreadable`), not taken for the end: the frames after it still come, at their own times (the
    container's stamps: a variable-rate video is timed as filmed)."""

    def __init__(self, path: str | Path, stride: int = 1, capture: Callable[[str], Any] = cv2.VideoCapture,
                 start_s: float = 0.0, end_s: float = 0.0, fps: float = 0.0) -> None:
        remote = isinstance(path, str) and is_url(path)  # a video on a web server: read as a file is, through FFmpeg
        sequence = is_sequence(str(path))  # numbered images, read by FFmpeg as a video's frames
        self.path = Path(url_path(str(path)) if remote else path)  # a URL's: for its name
        self.name = sequence_name(self.path) if sequence else self.path.name
        # what messages call it (a URL without its query: a bucket's signed link holds its signature there)
        self.where = redact(urlsplit(str(path))._replace(query="", fragment="").geturl()) if remote else str(self.path)
        if not remote and not sequence and not self.path.is_file():
            raise UnreadableVideo(f"video not found: {self.path}" if self.path.suffix.lower() in VIDEO_EXTS else
                                  f"not found: {self.path} (a source is a video or image file, a folder, a camera "
                                  f"index or a stream URL)")
        if not remote and not sequence and self.path.stat().st_size == 0:
            raise UnreadableVideo(f"video is empty (0 bytes): {self.path}")
        self.cap = capture(str(path) if remote else ffmpeg_path(self.path))
        if not self.cap.isOpened():
            raise UnreadableVideo(f"no image of the sequence {self.where} (FFmpeg looks for its first numbered 0 to 4)"
                                  if sequence else f"cannot open video ({CUT_OFF}): {self.where}"
                                  if not remote and cut_off_movie(self.path) else
                                  f"cannot open video (corrupt or unsupported): {self.where}")
        self.fps = float(self.cap.get(cv2.CAP_PROP_FPS)) or 25.0
        if not (0 < self.fps < 1000):
            self.fps = 25.0
        # `fps` given (`source_fps`: a Pi camera's raw .h264 holds no rate, FFmpeg takes 25): FFmpeg's times scaled
        self._scale = self.fps / fps if fps > 0 else 1.0  # to it, a frame's FFmpeg time x this: its time
        self.fps = fps if fps > 0 else self.fps
        if not fps and (sequence or self.path.suffix.lower() in RAW_STREAM_EXTS):
            what = "numbered images hold" if sequence else "a raw stream holds"
            logger.info(f"{self.where}: {what} no frame rate: timed at {self.fps:g} fps (source_fps= gives the rate "
                        f"filmed at)")
        # 0: not known (FFmpeg gives a file with no duration, a stream's dump or a lone JPEG, a count below 0)
        self.frames_in_file = max(0, int(self.cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0))
        self.stride = max(1, stride)
        self.start_s, self.end_s = start_s, end_s
        self.from_frame = self._seek(start_s) if start_s > 0 else 0  # the file's frame the decoder goes on from
        self._read_ahead: np.ndarray | None = None  # a frame read here, given first by the decoding
        if self.frames_in_file and self.from_frame >= self.frames_in_file:  # past the end, if the count is right:
            ok, img = self.cap.read()  # FFmpeg estimates some containers' counts (an MPEG-PS file's 22 of its 30)
            if not ok or img is None:
                self.cap.release()
                raise UnreadableVideo(f"{self.where} ends before start_s={start_s:g} s")
            self._read_ahead, self.frames_in_file = img, 0  # a count that was wrong: not known
        last = self.frames_in_file
        if end_s and self.frames_in_file:  # the progress bar's total: the window at the nominal rate
            last = min(last, self.from_frame + math.ceil((end_s - start_s) * self.fps) + 1)
        self.total = len(range(self.from_frame + -self.from_frame % self.stride, last, self.stride))
        self.dropped = 0
        self.unreadable = 0
        self.clock: float | None = None  # times are positions in the video, not wall-clock
        self._frames: Generator[Frame, None, None] | None = None  # the running prefetch, closed before the capture

    def __iter__(self) -> Iterator[Frame]:
        """Frames decoded by a thread a few ahead of the pipeline (OpenCV decodes without the GIL)."""
        self._frames = prefetch(self._decode(), depth=4)
        yield from self._frames

    def _seek(self, start_s: float) -> int:
        """The decoder moved to `start_s`; returns the number of the frame it goes on from (0 where the file cannot
        be moved: its frames up to `start_s` are then decoded and passed over)."""
        if not self.cap.set(cv2.CAP_PROP_POS_MSEC, start_s / self._scale * 1000):
            return 0
        return max(0, int(self.cap.get(cv2.CAP_PROP_POS_FRAMES) or 0))

    def _decode(self) -> Iterator[Frame]:
        i, n, bad = self.from_frame, 0, 0  # frames of the file so far, frames yielded, undecodable frames in a row
        last = (self.from_frame - 1, (self.from_frame - 1) / self.fps)  # the last decoded frame's (number, time)
        decoded, first = False, 0  # first: the first frame's number, as a reading from the file's start gives it
        while bad < MAX_BAD_FRAMES and not (bad and self.frames_in_file and i >= self.frames_in_file):
            ok, img = (True, self._read_ahead) if self._read_ahead is not None else self.cap.read()
            self._read_ahead = None
            if ok and img is not None:
                self.unreadable += bad
                if bad:
                    logger.warning(f"{self.name}: {bad} undecodable frame(s) skipped before frame {i}")
                bad, decoded = 0, True
                last = (i, self._time(i, *last))
                if self.end_s and last[1] > self.end_s + SEEK_SLACK_S:
                    break
                if i % self.stride == 0 and last[1] >= self.start_s - SEEK_SLACK_S:
                    first = i // self.stride if n == 0 else first
                    yield Frame(img, first + n, last[1], self.name)
                    n += 1
            else:
                bad += 1
            i += 1
        if bad and decoded and last[0] + 1 < self.frames_in_file:  # a file cut short, a server that stopped answering
            logger.warning(f"{self.where}: its last {self.frames_in_file - last[0] - 1} of {self.frames_in_file} "
                           f"frames could not be read (the file is cut short, or its connection failed)")
        if n == 0:
            window = f" from start_s={self.start_s:g} s" * bool(self.start_s) + f" to end_s={self.end_s:g} s" * bool(
                self.end_s)
            raise UnreadableVideo(f"{self.where} has no frame{window}" if decoded else
                                  f"no frame could be decoded from {self.where}{window} (corrupt or truncated)")

    def _time(self, i: int, last_i: int, last_s: float) -> float:
        """Frame `i`'s time in the video: the container's own stamp, so that a phone's variable-rate video has its
        frames where they were filmed; where the container has none (or it does not advance) the nominal rate
        carries on from the last frame's time."""
        stamp = float(self.cap.get(cv2.CAP_PROP_POS_MSEC) or 0.0) / 1000 * self._scale
        return stamp if math.isfinite(stamp) and stamp > last_s else last_s + (i - last_i) / self.fps

    def close(self) -> None:
        if self._frames is not None:
            self._frames.close()  # stops the decoding thread before its capture is released
        self.cap.release()


class ImageSource:
    """Image files and folders of images, one frame each (index = position, time 0)."""

    def __init__(self, paths: list[Path], name: str = "") -> None:
        self.paths = paths
        self.name = name or (paths[0].parent.name if len(paths) > 1 else paths[0].name)
        self.fps, self.total, self.dropped = 1.0, len(paths), 0
        check_heif_readable(paths, paths[0].parent if len(paths) > 1 else paths[0])

    def __iter__(self) -> Iterator[Frame]:
        from ocr.process import read_bgr

        def load() -> Iterator[Frame]:
            for i, p in enumerate(self.paths):
                yield Frame(read_bgr(p), i, 0.0, p.name)

        yield from prefetch(load(), depth=2)

    def close(self) -> None:
        pass


def _open_live(url: str | int, cfg: LiveConfig) -> Any:
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
                 opener: Callable[[str | int, LiveConfig], Any] = _open_live, max_frames: int = 0,
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
        self.fps = reported_fps(cap)  # what the annotated video is written at (0: 25)
        self._t0 = time.monotonic()
        self.clock = time.time()  # wall-clock (epoch s) at time_s 0: events carry UTC times
        self.follows_clock = True  # a set system clock re-anchors `clock` (a "clock" SourceEvent); False: a time given
        self._thread = self._start_reader(cap)

    def _first_open(self) -> Any:
        """Open the source; one that cannot be opened is retried with the back-off for `open_retry_s` (< 0: until it
        opens or the run stops: a camera that boots after the server), then refused in one line."""
        retry, delay = self.cfg.open_retry_s, self.cfg.backoff_start_s
        deadline = time.monotonic() + retry if retry >= 0 else float("inf")
        while True:
            cap = self.opener(self.url, self.cfg)
            if cap.isOpened():
                doing("")
                return cap
            cap.release()
            left = deadline - time.monotonic()
            if left <= 0:
                why = getattr(self.opener, "why", "")  # what an http(s) URL answered, when it said
                raise UserError(f"cannot open camera/stream {self.name}" + (f": {why}" if why else "")
                                + (f" (retried for {retry:g} s)" if retry > 0 else ""))
            logger.warning(f"{self.name}: cannot open it yet; trying again in {min(delay, left):.1f} s")
            doing("waiting for the camera to open")
            if wait(self._run_stop, min(delay, left)):
                raise UserError(f"stopped before camera/stream {self.name} opened")
            delay = min(delay * 2, self.cfg.backoff_max_s)

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
        None when this reader is stopped or abandoned."""
        while self._current(gen):
            if self._stop.wait(self._backoff) or not self._current(gen):
                return None
            self._backoff = min(self._backoff * 2, self.cfg.backoff_max_s)
            try:
                cap = self.opener(self.url, self.cfg)
            except Exception:
                continue
            if cap.isOpened() and self._current(gen):
                self._event("reconnected")
                return cap
            cap.release()
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
        n = 0
        while not (self._stop.is_set() or self._run_stop.is_set()):
            beat()  # waiting for a frame (at most 0.25 s a round) is no hang
            with self._fresh:
                if self._latest is None and not self._pending:
                    self._fresh.wait(timeout=0.25)
                img, self._latest = self._latest, None
                new = list(self._pending)
                self._pending.clear()
            for event in new:
                if event.kind in ("lost", "reconnected"):  # systemctl status: what the camera's run waits for
                    doing(f"reconnecting ({event.detail})" if event.kind == "lost" else "")
                yield event
            if img is None:
                self._watchdog()
                if not self._thread.is_alive():
                    return
                continue
            step = clock_step(self.clock, self._t0) if self.follows_clock else 0.0
            if step:
                self.clock += step
                yield SourceEvent("clock", round(time.monotonic() - self._t0, 3), f"{step:+.3f}")
            yield Frame(img, n, time.monotonic() - self._t0, self.name)
            n += 1
            if self.max_frames and n >= self.max_frames:
                return

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)  # the reader releases its capture as it exits


STDIN = "-"  # the source read from standard input
PIPE = "pipe:0"  # FFmpeg's name for it
PIPED = ("a stream can be piped: MPEG-TS, MJPEG, raw H.264 or HEVC; an MP4 or MOV cannot, FFmpeg needs to seek in "
         "it: give its file")


class StdinSource(LiveSource):
    """A video stream piped into standard input (`rpicam-vid -t 0 --inline -o - | python run_pipeline.py -`, FFmpeg's
    MPEG-TS, MJPEG or raw H.264): read as a camera is (newest frame, timed as it comes), once, to its end."""

    ENDED = "standard input ended"
    NAME = "stdin"

    def __init__(self, cfg: LiveConfig = LiveConfig(), stop: threading.Event | None = None,
                 opener: Callable[[str | int, LiveConfig], Any] = _open_live) -> None:
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
        if self.dropped > self.frames:  # frames came faster than they were read: a recording, not a camera
            logger.warning(f"{self.name}: {self.dropped} of {self.dropped + self.frames} frames were dropped as stale "
                           "(a stream piped in is read as a camera's, as it comes): a recording is read whole given "
                           "as its file")


STREAM_SCHEMES = ("rtsp", "rtsps", "rtmp", "http", "https", "udp", "tcp")


# the endings of a URL's path that name a video file on a web server, not a live stream (`.ts` and `.flv` are left out:
# an encoder's MPEG-TS and HTTP-FLV live streams are served under those names too, as a camera's MJPEG or H.264 stream
# is under `.mjpg` or `.h264`: Axis's /mjpg/video.mjpg)
REMOTE_FILE_EXTS = tuple(sorted(VIDEO_EXTS - {".ts", ".flv"} - RAW_STREAM_EXTS))


def url_path(url: str) -> str:
    """A URL's path, without its query and fragment, %-escapes decoded (`https://h/b%20c.mp4?x=1` -> `/b c.mp4`)."""
    parts = _parts(url)
    return unquote(parts.path) if parts is not None else ""


def local_path(spec: str) -> str:
    """A `file://` URL (a file manager's or a browser's address of a file: `file:///home/me/gate%20cam.mp4`) as the
    path it names (`/home/me/gate cam.mp4`); anything else, a `file://` URL of another host included, as it is."""
    parts = _parts(spec) if spec.lower().startswith("file://") else None  # (`file://[x`: refused as a scheme)
    return unquote(parts.path) if parts is not None and parts.netloc in ("", "localhost") and parts.path else spec


def is_url(spec: str) -> bool:
    """Whether `spec` is a URL (`scheme://...`), not a path."""
    return re.match(r"^[A-Za-z][A-Za-z0-9+.-]*://", spec) is not None


def _web_path(spec: str) -> str:
    """The path of an http(s) URL in lower case, without its query; "" for anything else."""
    return url_path(spec).lower() if re.match(r"^https?://", spec, re.I) else ""


def is_playlist(spec: str) -> bool:
    """An http(s) URL of an HLS playlist (`.m3u8`): a live stream, or a recording whose playlist ends (told at open)."""
    return _web_path(spec).endswith(".m3u8")


def is_remote_file(spec: str) -> bool:
    """An http(s) URL of a video file (`https://host/rec/gate.mp4?signature=...`): it is read to its end, as a file on
    disk is, not as a live stream that is reconnected when it ends."""
    return _web_path(spec).endswith(REMOTE_FILE_EXTS)


def is_live(spec: str) -> bool:
    """A camera index (`0`) or device (`/dev/video0`), a stream URL (not a video file's on a web server) or standard
    input (`-`): read as it comes."""
    return spec.isdigit() or spec == STDIN or camera_device(spec) is not None or (
        re.match(rf"^({'|'.join(STREAM_SCHEMES)})://", spec, re.I) is not None and not is_remote_file(spec))


# a recorder's playback of a time window over RTSP: Hikvision's /Streaming/tracks/101?starttime=...&endtime=...,
# Dahua's /cam/playback?channel=1&starttime=...&endtime=...
PLAYBACK = re.compile(r"(?i)^rtsps?://[^?#]*(?=\?(?:[^#]*&)?start_?time=)(?=\?(?:[^#]*&)?end_?time=)")


def is_playback(spec: str) -> bool:
    """Whether `spec` is a recorder's playback of a time window (a start and an end time in an RTSP URL's query): it
    ends, and played again it would give its plates again."""
    return PLAYBACK.match(spec) is not None


def camera_device(spec: str) -> int | None:
    """The index OpenCV opens a camera by, for its Linux device file (`/dev/video0`, or a name that stays when cameras
    are plugged in another order: `/dev/v4l/by-id/usb-...-video-index0`, a link to one); None for another spec."""
    if not spec.startswith("/dev/"):
        return None
    m = re.fullmatch(r"/dev/video(\d+)", os.path.realpath(spec))
    return int(m.group(1)) if m else None


def go_on_from(position_s: float) -> float:
    """The `start_s` that goes on from the frame after one at `position_s` (a stopped reading's last)."""
    return position_s + 2 * SEEK_SLACK_S


def video_time(seconds: float) -> str:
    """A time in a video as h:mm:ss.sss (`1:02:03.500`)."""
    hours, rest = divmod(seconds, 3600)
    return f"{int(hours)}:{int(rest // 60):02d}:{rest % 60:06.3f}"


def go_on_line(position_s: float, end_s: float = 0.0) -> str:
    """Where a stopped reading of a video file stopped (its last frame's time) and the `start_s` that goes on from
    the next frame (with the window's `end_s`, when it had one)."""
    end = f" end_s={end_s:g}" if end_s else ""
    return f"stopped at {video_time(position_s)} (go on with start_s={go_on_from(position_s):.3f}{end})"


def window_text(start_s: float, end_s: float) -> str:
    """How a summary line names a window of a video file (` from 1:02:30.000 to 1:10:00.000`); "" for the whole."""
    return f" from {video_time(start_s)}" * bool(start_s) + f" to {video_time(end_s)}" * bool(end_s)


def check_window(spec: str, start_s: float, end_s: float) -> None:
    """A UserError unless `start_s` and `end_s` make a window of a file's video: a camera or stream has none, and
    `end_s` (0: the end) comes after `start_s`."""
    if (start_s or end_s) and is_live(spec):
        raise UserError(f"start_s and end_s are for video files, not {redact(spec)} (a camera or stream is read as "
                        "it comes)")
    if end_s and end_s <= start_s:
        raise UserError(f"end_s={end_s:g} is not after start_s={start_s:g}")


def web_source(spec: str, live: LiveConfig, every_s: float, stop: threading.Event | None = None) -> LiveSource:
    """An http(s) stream or camera: read as a snapshot camera, asked for a picture every `every_s`, when it answers
    one picture per request (told at each opening: a camera that was down when the run began), else by FFmpeg."""
    from pipeline.snapshots import WebOpener

    return LiveSource(spec, live, opener=WebOpener(every_s, _open_live, redact(spec)), stop=stop)


KNOWN_BY_ENDING = ("a folder's images and videos are known by their files' endings (.jpg, .png, .mp4, .mov, .avi, "
                   ".mkv, .ts, .dav, ...); a video of another ending can be given as a file")


def _kinds(files: list[Path]) -> str:
    """What `files` are, by their endings, most first: `other files (2 .dat, 1 .txt, 1 without an ending)`."""
    counts = Counter(f.suffix.lower() or "without an ending" for f in files)
    return "other files (" + ", ".join(f"{n} {ext}" for ext, n in counts.most_common()) + ")"


def open_source(spec: str, stride: int = 1, live: LiveConfig = LiveConfig(),
                stop: threading.Event | None = None, start_s: float = 0.0,
                end_s: float = 0.0, snapshot_s: float = 1.0,
                fps: float = 0.0) -> VideoFileSource | ImageSource | LiveSource:
    """A camera index (`0`), a URL, standard input (`-`), an image file or folder, or a video file (from `start_s`
    to `end_s`, 0: its end; timed at `fps` frames a second where given, for a file that holds no rate). `stop` ends a
    live source's iteration even while it waits for a reconnect; a camera's snapshot URL is asked for a picture every
    `snapshot_s`."""
    check_window(spec, start_s, end_s)
    if spec == STDIN:
        return StdinSource(live, stop)
    if is_url(spec):
        check_login(spec)
    if is_remote_file(spec) or is_playlist(spec):  # opened and read within the live timeouts (a server that stops
        file = VideoFileSource(spec, stride, lambda url: _open_live(url, live), start_s=start_s, end_s=end_s, fps=fps)
        if file.frames_in_file > 0 or start_s or end_s:  # answering ends it): a recording, read to its end once
            return file
        file.close()  # no length: live (an HLS playlist that goes on, a restreamer's /api/stream.mp4?src=cam)
        logger.info(f"{file.where}: it has no length: read as a live stream")
        return LiveSource(spec, live, stop=stop)
    if is_live(spec):
        if _web_path(spec):  # perhaps a camera's snapshot URL
            return web_source(spec, live, snapshot_s, stop)
        device = camera_device(spec)
        if device is not None and not Path(spec).exists():
            here = sorted(glob.glob("/dev/video[0-9]*"), key=lambda d: int(d[len("/dev/video"):]))
            raise UserError(f"no camera at {spec} (camera devices here: {', '.join(here) or 'none'})")
        return LiveSource(device if device is not None else int(spec) if spec.isdigit() else spec, live, stop=stop,
                          once=is_playback(spec))
    if is_url(spec):
        raise UserError(f"unknown stream scheme '{spec.split('://', 1)[0]}' in {redact(spec)} (known: "
                        f"{', '.join(STREAM_SCHEMES)})")
    p = Path(spec)
    if p.is_file():  # FFmpeg would read a zip's stored JPEGs as a video's frames
        check_not_archive(p)
    if p.is_dir():
        images, videos = folder_media(p)
        if not images and not videos:
            others = other_files(p)
            for f in others:  # footage or photos as downloaded: how to unpack them
                check_not_archive(f)
            raise UserError(f"no images or videos in folder {p} or below it" + (
                f", only {_kinds(others)}: {KNOWN_BY_ENDING}" if others else ""))
        if not images:
            raise UserError(f"{p} holds videos: pass each video file as a source")
        return ImageSource(images, p.name)  # named after the folder, whatever it holds
    if is_sequence(spec):
        return VideoFileSource(p, stride, start_s=start_s, end_s=end_s, fps=fps)
    if p.suffix.lower() in IMAGE_EXTS:
        if not p.is_file():
            raise UserError(f"image not found: {p}")
        return ImageSource([p])
    return VideoFileSource(p, stride, start_s=start_s, end_s=end_s, fps=fps)
