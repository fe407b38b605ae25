"""Frame sources: video files, image files and folders, and `open_source`, which opens any source by its address
(cameras, streams and standard input are `pipeline.live`'s; what an address names, `pipeline.addresses`').

Every source is an iterator of `Frame`s with a `name` (credentials removed) and `close()`.
"""
from __future__ import annotations

import glob
import math
import re
import threading
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Generator, Iterable, Iterator
from urllib.parse import urlsplit

import cv2
import numpy as np
from loguru import logger

from common.errors import UserError
from common.paths import check_not_archive
from ocr.heif import check_heif_readable
from ocr.process import IMAGE_EXTS, turn
from pipeline.addresses import (STDIN, STREAM_SCHEMES, camera_device, check_login, is_live, is_playback, is_playlist,
                                is_remote_file, is_url, redact, url_path, web_path)
from pipeline.background import prefetch
from pipeline.live import LiveConfig, LiveSource, StdinSource, open_live, web_source
from pipeline.media import RAW_STREAM_EXTS, VIDEO_EXTS, ffmpeg_path, folder_media, other_files
from pipeline.recording import cut_off_movie, video_tracks
from pipeline.types import Frame, SourceEvent


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
        tracks = 0 if remote else video_tracks(self.path)  # a URL's path names no file here
        if tracks > 1:
            logger.warning(f"{self.where}: holds {tracks} video tracks (a dash cam's front and rear cameras in one "
                           f"file?): the first is read; `ffmpeg -i {self.path.name} -map 0:v:1 -c copy second.mp4` "
                           "writes the second as a video of its own")
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
        file = VideoFileSource(spec, stride, lambda url: open_live(url, live), start_s=start_s, end_s=end_s, fps=fps)
        if file.frames_in_file > 0 or start_s or end_s:  # answering ends it): a recording, read to its end once
            return file
        file.close()  # no length: live (an HLS playlist that goes on, a restreamer's /api/stream.mp4?src=cam)
        logger.info(f"{file.where}: it has no length: read as a live stream")
        return LiveSource(spec, live, stop=stop)
    if is_live(spec):
        if web_path(spec):  # perhaps a camera's snapshot URL
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
