"""Media on disk: a folder's images and videos, the folders below it (a dash-cam card's DCIM/...), images and clips
taken as a camera uploads them into a watched folder, and the phone photos OpenCV cannot decode."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import Callable, Iterator

from common.liveness import wait
from ocr.heif import HEIF_EXTS
from ocr.process import IMAGE_EXTS
from pipeline.recording import movie_whole

# videos by their files' endings: containers (an AVCHD camcorder's .MTS / .m2ts, a phone's .3gp, an old DVR's .asf, a
# DVD's .vob, a Dahua recorder's .dav), and streams saved without one (a Raspberry Pi camera's .h264, an IP camera's
# .mjpeg), all of which FFmpeg reads by their content
VIDEO_EXTS = {".mp4", ".avi", ".mkv", ".mov", ".m4v", ".webm", ".ts", ".mpg", ".mpeg", ".wmv", ".flv", ".mts", ".m2ts",
              ".3gp", ".3g2", ".asf", ".vob", ".dav", ".h264", ".264", ".h265", ".265", ".hevc", ".mjpeg", ".mjpg"}
RAW_STREAM_EXTS = {".h264", ".264", ".h265", ".265", ".hevc", ".mjpeg", ".mjpg"}  # saved streams: no container
# what the annotated videos are written in (`video_container`), and the codec each holds: MPEG-4 Part 2, the one
# encoder every OpenCV build has, and VP8 for WebM (web browsers play it; it encodes several times slower)
VIDEO_CODECS = {"mp4": "mp4v", "mkv": "mp4v", "webm": "VP80"}
VIDEO_CONTAINERS = tuple(VIDEO_CODECS)


def annotated_videos(folder: Path, below: str = "") -> list[Path]:
    """The annotated videos (`annotated*.mp4`, `.mkv`, its parts and earlier runs' too) in `folder`, or in the
    folders `below` names (`**/`: any)."""
    return [v for ext in VIDEO_CONTAINERS for v in folder.glob(f"{below}annotated*.{ext}")]


def ffmpeg_path(path: Path) -> str:
    """A file's path as FFmpeg is to take it, to read or write: one with a colon (`12:30.mp4`, `cam1:gate/a.mp4`)
    from the root, as FFmpeg takes what comes before a colon for a protocol's name (and opens nothing)."""
    return str(path.absolute()) if ":" in str(path) else str(path)


def _is_file(e: os.DirEntry) -> bool:
    """As `Path.is_file`: a file, or a link to one; False where it cannot be told."""
    try:
        return e.is_file()
    except OSError:
        return False


def _media_of(entries: list[os.DirEntry]) -> tuple[list[Path], list[Path]]:
    """The images and videos (by suffix) among a folder's entries, in their order."""
    files = [Path(e.path) for e in entries if _is_file(e)]
    return [f for f in files if f.suffix.lower() in IMAGE_EXTS], [f for f in files if f.suffix.lower() in VIDEO_EXTS]


def _listing(folder: Path) -> list[os.DirEntry]:
    with os.scandir(folder) as it:
        return sorted(it, key=lambda e: e.name)


def folder_media(folder: Path) -> tuple[list[Path], list[Path]]:
    """A folder's images and videos (by suffix), each sorted by name."""
    return _media_of(_listing(folder))


# files the pipeline writes into each source's output folder: such a folder (crops/, frames/, annotated.mp4) is
# never taken for an input when a folder above it is given
OUTPUT_MARKERS = ("summary.json", "reads.jsonl", "events.db")


def media_tree(top: Path, onerror: Callable[[OSError], None] | None = None,
               below: bool = False) -> Iterator[tuple[Path, list[Path], list[Path]]]:
    """`top` and the folders below it in path order, each with its images and videos (`folder_media`), each folder
    listed once; hidden ones, folders reached through a link, and the pipeline's own output folders (with what is
    below them) left out. A folder that cannot be listed is passed over, given to `onerror` when there is one."""
    try:
        entries = _listing(top)
    except OSError as exc:
        if onerror is not None:
            onerror(exc)
        return
    if below and any(e.name in OUTPUT_MARKERS and not e.is_dir() for e in entries):
        return
    yield (Path(top), *_media_of(entries))
    for e in entries:
        if not e.name.startswith(".") and e.is_dir(follow_symlinks=False):
            yield from media_tree(Path(e.path), onerror, below=True)


def media_folders(top: Path) -> list[Path]:
    """`top` and the folders below it, as `media_tree` finds them."""
    return [folder for folder, _, _ in media_tree(top)]


def expand_folder(spec: str, videos: bool = True) -> list[str]:
    """A folder's sources, then its subfolders' (a dash-cam card's DCIM/...): each folder that holds images is one
    image source, each video its own source (with `videos`); a folder with none anywhere stays itself (open_source
    says so)."""
    p = Path(spec)
    if not p.is_dir():
        return [spec]
    sources = []
    for folder, images, clips in media_tree(p):
        sources += [spec if folder == p else str(folder)] if images else []
        sources += [str(v) for v in clips] if videos else []
    return sources or [spec]


END_MARKS = {**dict.fromkeys((".jpg", ".jpeg", ".jpe", ".jfif"), b"\xff\xd9"),  # how a whole file ends
             ".png": b"IEND\xaeB`\x82"}
WHOLE_AFTER_POLLS = 10  # a file that has not grown for this many polls is taken, whole or not


MOVIE_EXTS = {".mp4", ".mov", ".m4v", ".3gp", ".3g2"}  # MP4 / QuickTime files, whose boxes tell a whole file
PHOTO_BOX_EXTS = HEIF_EXTS | {".avif"}  # photos in ISO boxes, as MP4's: a whole one has its meta and mdat


def ends_whole(path: Path) -> bool:
    """Whether a JPEG or PNG file ends as a whole one does (its end marker among its last bytes; padding allowed), an
    MP4 or MOV file has its movie header and every box whole, a HEIC or AVIF photo its item and data boxes and every
    box whole; other videos: False (whole once they have not grown for `WHOLE_AFTER_POLLS`: a clip is not awaited as
    a snapshot is); other images: True."""
    if path.suffix.lower() in MOVIE_EXTS:
        return movie_whole(path)
    if path.suffix.lower() in PHOTO_BOX_EXTS:
        return movie_whole(path, (b"meta", b"mdat"))
    if path.suffix.lower() in VIDEO_EXTS:
        return False
    mark = END_MARKS.get(path.suffix.lower())
    if mark is None:
        return True
    with path.open("rb") as f:
        f.seek(max(0, path.stat().st_size - 64))
        return mark in f.read()


def watch_media(folder: Path, seen: set[str], stop: threading.Event, poll_s: float = 2.0,
                videos: bool = False, idle_s: float = 0.0) -> Iterator[Path]:
    """The images under `folder` (its subfolders too, as `media_tree` finds them, new ones included), and its videos
    with `videos`, as they come, each once, until `stop` (or, with `idle_s`, until no file has come, been taken or
    grown for that long): a camera that uploads its snapshots or clips there. A file
    is taken once its size has held for one poll and it ends as a whole JPEG or PNG does, or holds a whole MP4's
    boxes, so one still being written is not read half-way (one that stays cut short is taken after
    `WHOLE_AFTER_POLLS`). Names (paths relative to `folder`) in `seen` are skipped, each file taken is added, and
    names the folder no longer holds are dropped from it."""
    held: dict[str, tuple[int, int]] = {}  # files not yet taken, by name: (size, polls it has held that size)
    busy = time.monotonic()  # when a file was last taken or seen being written
    while True:
        ready, present, changed = [], set(), False
        failed: list[OSError] = []
        for _, images, clips in media_tree(folder, onerror=failed.append):  # a subfolder gone since: not a whole
            for f in images + (clips if videos else []):  # listing
                name = f.relative_to(folder).as_posix()
                present.add(name)
                if name in seen:
                    continue
                try:
                    size = f.stat().st_size
                    last, polls = held.get(name, (-1, 0))
                    changed = changed or size != last  # new, or still being written
                    polls = polls + 1 if size == last and size > 0 else 0
                    whole = polls > 0 and (polls >= WHOLE_AFTER_POLLS or ends_whole(f))
                except OSError:  # gone since it was listed
                    continue
                if whole:
                    ready.append(f)
                    seen.add(name)
                    held.pop(name, None)
                else:
                    held[name] = (size, polls)
        if not failed:  # names the folder no longer holds are forgotten: a watch of months stays small, and an
            seen &= present  # image that comes again under an old name (a camera that reuses names) is read
            held = {k: v for k, v in held.items() if k in present}
        yield from ready
        if ready or changed:  # (an empty file that stays empty, a failed upload, holds nothing up)
            busy = time.monotonic()
        elif idle_s and time.monotonic() - busy >= idle_s:
            return
        if wait(stop, poll_s):
            return


def other_files(top: Path) -> list[Path]:
    """The files under `top` (in the folders `media_tree` finds) that are neither images nor videos by their endings."""
    return [Path(e.path) for folder in media_folders(top) for e in _listing(folder)
            if _is_file(e) and Path(e.name).suffix.lower() not in IMAGE_EXTS | VIDEO_EXTS]
