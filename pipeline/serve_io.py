"""What the HTTP service reads from its clients: a body sent in chunks, an image in a form or in JSON, the image
itself (measured before it is decoded), clients that go away mid-request, and the web pages whose scripts may read its
answers (CORS)."""
from __future__ import annotations

import argparse
import base64
import binascii
import json
import os
import re
import ssl
import sys
import time
from contextlib import contextmanager
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator

import cv2
import numpy as np
from loguru import logger

from common.errors import UserError
from common.liveness import beat
from ocr.heif import is_heif, read_heif
from ocr.process import cv_refusal
from pipeline.photo_meta import header


class TooLarge(Exception):
    """A request body over the service's limit."""


def chunked_body(rfile: Any, limit: int) -> bytes:
    """The body of a request sent `Transfer-Encoding: chunked` (`curl -X POST -T -` from a pipe, a client
    streaming a file of unknown length); TooLarge past `limit` bytes, ValueError when it is not chunked as HTTP/1.1
    says, EOFError (the bytes read) when the client went away before its end."""
    out = bytearray()
    while True:
        line = rfile.readline(1024)
        if not line:
            raise EOFError(len(out))
        size = int(line.split(b";")[0].strip() or b"-", 16)  # a chunk's size, in hex
        if size < 0:
            raise ValueError("a negative chunk size")
        if size == 0:
            while rfile.readline(1024).strip():  # trailer lines, up to the empty one
                pass
            return bytes(out)
        if len(out) + size > limit:
            raise TooLarge(len(out) + size)
        chunk = rfile.read(size)
        if len(chunk) < size:
            raise EOFError(len(out) + len(chunk))
        if rfile.readline(1024).strip():
            raise ValueError("a chunk longer than its size")
        out += chunk


MAX_MP = 150.0  # most megapixels in an image accepted: a 108 MP phone photo is


class TooManyPixels(UserError):
    """An image whose header gives more pixels than the service decodes."""


def check_pixels(body: bytes, name: str, max_mp: float = MAX_MP) -> None:
    """TooManyPixels when `body`'s header gives more than `max_mp` megapixels: a small file can hold a huge image (a
    2.6 MB PNG of 30000 x 30000 px decodes to 2.7 GB), so it is measured before it is decoded. An image whose header
    PIL cannot read is left to OpenCV's own limit (1 gigapixel)."""
    from PIL import Image

    label = name or "the request body"
    try:
        with header(body) as im:
            w, h = im.size
    except Image.DecompressionBombError:  # over twice PIL's limit, which the command raises to --max-mp
        most = 2 * (Image.MAX_IMAGE_PIXELS or 0) / 1e6
        over = f"over the {max_mp:g} MP accepted (--max-mp)" if max_mp < most else "more than PIL opens"
        raise TooManyPixels(f"{label} holds over {most:.0f} MP: {over}") from None
    except Exception:  # noqa: BLE001 - a format PIL does not know, or no image: decoding says which
        return
    if w * h > max_mp * 1e6:
        raise TooManyPixels(f"{label} is {w} x {h} px ({w * h / 1e6:.0f} MP): over the {max_mp:g} MP accepted "
                            f"(--max-mp)")


@contextmanager
def pil_allowing(max_mp: float) -> Iterator[None]:
    """PIL's own guard (it opens no image of over twice `PIL.Image.MAX_IMAGE_PIXELS`: 179 MP) raised to `max_mp`
    where that is more, so that the header of every image the service accepts can be read; restored after."""
    from PIL import Image

    before = Image.MAX_IMAGE_PIXELS
    if before is not None:
        Image.MAX_IMAGE_PIXELS = max(before, int(max_mp * 1e6))
    try:
        yield
    finally:
        Image.MAX_IMAGE_PIXELS = before


def decode_image(body: bytes, name: str, max_mp: float = MAX_MP) -> np.ndarray:
    """`body` as a BGR uint8 image (grey, alpha and 16-bit images converted; EXIF orientation applied; a HEIF photo
    read where pillow-heif is installed); TooManyPixels over `max_mp` megapixels."""
    check_pixels(body, name, max_mp)
    label = name or "the request body"
    try:
        img = cv2.imdecode(np.frombuffer(body, np.uint8), cv2.IMREAD_COLOR) if body else None
    except cv2.error as exc:  # a header PIL cannot read, of more pixels than OpenCV's own limit
        raise TooManyPixels(f"{label} cannot be decoded: {cv_refusal(exc)}") from None
    if img is None and is_heif(body[:12]):  # a phone's photo sent as it was taken
        img = read_heif(body)
    if img is None or img.size == 0:
        raise UserError(f"{label} ({len(body)} bytes) is not an image OpenCV can decode")
    return img


def origins(text: str) -> tuple[str, ...]:
    """An argparse type: `--cors`'s web origins, comma-separated (`https://intranet.example,http://10.0.0.2:8000`),
    or `*` for any; a path or a bare host name is an error."""
    out = tuple(o.strip().rstrip("/").lower() for o in text.split(",") if o.strip())
    for o in out:
        if o != "*" and not re.fullmatch(r"https?://[^/\s?#@]+", o):
            raise argparse.ArgumentTypeError(f"{o!r} is not a web page's origin: scheme://host[:port], as "
                                             "https://intranet.example, or * for any")
    if not out:
        raise argparse.ArgumentTypeError("names no origin (https://intranet.example, or * for any)")
    return out


def allowed_origin(allowed: tuple[str, ...], origin: str) -> str:
    """The `Access-Control-Allow-Origin` of an answer to a request from `origin` (its `Origin` header): `*` where any
    is `allowed`, `origin` where it is listed, else "" (no header: a browser keeps the answer from the page)."""
    if "*" in allowed:
        return "*"
    return origin if origin and origin.lower() in allowed else ""


def tls_context(cert: str, key: str = "") -> ssl.SSLContext:
    """A server's TLS context from a PEM certificate (its chain) and its key (`key` "": in the certificate's file);
    a file that is missing, not PEM, of another key or encrypted with a passphrase is one UserError line."""
    for what, path in (("certificate", cert), ("key", key)):
        if path and not Path(path).is_file():
            raise UserError(f"TLS {what} not found: {path}")

    def no_passphrase() -> bytes:  # OpenSSL would ask for it on the terminal: a service has none
        raise UserError(f"the TLS key {key or cert} is encrypted with a passphrase: give it unencrypted "
                        "(openssl pkey -in KEY -out KEY.plain), readable by the service's user only")

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    try:
        context.load_cert_chain(cert, key or None, password=no_passphrase)
    except ssl.SSLError as exc:
        reason = str(exc.reason or exc)  # OpenSSL's, or Python's own "[SSL] PEM lib (_ssl.c:...)"
        why = ("the key is not the certificate's" if reason in ("KEY_VALUES_MISMATCH", "NO_CERTIFICATE_ASSIGNED") else
               "not a PEM certificate with its key (a key in a file of its own: --tls-key)"
               if reason in ("PEM_LIB", "NO_START_LINE") or "PEM lib" in reason else "")
        raise UserError(f"cannot use the TLS certificate {cert}{f' with the key {key}' if key else ''}: "
                        f"{why or reason}{f' ({reason})' if why else ''}") from None
    return context


class TlsFiles:
    """A certificate and its key (PEM files, `tls_context`), read at the start (a mistake: one UserError line) and
    again when either file changes (a certificate renewed by certbot or an ACME client, every 60 to 90 days: it was
    served only after a restart, and after its expiry the gates' controllers refused the service). Looked at, at
    most every `every_s`, as a connection comes; a renewed pair that cannot be used (written half-way, a key not yet
    its certificate's) leaves the one in use serving, with one warning, until the files change again."""

    def __init__(self, cert: str, key: str = "", every_s: float = 1.0) -> None:
        self.cert, self.key, self.every_s = cert, key, every_s
        self._context = tls_context(cert, key)
        self._seen, self._looked = self._stamps(), time.monotonic()

    def _stamps(self) -> tuple[tuple[int, int], ...]:
        """Each file's modification time and size (a file gone: (0, 0)); a symlink's target's (certbot's live/)."""
        def stamp(path: str) -> tuple[int, int]:
            try:
                st = os.stat(path)
            except OSError:
                return 0, 0
            return st.st_mtime_ns, st.st_size

        return tuple(stamp(p) for p in (self.cert, self.key) if p)

    def context(self) -> ssl.SSLContext:
        """The context to wrap a connection in: the files' newest usable pair."""
        now = time.monotonic()
        if now - self._looked >= self.every_s:
            self._looked = now
            stamp = self._stamps()
            if stamp != self._seen:  # changed since last looked at: read, once
                self._seen = stamp
                try:
                    self._context = tls_context(self.cert, self.key)
                    logger.info(f"TLS certificate {self.cert} read again: the renewed one is served")
                except UserError as exc:
                    logger.warning(f"{exc}; the certificate read before is served until the files change again")
        return self._context


class Server(ThreadingHTTPServer):
    """The HTTP server, whose clients going away (a cancelled upload, a phone that lost its network, a client that
    gave up waiting) are one log line, not socketserver's traceback. Connections not yet taken wait in a queue of
    `request_queue_size` (socketserver's 5 had clients that came at once refused: several gates' cameras). With
    `tls`, each connection is wrapped in its certificate (the files' newest); its handshake is made in the
    connection's own thread (`Handler.setup`), so a client slow to make it holds up no other."""

    request_queue_size = 128
    tls: TlsFiles | None = None

    def get_request(self) -> tuple[Any, Any]:
        connection, address = super().get_request()
        if self.tls is not None:
            connection = self.tls.context().wrap_socket(connection, server_side=True, do_handshake_on_connect=False)
        return connection, address

    def service_actions(self) -> None:
        beat()  # serve_forever's loop goes round (twice a second): the server is not hung (common/liveness.py)

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, ssl.SSLError):  # plain http to the https port, a client that trusts not the certificate
            logger.warning(f"{client_address[0]}: no TLS connection made ({exc.reason or exc}): the service answers "
                           "https only")
        elif isinstance(exc, (ConnectionError, TimeoutError)):
            logger.warning(f"{client_address[0]}: the connection was lost ({exc.strerror or type(exc).__name__})")
        else:
            logger.opt(exception=True).error(f"{client_address[0]}: the request failed")


def form_file(body: bytes, content_type: str) -> tuple[bytes, str]:
    """The first file of a `multipart/form-data` body (`curl -F upload=@car.jpg`, a web form): its bytes and name."""
    from email.parser import BytesParser
    from email.policy import HTTP

    form = BytesParser(policy=HTTP).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    if form.is_multipart():
        for part in form.iter_parts():
            data = part.get_payload(decode=True)
            if part.get_filename() is not None:
                return data if isinstance(data, bytes) else b"", str(part.get_filename())
    raise UserError("the form holds no file: send the image as a file field (curl -F upload=@car.jpg)")


def json_image(body: bytes) -> tuple[bytes, str]:
    """The image of a JSON body, as a web page's script sends a file input's or a canvas's picture: `{"image":
    "<base64>", "name": "gate.jpg"}` (`upload` also names the image, as other plate services call it; a `data:` URL
    and URL-safe or unpadded base64 are read too): its bytes and name."""
    try:
        doc = json.loads(body)
    except ValueError as exc:  # not JSON, or not UTF-8
        raise UserError(f"the request's JSON body is not JSON ({exc})") from None
    value = next((doc[k] for k in ("image", "upload") if k in doc), None) if isinstance(doc, dict) else None
    if not isinstance(value, str):
        raise UserError('the JSON body holds no image: send {"image": "<the JPEG or PNG file in base64>"}')
    text = "".join(value.partition(",")[2].split() if value.startswith("data:") else value.split())
    text += "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(text, altchars=b"-_" if ("-" in text or "_" in text) else None, validate=True)
    except (binascii.Error, ValueError):
        raise UserError("the JSON body's image is not base64") from None
    name = doc.get("name")
    return data, name if isinstance(name, str) else ""
