"""Plates read over HTTP: a service that a gate controller, a parking system or a web form POSTs photos to.

    python -m pipeline.serve                                   # http://127.0.0.1:8080, the shipped models
    python -m pipeline.serve --host 0.0.0.0 --port 8080 --token SECRET --out runs/serve detector.conf=0.3
    curl --data-binary @car.jpg http://127.0.0.1:8080/read?name=gate-1.jpg
    -> {"source": "gate-1.jpg", "time_utc": "...", "taken_utc": "", "gps": null, "reads": [{"box": [x1, y1, x2,
        y2], "text": "AB123CD", "confidence": 0.99}], "ms": 41.2}      (taken_utc, gps: a phone photo's EXIF's)

`POST /read` takes one image as the request body (JPEG, PNG, WebP, ... as OpenCV decodes them, EXIF orientation
applied), or as the file of a form (`curl -F upload=@car.jpg`, named after it), and answers its plates as
`run_pipeline.py` reads a photo (the same configs, `key=value` overrides and shipped weights), each read as
`reads.jsonl` holds it (with a watchlist, its `watch` fields). `GET /health` answers `{"ok": true, ...}` for a
monitor, without the token too (then `{"ok": true}` alone). A body that is no image is a 400 answer naming it, not a
crash; one over `--max-mb`, or whose header gives more than `--max-mp` megapixels, a 413; over `--max-waiting`
images at the service at once, the next a 503 (busy, come back). Requests wait their turn: one image is read at a
time, on the models loaded once (a CPU's cores are shared anyway). With `--out`, every request's reads are also
appended to `reads.jsonl` and `reads.csv` there as they are read (and the configured webhook is sent them), so
nothing read is lost when the caller is. The service listens on 127.0.0.1 unless told otherwise; `--token` (or
$PLATE_SERVE_TOKEN) asks each request for `Authorization: Bearer TOKEN`, `--tls-cert` (and `--tls-key`) answers
https with that certificate (a renewed one as soon as its files change); `--cors ORIGINS` lets the scripts of web
pages from those origins read the answers (a browser's preflight answered). `rotate=180` turns every image before it
is read (a camera mounted upside down), `/read?rotate=90` one request's (cameras mounted each their own way).
"""
from __future__ import annotations

import hmac
import json
import os
import ssl
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from datetime import timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable
from urllib.parse import parse_qs, urlsplit

import numpy as np
from loguru import logger

from common.errors import UserError
from common.liveness import watching
from ocr.process import TURNS, turn
from pipeline.photo_meta import PhotoMeta, photo_meta
from pipeline.serve_io import (MAX_MP, Server, TooLarge, TooManyPixels, allowed_origin, chunked_body, decode_image,
                               TlsFiles, form_file, json_image, origins, pil_allowing)
from pipeline.sinks import read_rows, turn_field, with_watch

MAX_MB = 20.0
MAX_WAITING = 16  # images at the service at once (being sent or waiting their turn): 16 x 20 MB held at most


class PlateService:
    """`service.read(body, name) -> dict`: one posted image's plates, as the answer's JSON object. `reader` is a
    `PlateReader` (or any callable image -> reads with .box, .text, .confidence); `sink` an `ImageReadsSink` the
    reads are also written to; `watch(text, where)` a read's watchlist fields; `keep(sinks)` prunes the sink's folder
    when due (`pipeline.retention.Keeper`); `clock` the offset of a camera's EXIF clock (`photo_utc_offset`); images
    over `max_mp` megapixels are refused (TooManyPixels); each image is turned clockwise by `rotate` degrees before it
    is read (`rotate`: the camera that posts them is mounted askew; the boxes are then in the turn). The images are
    decoded and read one at a time on one worker thread, whatever thread asks: an ultralytics model is not safe to
    share between threads, the CPU's cores are the models' already, and one decoded image at a time bounds the memory
    that clients' images take."""

    def __init__(self, reader: Callable[[np.ndarray], list[Any]], sink: Any = None,
                 watch: Callable[[str, str], dict[str, str]] | None = None,
                 keep: Callable[[list[Any]], Any] | None = None, clock: timedelta | None = None,
                 max_mp: float = MAX_MP, rotate: int = 0) -> None:
        self.reader, self.sink, self.watch, self.keep, self.clock = reader, sink, watch, keep, clock
        self.max_mp, self.rotate = max_mp, rotate
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="plate-reader")
        self.served = 0

    def read(self, body: bytes, name: str = "", rotate: int | None = None) -> dict[str, Any]:
        """`rotate`: this image's turn (a request's `?rotate=`), else the service's."""
        turns = self.rotate if rotate is None else rotate
        return self.worker.submit(self._decode_and_read, body, name, photo_meta(body, self.clock), turns).result()

    def _decode_and_read(self, body: bytes, name: str, meta: PhotoMeta, rotate: int) -> dict[str, Any]:
        with watching(f"reading the posted image {name}".rstrip()):  # one that never ends: systemd's watchdog
            return self._read(turn(decode_image(body, name, self.max_mp), rotate), name, meta, rotate)

    def _read(self, img: np.ndarray, name: str, meta: PhotoMeta = PhotoMeta(), rotate: int = 0) -> dict[str, Any]:
        from pipeline.types import utc_iso

        start = time.perf_counter()
        reads = read_rows(self.reader(img))
        ms = round((time.perf_counter() - start) * 1000, 1)
        reads = with_watch(reads, name or "a posted image", self.watch)
        when = utc_iso(time.time())
        if self.sink is not None:
            if self.keep is not None:  # the reads folder pruned (keep_days) on the thread that writes to it
                self.keep([self.sink])
            self.sink.write(name, reads, when, meta, rotate=rotate)
        self.served += 1
        return {"source": name, "time_utc": when, **meta.fields(), **turn_field(rotate), "reads": reads, "ms": ms}

    def status(self) -> str:
        """What `systemctl status` says of it: the images it has read."""
        return f"{self.served} image{'s' * (self.served != 1)} read"

    def close(self) -> None:
        self.worker.shutdown()


def handler_for(service: PlateService, token: str = "", max_mb: float = MAX_MB, cors: tuple[str, ...] = (),
                max_waiting: int = MAX_WAITING) -> type[BaseHTTPRequestHandler]:
    """The request handler class of a server answering for `service`; the scripts of web pages from the `cors`
    origins (`*`: any) may read its answers; more than `max_waiting` images at once (being sent, or waiting their
    turn) and the next is answered 503 before its body is taken (each held image is memory)."""
    waiting = threading.BoundedSemaphore(max_waiting)

    class Handler(BaseHTTPRequestHandler):
        server_version = "plate-reader"
        timeout = 60  # seconds a client may stall mid-request before its connection is dropped

        def setup(self) -> None:
            super().setup()  # the connection's timeout set, then an https connection's handshake made
            if isinstance(self.connection, ssl.SSLSocket):
                self.connection.do_handshake()

        def _cors(self) -> str:
            """The CORS header of an answer to a web page's script, where its origin is allowed; that origin."""
            origin = allowed_origin(cors, self.headers.get("Origin", ""))
            if origin:
                self.send_header("Access-Control-Allow-Origin", origin)
                if origin != "*":  # a cache must keep one answer per origin
                    self.send_header("Vary", "Origin")
            return origin

        def _answer(self, status: int, obj: dict[str, Any]) -> None:
            data = json.dumps(obj).encode()
            self.send_response(status)
            self._cors()
            if status == 405:
                self.send_header("Allow", "GET, POST")
            if status == 503:
                self.send_header("Retry-After", "1")
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _drain(self) -> None:
            """A refused request's body read and dropped in pieces, so that its client reads the answer; one whose
            client waits to be told to send it (`Expect: 100-continue`) is never sent: the answer tells it at once,
            and the connection closes after it."""
            if self.headers.get("Expect", "").lower() == "100-continue":
                self.close_connection = True
                return
            length = self.headers.get("Content-Length", "")
            left = int(length) if length.isdigit() else 0
            while left > 0:
                left -= len(self.rfile.read(min(left, 1 << 16))) or left

        def _body(self) -> bytes | None:
            """The request's body, by its Content-Length or in chunks; None when it was refused (answered). A client
            that waits to be told to send it (`Expect: 100-continue`: curl for a body over 1 MB, .NET's clients) is
            told at once, rather than sending it after a second's wait."""
            limit = int(max_mb * 1e6)
            expects = self.headers.get("Expect", "").lower() == "100-continue"
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                if expects:
                    self._continue()
                try:
                    return chunked_body(self.rfile, limit)
                except TooLarge as exc:  # the rest is not read: the connection closes after the answer
                    self._answer(413, {"error": f"image of over {exc.args[0]} bytes: over the limit of {max_mb:g} MB"})
                except ValueError as exc:
                    self._answer(400, {"error": f"a chunked body that is not one ({exc})"})
                except EOFError as exc:
                    logger.warning(f"{self.client_address[0]}: went away after {exc.args[0]} bytes of its image")
                return None
            length = self.headers.get("Content-Length")
            if length is None or not length.isdigit():
                self._answer(411, {"error": "the request needs a Content-Length or chunks (send the image as the "
                                            "body)"})
                return None
            if int(length) > limit:
                self._drain()
                self._answer(413, {"error": f"image of {int(length)} bytes: over the limit of {max_mb:g} MB"})
                return None
            if expects:
                self._continue()
            body = self.rfile.read(int(length))
            if len(body) < int(length):  # nobody left to answer: not an image that cannot be decoded
                logger.warning(f"{self.client_address[0]}: went away after {len(body)} of its {length} bytes")
                return None
            return body

        def _continue(self) -> None:
            self.send_response_only(100)
            self.end_headers()

        def _not_found(self, path: str) -> None:
            self._answer(404, {"error": f"no such path: {path} (POST /read, GET /health)"})

        def _given(self, token: str) -> bool:
            """Whether the request brings `Authorization: Bearer <token>`."""
            return hmac.compare_digest(self.headers.get("Authorization", "").encode(), f"Bearer {token}".encode())

        def _refused(self) -> bool:
            if token and not self._given(token):
                self._drain()
                self._answer(401, {"error": "missing or wrong Authorization: Bearer token"})
                return True
            return False

        def _not_allowed(self) -> None:
            """PUT, DELETE, PATCH: a JSON 405 like every other answer (http.server's own is an HTML 501)."""
            self._drain()
            self._answer(405, {"error": f"{self.command} is not served: POST an image to /read, GET /health"})

        do_PUT = do_DELETE = do_PATCH = _not_allowed

        def do_OPTIONS(self) -> None:  # noqa: N802
            """A browser's preflight, before a page's script POSTs JSON or an image or sends the token: the methods
            and headers allowed, where its origin is (`--cors`); no token is asked for (a preflight never has it)."""
            self._drain()
            self.send_response(204)
            self.send_header("Allow", "GET, POST, OPTIONS")
            if self._cors():
                self.send_header("Access-Control-Allow-Methods", "GET, POST")
                self.send_header("Access-Control-Allow-Headers", "Content-Type, Authorization")  # never by "*"
                self.send_header("Access-Control-Max-Age", "600")
                if self.headers.get("Access-Control-Request-Private-Network", "").lower() == "true":
                    self.send_header("Access-Control-Allow-Private-Network", "true")  # a public page, a LAN service
            self.end_headers()

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            path = urlsplit(self.path).path
            if path == "/health" and token and not self._given(token):  # a monitor's or a load balancer's check:
                self._answer(200, {"ok": True})  # that it is up, without the token or what it has served
                return
            if self._refused():
                return
            if path == "/health":
                self._answer(200, {"ok": True, "served": service.served})
            elif path == "/read":
                self._answer(405, {"error": "POST the image to /read"})
            else:
                self._not_found(path)

        def do_POST(self) -> None:  # noqa: N802
            if self._refused():
                return
            url = urlsplit(self.path)
            if url.path != "/read":
                self._drain()
                self._not_found(url.path)
                return
            if not waiting.acquire(blocking=False):
                self._drain()
                logger.warning(f"{self.client_address[0]}: busy (--max-waiting {max_waiting} images at once): "
                               "answered 503")
                self._answer(503, {"error": f"busy: the most images at once ({max_waiting}) are being read or wait "
                                            "their turn; try again in a moment"})
                return
            try:
                self._read_posted(url)
            finally:
                waiting.release()

        def _read_posted(self, url: Any) -> None:
            """A POST /read's image taken, read and answered (a `?rotate=` that is no turn refused before its body
            is taken)."""
            query = parse_qs(url.query)
            name = query.get("name", [""])[0]
            rotate = query.get("rotate", [None])[0]
            if rotate is not None and rotate.strip() not in {str(t) for t in (0, *TURNS)}:
                self._drain()
                self._answer(400, {"error": f"rotate={rotate}: not one of 0, 90, 180, 270 (degrees clockwise)"})
                return
            body = self._body()
            if body is None:
                return
            content_type = self.headers.get("Content-Type", "")
            try:
                if content_type.startswith("multipart/form-data"):
                    body, filename = form_file(body, content_type)
                    name = name or filename
                elif content_type.startswith("application/json"):
                    body, filename = json_image(body)
                    name = name or filename
                answer = service.read(body, name, None if rotate is None else int(rotate))
            except TooManyPixels as exc:
                logger.warning(f"{self.client_address[0]}: {exc}")
                self._answer(413, {"error": str(exc)})
                return
            except UserError as exc:
                logger.warning(f"{self.client_address[0]}: {exc}")
                self._answer(400, {"error": str(exc)})
                return
            except OSError as exc:  # the outputs could not be written: a full disk, a folder taken away
                logger.error(f"error: the reads of {name or 'a posted image'} could not be written: {exc}")
                self._answer(500, {"error": f"the reads could not be written: {exc}"})
                return
            except Exception as exc:  # a fault of ours: the service answers, and the log keeps its traceback
                logger.exception(f"reading {name or 'a posted image'} failed")
                self._answer(500, {"error": f"reading failed: {type(exc).__name__}: {exc}"})
                return
            texts = ", ".join(f"{r['text']} ({r['confidence']:.2f})" for r in answer["reads"]) or "no plate"
            logger.info(f"{name or self.client_address[0]:28s} {texts}  {answer['ms']:.0f} ms")
            self._answer(200, answer)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (the request lines: not logged)
            return

    return Handler


def make_server(service: PlateService, host: str = "127.0.0.1", port: int = 8080, token: str = "",
                max_mb: float = MAX_MB, cors: tuple[str, ...] = (), max_waiting: int = MAX_WAITING,
                tls: TlsFiles | None = None) -> ThreadingHTTPServer:
    """A server for `service` bound to `host:port` (port 0: a free one, `server.server_address[1]`), answering https
    with `tls` (`serve_io.TlsFiles`); one error line when the address cannot be bound."""
    try:
        server = Server((host, port), handler_for(service, token, max_mb, cors, max_waiting))
    except OSError as exc:
        raise UserError(f"cannot listen on {host}:{port}: {exc.strerror or exc}") from None
    server.tls = tls
    return server


def main(argv: list[str] | None = None) -> int:
    from common.cli import at_least, entry_parser, leave, port, run_main

    ap = entry_parser(__doc__)
    ap.add_argument("overrides", nargs="*", help="config overrides key=value, as for run_pipeline.py")
    ap.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: every interface)")
    ap.add_argument("--port", type=port, default=8080, help="port to listen on (default 8080; 0: any free one)")
    ap.add_argument("--token", default=os.environ.get("PLATE_SERVE_TOKEN", ""),
                    help="ask each request for 'Authorization: Bearer TOKEN' (default: $PLATE_SERVE_TOKEN, which "
                         "keeps it out of the process list)")
    ap.add_argument("--out", type=Path, help="also append every request's reads to reads.jsonl / reads.csv here")
    ap.add_argument("--max-mb", type=float, default=MAX_MB, help=f"largest image accepted (default {MAX_MB:g} MB)")
    ap.add_argument("--max-mp", type=float, default=MAX_MP,
                    help=f"most megapixels in an image accepted (default {MAX_MP:g})")
    ap.add_argument("--max-waiting", type=at_least(1), default=MAX_WAITING,
                    help=f"images at the service at once, being sent or waiting their turn, before the next is "
                         f"answered 503 'busy' (default {MAX_WAITING}): each is held in memory")
    ap.add_argument("--tls-cert", default="", metavar="FILE",
                    help="answer https with this PEM certificate (its chain; the token then never crosses the network "
                         "in clear), read again when it is renewed")
    ap.add_argument("--tls-key", default="", metavar="FILE",
                    help="the certificate's PEM key, unencrypted (default: in the --tls-cert file)")
    ap.add_argument("--cors", type=origins, default=(), metavar="ORIGINS",
                    help="web pages whose scripts may read the answers: their origins, comma-separated "
                         "(https://intranet.example), or * for any (default: none)")
    a = ap.parse_args(argv)

    def work() -> None:
        from common.paths import ROOT
        from common.systemd import Supervisor, notify
        from pipeline.app import check_models, load_watchlist, still_reader, watch_fields
        from pipeline.outputs import claim_out, make_out, webhook_sink
        from pipeline.recording import utc_offset
        from pipeline.retention import Keeper
        from pipeline.settings import load_configs
        from pipeline.sinks import ImageReadsSink

        if a.tls_key and not a.tls_cert:
            raise UserError("--tls-key is the key of a --tls-cert: give the certificate too")
        tls = TlsFiles(a.tls_cert, a.tls_key) if a.tls_cert else None  # a bad file said before the models load
        cfgs = load_configs(ROOT / "configs", a.overrides)
        p = cfgs.pipeline
        clock = utc_offset(p.photo_utc_offset, "photo_utc_offset")
        if p.webhook:
            from pipeline.webhook import check_webhook

            if a.out is None:
                raise UserError("webhook needs --out: the events the service has not yet delivered are kept there")
            check_webhook(p.webhook, p.webhook_headers, p.webhook_ca)
        check_models(cfgs)
        with ExitStack() as stack:
            keep = None
            if a.out is not None:
                out = make_out(a.out)
                claim_out(out, stack)  # before the models load: a folder in use is said at once
                keep = Keeper(out, p.keep_days)
                keep()
            reader = still_reader(cfgs)
            watchlist = load_watchlist(p, reader.recognizer)
            sink = None
            if a.out is not None:
                hook = stack.enter_context(webhook_sink(p, out)) if p.webhook else None
                sink = stack.enter_context(ImageReadsSink(out, watchlist is not None, append=True, hook=hook))
            watch = partial(watch_fields, watchlist) if watchlist is not None else None
            service = PlateService(reader, sink, watch, keep, clock, a.max_mp, p.rotate)
            stack.callback(service.close)
            server = make_server(service, a.host, a.port, a.token, a.max_mb, a.cors, a.max_waiting, tls)
            scheme = "https" if tls is not None else "http"
            logger.info(f"reading plates at {scheme}://{a.host}:{server.server_address[1]}/read (POST an image; GET "
                        f"/health); Ctrl-C stops" + (f"; reads appended to {a.out}" if a.out is not None else ""))
            notify("READY=1")  # a Type=notify unit (deploy/plate-reader-serve.service) is started now, not before
            try:
                with watching("the HTTP server"), Supervisor(service.status):
                    server.serve_forever()  # its loop beats (Server.service_actions): a hung one is restarted
            finally:
                server.server_close()

    with pil_allowing(a.max_mp):
        return leave(run_main(work, on_interrupt="stopped"), argv)


if __name__ == "__main__":
    raise SystemExit(main())
