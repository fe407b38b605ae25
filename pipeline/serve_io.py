"""What the HTTP service reads from its clients: a body sent in chunks, and clients that go away mid-request."""
from __future__ import annotations

import sys
from http.server import ThreadingHTTPServer
from typing import Any

from loguru import logger


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



class Server(ThreadingHTTPServer):
    """The HTTP server, whose clients going away (a cancelled upload, a phone that lost its network, a client that
    gave up waiting) are one log line, not socketserver's traceback."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, TimeoutError)):
            logger.warning(f"{client_address[0]}: the connection was lost ({exc.strerror or type(exc).__name__})")
        else:
            logger.opt(exception=True).error(f"{client_address[0]}: the request failed")
