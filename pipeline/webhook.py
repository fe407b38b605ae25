"""Vehicle events POSTed to a web service as they happen (`webhook=URL`): a gate, a parking system or a dashboard
learns of each vehicle without reading the output files.

Each event goes as the JSON object `events.jsonl` holds (its `event_id` lets the service drop a repeat); an image
with plates in it, as its `reads.jsonl` line. Delivery runs in a thread of its own, so a slow or absent service
never holds up the frames. An event is first appended to a pending file (JSON Lines) and taken off it once the
service answers 2xx: what a service that is down, or a run that stops, leaves there is sent by the next run into that
folder, oldest first. Delivery is at least once: after a crash a service may get an event again, and its `event_id`
(an image's `source`) tells it so.
"""
from __future__ import annotations

import base64
import json
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections import deque
from functools import partial
from pathlib import Path
from typing import Any, Callable

from loguru import logger

from common.errors import UserError
from common.paths import naming, written_whole
from pipeline.addresses import check_login, redact, split_login
from pipeline.sinks import event_json
from pipeline.types import PlateEvent, SourceEvent, utc_iso

RETRYABLE = {408, 425, 429}  # client errors that say "later", not "never"
EXPIRE_EVERY_S = 3600.0  # while a service is away, the events older than keep_days are dropped this often
REWRITE_EVERY_S = 1.0  # while events are delivered, the pending file drops them at most this often (a long backlog
# is not rewritten per event); a crash in between sends those again, and their event_id tells the service


def tls_context(ca: str) -> ssl.SSLContext | None:
    """What an https webhook's certificate is checked against: the system's certificates, and those of the PEM file
    `ca` where given (`webhook_ca`: a gate controller's or a LAN service's self-signed certificate, or its CA's);
    None: urllib's own. A file that is missing or holds no certificate is one error line."""
    if not ca:
        return None
    if not Path(ca).is_file():
        raise UserError(f"webhook_ca not found: {ca}")
    context = ssl.create_default_context()
    try:
        context.load_verify_locations(cafile=ca)
    except (ssl.SSLError, ValueError, UnicodeDecodeError) as exc:
        raise UserError(f"webhook_ca {ca}: not a PEM file of certificates ({getattr(exc, 'reason', None) or exc})") \
            from None
    return context


def check_webhook(url: str, headers: tuple[str, ...] = (), ca: str = "") -> None:
    """Refuse, in one line, a `webhook` that is not an http(s) URL (or whose password ends its login), a header that
    is not `Name: value`, or a `webhook_ca` that holds no certificate."""
    if not url.startswith(("http://", "https://")) or len(url.split("://", 1)[1]) == 0:
        raise UserError(f"webhook {redact(url)!r}: expected an http:// or https:// URL")
    check_login(url)
    for h in headers:
        name, sep, _ = h.partition(":")
        if not sep or not name.strip() or any(c.isspace() for c in name.strip()):
            raise UserError(f"webhook_headers {h!r}: expected 'Name: value', e.g. 'Authorization: Bearer TOKEN'")
    tls_context(ca)


def with_credentials(url: str, headers: dict[str, str]) -> tuple[str, dict[str, str]]:
    """`http://user:password@host/...` as the URL without them and an HTTP Basic `Authorization` header (unless the
    headers carry one already): urllib would take them for part of the host name."""
    login = split_login(url)
    if login is None:
        return url, headers
    bare, user, password = login
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    auth = {} if any(k.lower() == "authorization" for k in headers) else {"Authorization": f"Basic {token}"}
    return bare, {**headers, **auth}


def http_post(url: str, body: bytes, headers: dict[str, str], timeout_s: float,
              context: ssl.SSLContext | None = None) -> int | str:
    """POST `body` (an https URL's certificate checked with `context`, `tls_context`'s); the HTTP status, or the
    reason no status came back (refused, timed out, a certificate not trusted, ...)."""
    req = urllib.request.Request(url, data=body, method="POST",
                                 headers={"Content-Type": "application/json", "User-Agent": "plate-reader",
                                          **headers})
    try:
        with urllib.request.urlopen(req, timeout=timeout_s, context=context) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return str(getattr(reason, "strerror", None) or reason)


class WebhookSink:
    """POSTs each event to `url` from a thread of its own (see the module's docstring). A 2xx answer delivers it; a
    4xx other than 408/425/429 drops it with a warning (the service will not take it again; the event stays in the
    other outputs); anything else (no answer, 5xx) is tried again after a back-off that doubles up to
    `backoff_max_s`, and later events wait behind it. At the end the thread has `drain_s` to send what is pending."""

    def __init__(self, url: str, pending: str | Path, headers: tuple[str, ...] = (), timeout_s: float = 5.0,
                 backoff_start_s: float = 1.0, backoff_max_s: float = 60.0, drain_s: float = 10.0,
                 images: bool = False,
                 post: Callable[[str, bytes, dict[str, str], float], int | str] | None = None,
                 keep_days: float = 0.0, ca: str = "") -> None:
        check_webhook(url, headers)
        self.url, self.headers = with_credentials(url, {n.strip(): v.strip() for n, _, v in
                                                        (h.partition(":") for h in headers)})
        self.shown = redact(self.url)  # as the log says it: a token in its query left out
        self.pending, self.timeout_s = Path(pending), timeout_s
        context = tls_context(ca)  # `webhook_ca` read once: checked, and then what the posts use
        self.post = post if post is not None else partial(http_post, context=context)  # `post`: tests'
        self.backoff_start_s, self.backoff_max_s, self.drain_s = backoff_start_s, backoff_max_s, drain_s
        self.images = images  # a vehicle's best crop goes too, as base64 JPEG in "crop_jpeg"
        self.sent = self.refused = 0
        self._queue: deque[str] = deque()
        self._cond = threading.Condition()
        self._closing = threading.Event()  # no more events: send what is pending, then end
        self._abandon = threading.Event()  # the end: stop even with events pending
        self._thread: threading.Thread | None = None
        self._written = 0.0  # when the pending file was last made to hold the queue
        self.keep_days = keep_days  # events older than this are not sent, nor kept waiting (0: every event)
        self._expired = 0.0  # when the queue was last looked at for them

    def __enter__(self) -> "WebhookSink":
        self.pending.parent.mkdir(parents=True, exist_ok=True)
        if self.pending.exists():
            lines = self.pending.read_text(encoding="utf-8", errors="replace").splitlines()
            self._queue.extend(line for line in lines if _is_json(line))  # an unfinished last line is left out
            self._expire()
            if self._queue:
                logger.info(f"webhook: {len(self._queue)} event(s) an earlier run could not deliver are sent first")
            self._rewrite()
        self._thread = threading.Thread(target=self._deliver, name="webhook", daemon=True)
        self._thread.start()
        return self

    def write(self, e: PlateEvent) -> None:
        """Send a vehicle's event (as `events.jsonl` holds it; with `images`, its best crop in "crop_jpeg")."""
        if not (self.images and e.crop_path):
            self.send(event_json(e))
            return
        d = json.loads(event_json(e))
        try:
            d["crop_jpeg"] = base64.b64encode(Path(e.crop_path).read_bytes()).decode("ascii")
        except OSError as exc:  # the crop already pruned (crops_keep) or unreadable: the event goes without it
            logger.warning(f"webhook: crop {e.crop_path} not sent: {exc.strerror or exc}")
        self.send(json.dumps(d))

    def send(self, line: str) -> None:
        """Send one JSON object, given as a line of text (an image's reads, as `reads.jsonl` holds them)."""
        with self._cond:
            self._queue.append(line)
            with naming(self.pending), self.pending.open("a", encoding="utf-8") as f:
                f.write(line + "\n")
            self._cond.notify()

    def _rewrite(self) -> None:
        """The pending file made to hold the queue (written whole, then moved over it); gone when it is empty. One
        that cannot be rewritten (a full disk) stays as it was, with every event appended to it: the next run sends
        again those delivered since (their event_id tells them apart), and loses none."""
        self._written = time.monotonic()
        try:
            if not self._queue:
                self.pending.unlink(missing_ok=True)
                return
            text = "".join(line + "\n" for line in self._queue)
            written_whole(self.pending, lambda part: part.write_text(text, encoding="utf-8"))
        except OSError as exc:
            logger.warning(f"webhook: {self.pending} not brought up to date ({exc.strerror or exc}); it keeps "
                           "the events delivered since, which the next run sends again")

    def _expire(self) -> bool:
        """Events older than `keep_days` taken off the queue, with a warning (the caller rewrites the pending file):
        a service away longer than plates may be kept does not get them later, nor do they wait on disk past the
        days kept (the events files are pruned by `pipeline.retention`). Whether any was; called with the queue held
        or before the thread starts."""
        if self.keep_days <= 0:
            return False
        from pipeline.retention import cutoff_of, old_line

        self._expired = time.monotonic()
        cutoff = cutoff_of(self.keep_days)
        kept = deque(line for line in self._queue if not old_line(line, cutoff))
        if len(kept) == len(self._queue):
            return False
        logger.warning(f"webhook: {len(self._queue) - len(kept)} event(s) older than keep_days={self.keep_days:g} "
                       f"not delivered, dropped from {self.pending} (they stay in the other outputs until pruned)")
        self._queue = kept
        return True

    def _deliver(self) -> None:
        backoff, failing = self.backoff_start_s, False
        while not self._abandon.is_set():
            with self._cond:
                while not self._queue and not self._closing.is_set():
                    self._cond.wait()
                if not self._queue:
                    return
                line = self._queue[0]
            answer = self.post(self.url, line.encode("utf-8"), self.headers, self.timeout_s)
            if isinstance(answer, int) and (200 <= answer < 300 or (400 <= answer < 500 and answer not in RETRYABLE)):
                if answer >= 300:
                    self.refused += 1
                    d = json.loads(line)
                    logger.warning(f"webhook: {d.get('event_id') or d.get('source')} refused (HTTP {answer}); "
                                   "dropped (it stays in the other outputs)")
                else:
                    self.sent += 1
                with self._cond:
                    self._queue.popleft()
                    if not self._queue or time.monotonic() - self._written >= REWRITE_EVERY_S:
                        self._rewrite()
                if failing:
                    logger.info(f"webhook: {self.shown} answers again")
                backoff, failing = self.backoff_start_s, False
                continue
            if not failing:
                why = f"HTTP {answer}" if isinstance(answer, int) else answer
                if "CERTIFICATE_VERIFY_FAILED" in str(answer):  # a LAN service's own certificate, most often
                    why += "; a service's own certificate is trusted with webhook_ca=its PEM file"
                logger.warning(f"webhook: {self.shown} did not take an event ({why}); events wait in "
                               f"{self.pending} and are sent again")
            failing = True
            if time.monotonic() - self._expired >= EXPIRE_EVERY_S:  # a service away for days
                with self._cond:
                    if self._expire():
                        self._rewrite()
            if self._closing.wait(backoff):
                return  # at the end a failing service is not waited for: the next run sends what is pending
            backoff = min(backoff * 2, self.backoff_max_s)

    def __exit__(self, *exc: Any) -> None:
        with self._cond:
            self._closing.set()
            self._cond.notify()
        if self._thread is not None:
            self._thread.join(timeout=self.drain_s)
        self._abandon.set()
        if self._thread is not None:
            self._thread.join(timeout=self.timeout_s + 1)
        with self._cond:
            left = len(self._queue)
            self._rewrite()
        refused = f", {self.refused} refused" if self.refused else ""
        if left:
            logger.warning(f"webhook: {self.sent} event(s) delivered{refused}, {left} not, kept in {self.pending}: "
                           "the next run into this folder sends them")
        elif self.sent or self.refused:
            logger.info(f"webhook: {self.sent} event(s) delivered to {self.shown}{refused}")


def _is_json(line: str) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except ValueError:
        return False


def outage_notes(hook: Any) -> Callable[[SourceEvent, str], None]:
    """What tells `hook` (a `WebhookSink`) of a live source's outages, as a `Pipeline`'s `on_source`:
    `{"kind": "source_lost", "source", "time_utc", "detail"}` when it is lost, `{"kind": "source_back", "source",
    "time_utc", "down_s"}` when it is back (vehicles' events hold no "kind")."""
    lost_at: list[float] = []  # when the source was last lost, in its own seconds

    def note(ev: SourceEvent, source: str) -> None:
        d: dict[str, Any] = {"kind": "source_lost" if ev.kind == "lost" else "source_back", "source": source,
                             "time_utc": utc_iso(time.time())}
        if ev.kind == "lost":
            lost_at[:] = [ev.time_s]
            d["detail"] = ev.detail
        else:
            d["down_s"] = round(ev.time_s - lost_at[0], 1) if lost_at else None
        hook.send(json.dumps(d))

    return note
