"""What the HTTP service reads from its clients: a body sent in chunks, an image in a form or in JSON, clients that
go away mid-request, and the web pages whose scripts may read its answers (CORS)."""
from __future__ import annotations

import argparse
import base64
import binascii
import json
import re
import sys
from http.server import ThreadingHTTPServer
from typing import Any

from loguru import logger

from common.errors import UserError


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


class Server(ThreadingHTTPServer):
    """The HTTP server, whose clients going away (a cancelled upload, a phone that lost its network, a client that
    gave up waiting) are one log line, not socketserver's traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
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
