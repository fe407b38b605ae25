"""A source's address: a camera's number or device, a stream's or a remote video file's URL, a recorder's playback,
standard input; what each is read as, and its login checked before it is used and hidden in all that is written."""
from __future__ import annotations

import os
import re
from urllib.parse import SplitResult, quote, unquote, urlsplit

from common.errors import UserError
from pipeline.media import RAW_STREAM_EXTS, VIDEO_EXTS


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


STDIN = "-"  # the source read from standard input


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


def web_path(spec: str) -> str:
    """The path of an http(s) URL in lower case, without its query; "" for anything else."""
    return url_path(spec).lower() if re.match(r"^https?://", spec, re.I) else ""


def is_playlist(spec: str) -> bool:
    """An http(s) URL of an HLS playlist (`.m3u8`): a live stream, or a recording whose playlist ends (told at open)."""
    return web_path(spec).endswith(".m3u8")


def is_remote_file(spec: str) -> bool:
    """An http(s) URL of a video file (`https://host/rec/gate.mp4?signature=...`): it is read to its end, as a file on
    disk is, not as a live stream that is reconnected when it ends."""
    return web_path(spec).endswith(REMOTE_FILE_EXTS)


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
