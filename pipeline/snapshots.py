"""Cameras that answer one picture per request: an HTTP snapshot URL (`/cgi-bin/snapshot.cgi`, `/snapshot.jpg`,
`/ISAPI/Streaming/channels/101/picture`), asked for a picture every `snapshot_every_s` and read as a live source.

`SnapshotCapture` stands where `cv2.VideoCapture` stands for a stream: `LiveSource` reads it, and a camera that stops
answering is lost and reconnected with the back-off as a stream is. A login in the URL (`http://user:pass@cam/...`)
answers the camera's Basic or Digest challenge.
"""
from __future__ import annotations

import base64
import functools
import http.client
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np
from loguru import logger

from ocr.process import IMAGE_EXTS

MAX_BYTES = 20_000_000  # a picture larger than this is not a camera's snapshot


class _BasicOnceAsked(urllib.request.HTTPBasicAuthHandler):
    """Basic's login sent with each request once the camera has asked for it, so that a picture is one request, not a
    refusal (401) and a second request; never sent to a camera that asks for Digest, which keeps the password off
    the wire."""
    asked = False

    def retry_http_basic_auth(self, host: str, req: urllib.request.Request, realm: str) -> Any:
        self.asked = True
        return super().retry_http_basic_auth(host, req, realm)

    def http_request(self, req: urllib.request.Request) -> urllib.request.Request:
        if not self.asked or req.has_header("Authorization"):  # a Digest camera's requests: as they are
            return req
        user, password = self.passwd.find_user_password("", req.full_url)  # any realm: the default one
        if password is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode()
            req.add_unredirected_header("Authorization", f"Basic {token}")
        return req

    https_request = http_request


@functools.lru_cache(maxsize=64)
def _opener(url: str) -> tuple[str, urllib.request.OpenerDirector]:
    """The URL without its login, and an opener that answers the camera's Basic or Digest challenge with it (one
    per URL, kept: it remembers a camera that asked for Basic)."""
    from pipeline.addresses import split_login

    login = split_login(url)
    if login is None:
        return url, urllib.request.build_opener()
    bare, user, password = login
    logins = urllib.request.HTTPPasswordMgrWithDefaultRealm()
    logins.add_password(None, bare, user, password)
    return bare, urllib.request.build_opener(_BasicOnceAsked(logins), urllib.request.HTTPDigestAuthHandler(logins))


def fetch_picture(url: str, timeout_s: float, answered: list[str] | None = None) -> np.ndarray | None:
    """The picture `url` answers with, decoded; None when it answers something else (a stream, a page: its content
    type appended to `answered`) or a picture that does not decode. An OSError when it does not answer (refused,
    timed out, an HTTP error)."""
    bare, opener = _opener(url)
    try:
        with opener.open(bare, timeout=timeout_s) as answer:
            kind = answer.headers.get_content_type()
            if not kind.startswith("image/"):
                if answered is not None:
                    answered.append(kind)
                return None  # an MJPEG stream says multipart/x-mixed-replace: its body is never read here
            data = answer.read(MAX_BYTES + 1)
    except http.client.HTTPException as exc:  # a connection cut mid-answer, a malformed answer
        raise OSError(f"{type(exc).__name__}: {exc}") from None
    if not data or len(data) > MAX_BYTES:
        return None
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)


class SnapshotCapture:
    """A snapshot URL as a capture: each `read()` asks for one picture, `every_s` after the last was asked for.
    Opened when it answers with a picture (or when given the picture it answered with: `first`)."""

    def __init__(self, url: str, every_s: float, timeout_s: float, first: np.ndarray | None = None,
                 fetch: Callable[[str, float], np.ndarray | None] = fetch_picture) -> None:
        self.url, self.every_s, self.timeout_s, self.fetch = url, every_s, timeout_s, fetch
        self._held = first if first is not None else self._picture()  # the next read's picture, already asked for
        self._next = time.monotonic() + every_s
        self._opened = self._held is not None

    def _picture(self) -> np.ndarray | None:
        try:
            return self.fetch(self.url, self.timeout_s)
        except (OSError, ValueError):  # no answer, or a URL urllib cannot ask (`http://[::1/x`)
            return None

    def isOpened(self) -> bool:  # noqa: N802 (cv2.VideoCapture's naming)
        return self._opened

    def read(self) -> tuple[bool, np.ndarray | None]:
        if self._held is not None:
            held, self._held = self._held, None
            return True, held
        wait = self._next - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        self._next = time.monotonic() + self.every_s
        img = self._picture()
        return img is not None, img

    def get(self, prop: int) -> float:
        """The frame rate a picture every `every_s` gives, at least 1 (the annotated video then holds each picture for
        its time at 1 fps, where a rate under 1 would be taken for none and written at 25); 0 for anything else."""
        return max(1.0, 1.0 / self.every_s) if prop == cv2.CAP_PROP_FPS else 0.0

    def release(self) -> None:
        self._opened = False


def names_picture(url: str) -> bool:
    """Whether the URL's path ends in an image's name (`/snapshot.jpg`): a snapshot URL even before it answers."""
    from pipeline.addresses import url_path

    return Path(url_path(url)).suffix.lower() in IMAGE_EXTS


class WebOpener:
    """A `LiveSource` opener of an http(s) URL: each opening asks it for a picture (unless its path names one) and,
    when it answers with one, gives a snapshot capture holding that picture (each later picture asked for every
    `every_s`, within `cfg`'s read timeout or what the stall timeout leaves of it); otherwise the `fallback` opener's
    capture (FFmpeg's, for a stream). Told in one line (the URL `shown` as it may be) the first time a picture
    answers. `why` says what the URL last answered when that was no picture (an HTTP error, a web page), for the
    line that refuses a stream FFmpeg cannot open either."""

    def __init__(self, every_s: float, fallback: Callable[[Any, Any], Any], shown: str) -> None:
        self.every_s, self.fallback, self.shown = every_s, fallback, shown
        self.told, self.why = False, ""

    def __call__(self, url: Any, cfg: Any) -> Any:
        every_s = self.every_s
        picture = None
        if not names_picture(str(url)):
            answered: list[str] = []
            try:
                picture = fetch_picture(str(url), cfg.open_timeout_s, answered)
                self.why = _what(answered[0]) if answered else ""
            except urllib.error.HTTPError as exc:  # 404, 401 ...: FFmpeg is asked too, and says no more
                self.why = f"it answers HTTP {exc.code} {exc.reason}"
            except urllib.error.URLError as exc:  # not answering (yet): FFmpeg tries it too
                reason = exc.reason
                self.why = f"nothing answers there ({getattr(reason, 'strerror', None) or reason})"
            except TimeoutError:
                self.why = f"it does not answer within open_timeout_s={cfg.open_timeout_s:g}"
            except (OSError, ValueError):  # a URL urllib cannot ask: FFmpeg tries it too
                self.why = ""
            if picture is None:
                return self.fallback(url, cfg)
        # a read (the wait, then the picture) must end within the stall timeout, or it counts as a stall
        timeout_s = min(cfg.read_timeout_s, max(0.5, cfg.stall_timeout_s - every_s - 0.5))
        cap = SnapshotCapture(str(url), every_s, timeout_s, picture)
        if cap.isOpened() and not self.told:
            self.told = True
            logger.info(f"{self.shown}: answers one picture per request: asked for one every {every_s:g} s "
                        f"(snapshot_every_s)")
            if every_s + timeout_s >= cfg.stall_timeout_s:
                logger.warning(f"{self.shown}: snapshot_every_s={every_s:g} is not well under stall_timeout_s="
                               f"{cfg.stall_timeout_s:g}: each wait counts as a stall (reconnected); raise "
                               f"stall_timeout_s")
        return cap


def _what(kind: str) -> str:
    """What a URL that answers content type `kind` (not a picture, and no stream FFmpeg opens) answers."""
    if kind in ("text/html", "application/xhtml+xml"):
        return ("it answers a web page (text/html), not a video stream or a camera's picture: a video site's page is "
                "not its video (download the video and give the file)")
    return f"it answers {kind}, not a video stream or a camera's picture"
