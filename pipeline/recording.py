"""When a video file was recorded, so that its events carry UTC times as a camera's do (`video_start_utc`): a time
given for it, the one its MP4 / MOV container was stamped with by the camera that made it, or the one its name
holds (a dash cam's `2026_1206_123000_001F.MP4`, an NVR's `ch01_20261206123000.mp4`)."""
from __future__ import annotations

import re
import struct
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import BinaryIO, Iterator

from loguru import logger

from common.errors import UserError
from pipeline.types import iso_time

FROM_FILE = "file"  # video_start_utc: the container's own recording time
FROM_NAME = "name"  # video_start_utc: the time in the file's name, UTC, or name+01:00: that offset's local time
_OFFSET = re.compile(r"([+-])(\d\d?)(?::?(\d\d))?")  # ISO 8601's +01:00, +0100 and +01, and +1
_NAME_KEY = re.compile(rf"name(?:{_OFFSET.pattern})?", re.I)
# a date and time in a file's name: 20261206_123000, 2026_1206_123000, 2026-12-06 12.30.00, 2026-12-06T12-30-00
NAME_TIME = re.compile(r"(?<!\d)(20\d\d)[-_.]?(\d\d)[-_.]?(\d\d)[-_.T ]?(\d\d)[-_.:h]?(\d\d)[-_.:m]?(\d\d)")
MP4_EPOCH = 2082844800  # seconds from 1904-01-01 (the MP4 / QuickTime epoch) to 1970-01-01


def given_start(value: str) -> float | None:
    """`video_start_utc` as epoch seconds: None for "", `file` and `name[+hh:mm]` (read per file), else an ISO 8601
    time (a time without an offset is UTC, as the key says); anything else is a UserError."""
    text = value.strip()
    if text in ("", FROM_FILE) or name_offset(text) is not None:
        return None
    try:
        return iso_time(text).timestamp()
    except ValueError:
        raise UserError(f"config key 'video_start_utc': {value!r} is not a time (e.g. 2026-12-05T22:00:00Z, or "
                        f"{FROM_FILE}: the time the file's container holds, or {FROM_NAME}: the time in its name, "
                        f"{FROM_NAME}+01:00 where the names are in that offset's local time)") from None


def name_offset(value: str) -> timedelta | None:
    """The offset from UTC that `video_start_utc` = `name[+hh:mm]` gives the times in files' names; None for another
    value. An offset no clock has (past 14 hours, minutes past 59) is a UserError."""
    m = _NAME_KEY.fullmatch(value.strip())
    if m is None:
        return None
    sign, hours, minutes = m.groups()
    return _offset(sign, hours, minutes, f"config key 'video_start_utc': {value!r}")


def utc_offset(value: str, key: str) -> timedelta | None:
    """A config key's offset from UTC (`+01:00`, `-0500`); None for ""; anything else is a UserError."""
    if not value.strip():
        return None
    m = _OFFSET.fullmatch(value.strip())
    if m is None:
        raise UserError(f"config key '{key}': {value!r} is not an offset from UTC (+01:00, -05:00, -5)")
    sign, hours, minutes = m.groups()
    return _offset(sign, hours, minutes, f"config key '{key}': {value!r}")


def _offset(sign: str | None, hours: str | None, minutes: str | None, where: str) -> timedelta:
    offset = timedelta(hours=int(hours or 0), minutes=int(minutes or 0)) * (-1 if sign == "-" else 1)
    if int(minutes or 0) > 59 or not timedelta(hours=-12) <= offset <= timedelta(hours=14):
        raise UserError(f"{where}: {sign}{int(hours or 0):02d}:{int(minutes or 0):02d} is no offset from UTC (-12:00 "
                        "to +14:00)")
    return offset


def name_start(name: str, offset: timedelta) -> float | None:
    """The time (epoch seconds) the first date and time in file name `name` give, read in `offset`'s local time; None
    where it holds none."""
    for m in NAME_TIME.finditer(name):
        try:
            y, mo, d, h, mi, sec = map(int, m.groups())
            local = datetime(y, mo, d, h, mi, sec)
        except ValueError:  # 2026-13-45 ...: not a date, perhaps a later one is
            continue
        return local.replace(tzinfo=timezone(offset)).timestamp()
    return None


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """The (type, content start, content end) of the MP4 boxes from `start` to `end` in `f` (an end past `end`: a box
    the file cuts short); stops where no box can be."""
    at = start
    while at + 8 <= end:
        f.seek(at)
        head = f.read(16)
        size, kind = struct.unpack(">I4s", head[:8])
        body = at + 8
        if size == 1 and len(head) == 16:  # a 64-bit size follows
            size, body = struct.unpack(">Q", head[8:16])[0], at + 16
        elif size == 0:  # to the end of the file
            size = end - at
        if size < body - at:  # smaller than its own header: not a box
            return
        yield kind, body, at + size
        at += size


def _inside(f: BinaryIO, within: tuple[int, int], kind: bytes) -> list[tuple[int, int]]:
    """The (content start, content end) of each box of `kind` among those from `within`'s start to its end in `f`, the
    end kept within the range (a box cut short by the file's end keeps what it holds up to there)."""
    return [(body, min(stop, within[1])) for k, body, stop in _boxes(f, *within) if k == kind]


def container_start(path: Path) -> float | None:
    """The recording time (epoch seconds) an MP4 / MOV / 3GP file's movie header holds, None where it has none (0, a
    date before 1971, not such a file, or cut short)."""
    try:
        with path.open("rb") as f:
            movie = _inside(f, (0, path.stat().st_size), b"moov")[:1]
            header = [at for m in movie for at, _ in _inside(f, m, b"mvhd")][:1]
            if not header:
                return None
            f.seek(header[0])  # version, flags, then the creation time: 64-bit in version 1
            head = f.read(12)
            if len(head) < 12:
                return None
            stamp = struct.unpack(">Q" if head[0] == 1 else ">I", head[4:12] if head[0] == 1 else head[4:8])[0]
            epoch = stamp - MP4_EPOCH
            return float(epoch) if epoch > 365 * 86400 else None  # 1970: a camera's clock never set
    except OSError:
        return None


MOVIE_EXTS = (".mp4", ".mov", ".m4v", ".3gp")  # files of ISO boxes whose movie header lists their tracks


def video_tracks(path: Path) -> int:
    """How many video tracks an MP4 / MOV file's movie header lists (2: a dual dash cam's front and rear cameras in
    one file, of which FFmpeg reads the first); 0 where it lists none, or the file is no such file or unread."""
    if path.suffix.lower() not in MOVIE_EXTS:
        return 0
    try:
        with path.open("rb") as f:
            movie = _inside(f, (0, path.stat().st_size), b"moov")[:1]
            tracks = [t for m in movie for t in _inside(f, m, b"trak")]
            handlers = [at for t in tracks for m in _inside(f, t, b"mdia") for at, _ in _inside(f, m, b"hdlr")]
            n = 0
            for at in handlers:  # version and flags, pre-defined, then the handler's type
                f.seek(at + 8)
                n += f.read(4) == b"vide"
            return n
    except OSError:
        return 0


def _top_boxes(path: Path) -> list[tuple[bytes, bool]]:
    """The type of each of a file's top-level ISO boxes, with whether it is whole (not cut short by the file's end);
    [] where the file cannot be read."""
    try:
        with path.open("rb") as f:
            end = path.stat().st_size
            return [(kind, stop <= end) for kind, _, stop in _boxes(f, 0, end)]
    except OSError:
        return []


def movie_whole(path: Path, needs: tuple[bytes, ...] = (b"moov",)) -> bool:
    """Whether an MP4 / MOV file is whole: its movie header is there and no box runs past the file's end (one still
    being uploaded is not); for another file of ISO boxes (a HEIC or AVIF photo), the boxes it `needs` are there."""
    boxes = _top_boxes(path)
    kinds = [kind for kind, _ in boxes]
    return all(whole for _, whole in boxes) and all(k in kinds for k in needs)


MOVIE_STARTS = (b"ftyp", b"wide", b"free", b"skip", b"mdat")  # an MP4 / MOV file's first box, as cameras write them


def cut_off_movie(path: Path) -> bool:
    """Whether an MP4 / MOV file holds its frames (`mdat`) but no movie header (`moov`): a recording cut off before it
    was closed (a dash cam or camera that lost power), which no player opens."""
    kinds = [kind for kind, _ in _top_boxes(path)]
    return bool(kinds) and kinds[0] in MOVIE_STARTS and b"mdat" in kinds and b"moov" not in kinds


def check_start(spec: str, value: str) -> None:
    """A UserError unless `video_start_utc` = `value` can be a time of source `spec`: "", `file` or an ISO time, and
    not for a camera or stream, whose events carry the time they are seen (a recorder's playback takes a time: when
    its window begins); `file` not for a file on a web server."""
    from pipeline.addresses import is_live, is_playback, is_remote_file, redact, url_path

    start = given_start(value)
    if is_playback(spec):
        if value.strip() and start is None:
            raise UserError(f"video_start_utc={value.strip()} is for video files: a recorder's playback "
                            f"{redact(spec)} takes the time its window begins "
                            "(video_start_utc=2026-12-05T22:00:00+01:00)")
        return
    if value.strip() and is_live(spec):
        raise UserError(f"video_start_utc is for video files, not {redact(spec)} (a camera's events carry the time "
                        "they are seen)")
    if value.strip() == FROM_FILE and is_remote_file(spec):
        raise UserError(f"video_start_utc=file reads a file's container on disk, not {Path(url_path(spec)).name}'s on "
                        "a web server: give its start (video_start_utc=2026-12-05T22:00:00Z)")


def file_start(path: Path, value: str) -> float | None:
    """When video file `path` began (epoch s): by the time in its name for `video_start_utc` = `value` =
    `name[+hh:mm]`, else by its container's; None where that holds none."""
    offset = name_offset(value)
    return name_start(path.name, offset) if offset is not None else container_start(path)


def recording_clock(path: Path, value: str) -> float | None:
    """The wall-clock time (epoch s) at the start of video file `path` for `video_start_utc` = `value`, None for ""
    (positions only). With `file` or `name`, a file whose container or name holds no time is said once and has
    none."""
    by_name = name_offset(value) is not None
    if value.strip() != FROM_FILE and not by_name:
        return given_start(value)
    clock = file_start(path, value)
    if clock is None:
        held = (f"its name holds no date and time (video_start_utc={value.strip()}: e.g. 20261206_123000)" if by_name
                else f"its container holds no recording time (video_start_utc={FROM_FILE})")
        logger.warning(f"{path.name}: {held}; its events carry positions in the video only")
    return clock
