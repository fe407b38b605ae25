"""The webhook sink against a real HTTP service on loopback: delivery in order, a service that is down, one that
refuses, one that hangs, and events carried over to the next run."""
import base64
import json
import re
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from common.errors import UserError
from pipeline.types import PlateEvent
from pipeline.webhook import WebhookSink, check_webhook


def event(i: int, text: str = "AB123CD") -> PlateEvent:
    return PlateEvent(f"id{i}", "cam", i, text, 0.9, (0.9,) * len(text), (), 3, i, i + 2, 0.0, 0.1, i,
                      (1.0, 2.0, 3.0, 4.0), "lost")


class Service:
    """A loopback HTTP service that records each POST's JSON body and headers, answering `status(body)`."""

    def __init__(self, port: int = 0, status=lambda body: 200, hold: threading.Event | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        self.bodies: list[dict] = []
        self.headers: list[dict] = []
        self.got = threading.Condition()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if hold is not None:
                    hold.wait(10)
                code = status(body)
                with outer.got:  # noted before the answer: the next request cannot be noted first
                    outer.bodies.append(body)
                    outer.headers.append(dict(self.headers))
                    outer.got.notify_all()
                self.send_response(code)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        if tls is not None:  # https, with the certificate `tls` holds
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.url = f"http{'s' * (tls is not None)}://127.0.0.1:{self.server.server_address[1]}/events"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, n: int) -> list[str]:
        with self.got:
            assert self.got.wait_for(lambda: len(self.bodies) >= n, timeout=10), self.bodies
            return [b.get("event_id", "") for b in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def service():
    s = Service()
    yield s
    s.close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_events_are_posted_in_order_as_json(tmp_path, service):
    pending = tmp_path / "webhook_pending.jsonl"
    with WebhookSink(service.url, pending, ("Authorization: Bearer s3cret",)) as sink:
        for i in range(3):
            sink.write(event(i))
        assert service.wait_for(3) == ["id0", "id1", "id2"]
    body = service.bodies[0]
    assert body["text"] == "AB123CD" and body["box"] == [1.0, 2.0, 3.0, 4.0] and body["reason"] == "lost"
    assert service.headers[0]["Authorization"] == "Bearer s3cret"
    assert service.headers[0]["Content-Type"] == "application/json"
    assert sink.sent == 3 and not pending.exists()


def test_a_user_and_password_in_the_url_are_sent_as_basic_auth(tmp_path, service):
    url = service.url.replace("http://", "http://gate%40lot:p%3Ass@")
    with WebhookSink(url, tmp_path / "p.jsonl") as sink:
        sink.write(event(0))
        assert service.wait_for(1) == ["id0"]
    assert service.headers[0]["Authorization"] == "Basic " + base64.b64encode(b"gate@lot:p:ss").decode()
    assert sink.url == service.url  # what is logged carries no password


def test_with_images_an_event_carries_its_best_crop(tmp_path, service):
    from dataclasses import replace

    crop = tmp_path / "crops" / "id0.jpg"
    crop.parent.mkdir()
    crop.write_bytes(b"\xff\xd8 a jpeg \xff\xd9")
    with WebhookSink(service.url, tmp_path / "p.jsonl", images=True) as sink:
        sink.write(replace(event(0), crop_path=str(crop)))
        sink.write(replace(event(1), crop_path=str(tmp_path / "crops" / "pruned.jpg")))  # gone: sent without it
        sink.write(event(2))  # no crop saved (save_crops=false)
        assert service.wait_for(3) == ["id0", "id1", "id2"]
    assert base64.b64decode(service.bodies[0]["crop_jpeg"]) == crop.read_bytes()
    assert "crop_jpeg" not in service.bodies[1] and "crop_jpeg" not in service.bodies[2]


def test_a_service_that_is_down_gets_the_events_when_it_comes_up(tmp_path):
    port = free_port()
    pending = tmp_path / "webhook_pending.jsonl"
    with WebhookSink(f"http://127.0.0.1:{port}/e", pending, backoff_start_s=0.05, backoff_max_s=0.1) as sink:
        sink.write(event(0))
        sink.write(event(1))
        later = Service(port)  # the service starts while the run goes on
        try:
            assert later.wait_for(2) == ["id0", "id1"]
            sink.write(event(2))
            assert later.wait_for(3)[2] == "id2"
        finally:
            later.close()
    assert not pending.exists()


def test_what_a_run_could_not_deliver_is_sent_first_by_the_next(tmp_path):
    port = free_port()
    pending = tmp_path / "webhook_pending.jsonl"
    with WebhookSink(f"http://127.0.0.1:{port}/e", pending, backoff_start_s=0.05) as sink:
        sink.write(event(0))
        sink.write(event(1))
    assert [json.loads(line)["event_id"] for line in pending.read_text().splitlines()] == ["id0", "id1"]
    with pending.open("a") as f:
        f.write('{"event_id": "id9", "tex')  # a crash in the middle of a line: left out
    later = Service(port)
    try:
        with WebhookSink(later.url, pending) as sink:
            sink.write(event(2))
            assert later.wait_for(3) == ["id0", "id1", "id2"]
    finally:
        later.close()
    assert not pending.exists()


def test_the_end_does_not_wait_out_the_back_off_of_a_service_that_is_down(tmp_path):
    done = threading.Event()

    def run():
        with WebhookSink(f"http://127.0.0.1:{free_port()}/e", tmp_path / "p.jsonl", backoff_start_s=60,
                         drain_s=60) as sink:
            sink.write(event(0))
            time.sleep(0.2)  # the first post has failed: the thread waits out its back-off
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(20)  # not the 60 s back-off nor the 60 s drain
    assert (tmp_path / "p.jsonl").read_text().count("\n") == 1


def test_an_event_the_service_refuses_is_dropped_and_the_rest_go_on(tmp_path):
    service = Service(status=lambda body: 422 if body["event_id"] == "id1" else 200)
    try:
        with WebhookSink(service.url, tmp_path / "p.jsonl") as sink:
            for i in range(3):
                sink.write(event(i))
            assert service.wait_for(3) == ["id0", "id1", "id2"]
        assert (sink.sent, sink.refused) == (2, 1)
    finally:
        service.close()


def test_a_service_error_is_tried_again(tmp_path):
    answers = iter([503, 503, 200, 200])
    service = Service(status=lambda body: next(answers))
    try:
        with WebhookSink(service.url, tmp_path / "p.jsonl", backoff_start_s=0.05) as sink:
            sink.write(event(0))
            sink.write(event(1))
            assert service.wait_for(4) == ["id0", "id0", "id0", "id1"]
        assert sink.sent == 2
    finally:
        service.close()


def test_a_hanging_service_does_not_hold_up_the_events(tmp_path):
    hold = threading.Event()
    service = Service(hold=hold)
    pending = tmp_path / "p.jsonl"
    try:
        with WebhookSink(service.url, pending, timeout_s=30, drain_s=10) as sink:
            for i in range(3):
                sink.write(event(i))  # returns while the service holds the first request
            assert len(pending.read_text().splitlines()) == 3 and service.bodies == []
            hold.set()
            assert service.wait_for(3) == ["id0", "id1", "id2"]
    finally:
        hold.set()
        service.close()


@pytest.mark.parametrize("url, headers, message", [
    ("ftp://host/x", (), "webhook 'ftp://host/x': expected an http:// or https:// URL"),
    ("host:8080/x", (), "expected an http:// or https:// URL"),
    ("http://host/x", ("Bearer abc",), "webhook_headers 'Bearer abc': expected 'Name: value'"),
    ("https://bot:s3#cret@hooks.example/in", (), "https://***@hooks.example/in: its password holds '#'"),
])
def test_a_malformed_webhook_is_one_error_line(url, headers, message):
    with pytest.raises(UserError, match=re.escape(message)):
        check_webhook(url, headers)


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="shipped weights absent")
def test_the_bundled_clip_posts_each_vehicle_it_writes(tmp_path, service):
    from run_pipeline import main

    assert main([str(ROOT / "samples" / "clip.mp4"), f"output_dir={tmp_path}", "video_out=false",
                 "save_frames=false", "progress=false", f"webhook={service.url}"]) == 0
    written = [json.loads(line) for line in (tmp_path / "clip" / "events.jsonl").read_text().splitlines()]
    assert len(written) >= 3 and service.wait_for(len(written)) == [e["event_id"] for e in written]
    assert service.bodies == written and not (tmp_path / "clip" / "webhook_pending.jsonl").exists()


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="shipped weights absent")
def test_each_image_with_plates_is_posted_as_its_reads_line(tmp_path, service):
    from pipeline.app import run_images
    from pipeline.settings import load_configs

    cfgs = load_configs(ROOT / "configs", [f"output_dir={tmp_path}", "progress=false", f"webhook={service.url}"])
    run_images(str(ROOT / "samples" / "plates"), cfgs, True)
    lines = [json.loads(line) for line in (tmp_path / "plates" / "reads.jsonl").read_text().splitlines()]
    assert len(lines) == 8
    with service.got:
        assert service.got.wait_for(lambda: len(service.bodies) == 8, timeout=10)
    assert service.bodies == lines  # in order, each as its reads.jsonl line


def test_a_long_backlog_is_not_rewritten_per_event(tmp_path, monkeypatch):
    pending = tmp_path / "p.jsonl"
    pending.write_text("".join(json.dumps({"event_id": f"id{i}"}) + "\n" for i in range(2000)))
    got, rewrites, rewrite = [], [], WebhookSink._rewrite
    monkeypatch.setattr(WebhookSink, "_rewrite", lambda self: (rewrites.append(len(self._queue)), rewrite(self)))
    with WebhookSink("http://service/x", pending, post=lambda url, body, headers, t: got.append(body) or 200):
        pass
    assert [json.loads(b)["event_id"] for b in got] == [f"id{i}" for i in range(2000)]
    assert len(rewrites) < 20 and rewrites[-1] == 0 and not pending.exists()


def scripted(answers: list):
    """A `post` answering from `answers` in turn (the last one from then on); `calls` gets (time, event_id);
    `wait(n)` waits up to 10 s for n calls."""
    calls: list[tuple[float, str]] = []

    def post(url, body, headers, timeout_s):
        calls.append((time.monotonic(), json.loads(body)["event_id"]))
        return answers[min(len(calls), len(answers)) - 1]

    def wait(n: int) -> None:
        deadline = time.monotonic() + 10
        while len(calls) < n and time.monotonic() < deadline:
            time.sleep(0.01)

    return post, calls, wait


@pytest.mark.parametrize("answer, fate", [(200, "sent"), (299, "sent"), (300, "retried"), (399, "retried"),
                                          (400, "refused"), (499, "refused"), (500, "retried"), (408, "retried"),
                                          (425, "retried"), (429, "retried"), ("connection refused", "retried")])
def test_which_answers_deliver_drop_or_retry_an_event(tmp_path, answer, fate):
    """2xx delivers; a 4xx drops the event, except 408, 425 and 429, which say "later"; 3xx, 5xx and no answer
    retry."""
    post, calls, wait = scripted([answer, 200])
    with WebhookSink("http://gate.example/events", tmp_path / "p.jsonl", backoff_start_s=0.01, post=post) as sink:
        sink.write(event(0))
        sink.write(event(1))
        wait(3 if fate == "retried" else 2)
    ids = [c[1] for c in calls]
    assert ids == (["id0", "id0", "id1"] if fate == "retried" else ["id0", "id1"])
    assert (sink.sent, sink.refused) == {"sent": (2, 0), "refused": (1, 1), "retried": (2, 0)}[fate]


def test_the_back_off_doubles_to_its_cap_and_an_outage_is_logged_once_each_way(tmp_path, logged):
    post, calls, wait = scripted([503, 503, 503, 503, 200])

    def deliver() -> WebhookSink:
        with WebhookSink("http://gate.example/events", tmp_path / "p.jsonl", backoff_start_s=0.05,
                         backoff_max_s=0.2, post=post) as sink:
            sink.write(event(0))
            wait(5)
        return sink

    lines, sink = logged(deliver)
    gaps = [b[0] - a[0] for a, b in zip(calls, calls[1:])]
    assert len(gaps) == 4 and all(g >= w - 0.005 for g, w in zip(gaps, (0.05, 0.1, 0.2, 0.2)))  # doubled, held at 0.2
    hooks = [line for _, line in lines if line.startswith("webhook:")]
    url = "http://gate.example/events"
    assert hooks == [f"webhook: {url} did not take an event (HTTP 503); events wait in {tmp_path / 'p.jsonl'} and are "
                     "sent again", f"webhook: {url} answers again", f"webhook: 1 event(s) delivered to {url}"]
    assert sink.sent == 1 and not (tmp_path / "p.jsonl").exists()


def test_a_token_in_the_webhook_s_query_is_sent_but_never_logged(tmp_path, logged):
    answer, calls, wait = scripted([503, 200])
    url = "https://hooks.example/plates?channel=gate&token=s3cret"
    posted_to = []

    def post(to, body, headers, timeout_s):
        posted_to.append(to)
        return answer(to, body, headers, timeout_s)

    def deliver() -> WebhookSink:
        with WebhookSink(url, tmp_path / "p.jsonl", backoff_start_s=0.01, post=post) as sink:
            sink.write(event(0))
            wait(2)
        return sink

    lines, _ = logged(deliver)
    assert posted_to == [url, url]
    hooks = [line for _, line in lines if line.startswith("webhook:")]
    assert len(hooks) == 3 and all("https://hooks.example/plates?channel=gate&token=***" in h for h in hooks)
    with pytest.raises(UserError, match=r"^webhook 'ftp://hooks.example/x\?key=\*\*\*': expected"):
        check_webhook("ftp://hooks.example/x?key=s3cret")


def test_an_authorization_header_given_is_kept_over_the_url_s_credentials_and_no_answer_is_a_reason():
    from pipeline.webhook import http_post, with_credentials

    url, headers = with_credentials("http://user:pw@gate.example/events", {"authorization": "Bearer T"})
    assert (url, headers) == ("http://gate.example/events", {"authorization": "Bearer T"})
    answer = http_post(f"http://127.0.0.1:{free_port()}/events", b"{}", {}, 2.0)  # nothing listens there
    assert isinstance(answer, str) and "refused" in answer.lower()


def test_events_older_than_keep_days_are_not_kept_waiting_for_a_service_away_that_long(tmp_path, logged):
    """A service away longer than plates may be kept (`keep_days`) does not get them later, nor do they wait on disk
    past the days kept; events without a UTC time (a video file's) and recent ones still wait."""
    from pipeline.types import utc_iso

    pending = tmp_path / "webhook_pending.jsonl"
    old, new = utc_iso(time.time() - 40 * 86400), utc_iso(time.time() - 86400)
    pending.write_text("".join(json.dumps({"event_id": i, "last_seen_utc": t}) + "\n"
                               for i, t in (("id0", old), ("id1", new), ("id2", ""))))
    port = free_port()  # nothing answers there

    def run() -> None:
        with WebhookSink(f"http://127.0.0.1:{port}/e", pending, backoff_start_s=0.05, drain_s=0.2, keep_days=30):
            pass

    lines, _ = logged(run)
    assert [json.loads(x)["event_id"] for x in pending.read_text().splitlines()] == ["id1", "id2"]
    assert [m for level, m in lines if level == "WARNING"][0] == (
        f"webhook: 1 event(s) older than keep_days=30 not delivered, dropped from {pending} (they stay in the other "
        "outputs until pruned)")
    with WebhookSink(f"http://127.0.0.1:{port}/e", pending, backoff_start_s=0.05, drain_s=0.2):  # keep_days 0
        pass
    assert [json.loads(x)["event_id"] for x in pending.read_text().splitlines()] == ["id1", "id2"]
    with WebhookSink(f"http://127.0.0.1:{port}/e", pending, backoff_start_s=0.05, drain_s=0.2, keep_days=0.5):
        pass  # half a day kept: the day-old event goes too
    assert [json.loads(x)["event_id"] for x in pending.read_text().splitlines()] == ["id2"]


@pytest.mark.parametrize("every_s, dropped", [(0.0, True), (3600.0, False)])  # each retry / hourly, as shipped
def test_an_event_that_grows_too_old_while_the_service_is_away_is_dropped(every_s, dropped, tmp_path, monkeypatch,
                                                                         logged):
    """Looked for hourly while the service stays away (a long queue is not scanned at every retry)."""
    import pipeline.webhook as webhook
    from pipeline.types import utc_iso

    monkeypatch.setattr(webhook, "EXPIRE_EVERY_S", every_s)
    pending = tmp_path / "webhook_pending.jsonl"

    def run() -> None:
        with WebhookSink(f"http://127.0.0.1:{free_port()}/e", pending, backoff_start_s=0.02, backoff_max_s=0.02,
                         drain_s=0.1, keep_days=30) as sink:
            sink.send(json.dumps({"event_id": "new", "last_seen_utc": utc_iso(time.time())}))
            time.sleep(0.1)  # its first tries failed (and the queue was first looked at for old events)
            sink.send(json.dumps({"event_id": "aged", "last_seen_utc": utc_iso(time.time() - 31 * 86400)}))
            deadline = time.monotonic() + (10 if dropped else 0.3)  # retries every 0.02 s meanwhile
            while "aged" in pending.read_text() and time.monotonic() < deadline:
                time.sleep(0.02)

    lines, _ = logged(run)
    left = [json.loads(x)["event_id"] for x in pending.read_text().splitlines()]
    assert left == (["new"] if dropped else ["new", "aged"])
    assert sum("older than keep_days" in m for _, m in lines) == int(dropped)  # said once, not at each retry


@pytest.mark.parametrize("asked", [True, False])
def test_a_cameras_outage_is_posted_when_asked_for(tmp_path, monkeypatch, service, asked):
    """A camera whose stream drops and comes back: with webhook_outages its service is told (a monitor learns that a
    gate was blind, and for how long), beside the vehicles' events; not otherwise."""
    import dataclasses

    import pipeline.sources as sources
    from pipeline.app import run_video
    from pipeline.settings import load_configs
    from tests.pipeline.test_live import FakeCapture
    from tests.pipeline.test_sources import one_plate_models

    def live(spec, stride, cfg, stop, *window):  # 5 frames, a dropped stream, 5 frames
        cfg = dataclasses.replace(cfg, backoff_start_s=0.01, backoff_max_s=0.02)
        return sources.LiveSource(spec, cfg, lambda url, c: FakeCapture(5, 70), max_frames=8, stop=stop)

    monkeypatch.setattr(sources, "open_source", live)
    cfgs = load_configs(ROOT / "configs", [f"output_dir={tmp_path}", "progress=false", "sqlite=false",
                                           "video_out=false", "save_crops=false", "save_frames=false",
                                           f"webhook={service.url}", f"webhook_outages={str(asked).lower()}"])
    run_video("rtsp://admin:pw@cam/7", cfgs, threading.Event(), *one_plate_models())
    events = [json.loads(x) for x in next(tmp_path.glob("*/events.jsonl")).read_text().splitlines()]
    service.wait_for(len(events) + 2 * asked)
    notes = [b for b in service.bodies if "kind" in b]
    if asked:
        assert [(n["kind"], n["source"]) for n in notes] == [("source_lost", "rtsp://***@cam/7"),
                                                             ("source_back", "rtsp://***@cam/7")]
        assert notes[0]["detail"] == "read failed" and 0 <= notes[1]["down_s"] < 5
        assert notes[0]["time_utc"] <= notes[1]["time_utc"] and notes[1]["time_utc"].endswith("Z")
    else:
        assert notes == []
    assert [b["event_id"] for b in service.bodies if "kind" not in b] == [e["event_id"] for e in events]


def test_a_camera_down_when_the_run_begins_is_posted_as_an_outage(tmp_path, monkeypatch, service, logged):
    """A camera waited for from the start (open_retry_s=-1, as the cameras' unit runs) that is down when the service
    starts: its service heard nothing until the camera came up, however long (the run waited before it began). It is
    told at once, as of a stream lost, and again once the camera opens; the summary counts the outage."""
    import dataclasses

    import pipeline.sources as sources
    from pipeline.app import run_video
    from pipeline.settings import load_configs
    from tests.pipeline.test_live import FakeCapture
    from tests.pipeline.test_sources import one_plate_models

    tries = []

    def camera(url, cfg):  # up at the third try
        tries.append(url)
        return FakeCapture(5, 70, opened=len(tries) >= 3)

    def live(spec, stride, cfg, stop, *window):
        cfg = dataclasses.replace(cfg, backoff_start_s=0.05, backoff_max_s=0.05)
        return sources.LiveSource(spec, cfg, camera, max_frames=3, stop=stop)

    monkeypatch.setattr(sources, "open_source", live)
    cfgs = load_configs(ROOT / "configs", [f"output_dir={tmp_path}", "progress=false", "sqlite=false",
                                           "video_out=false", "save_crops=false", "save_frames=false",
                                           f"webhook={service.url}", "webhook_outages=true", "open_retry_s=-1"])
    lines, res = logged(lambda: run_video("rtsp://cam/8", cfgs, threading.Event(), *one_plate_models()))
    events = next(tmp_path.glob("*/events.jsonl")).read_text().splitlines()
    service.wait_for(len(events) + 2)
    notes = [b for b in service.bodies if "kind" in b]
    assert [(n["kind"], n.get("detail")) for n in notes] == [("source_lost", "not opened yet"), ("source_back", None)]
    assert 0.05 <= notes[1]["down_s"] < 5 and res["outages"] == 1 and len(tries) == 3 and res["source_down"] is False
    assert ("WARNING", "rtsp://cam/8: not opened yet; waiting for it to open") in lines
    running = [m for _, m in lines if ": running, " in m]  # summary.json written then too, for a monitor
    assert running[0].startswith("rtsp://cam/8: running, 0 frames") and running[0].endswith(", 1 outages, lost now")


def test_an_outage_is_told_with_how_long_the_source_was_down():
    from pipeline.types import SourceEvent
    from pipeline.webhook import outage_notes

    sent: list[dict] = []
    note = outage_notes(type("Hook", (), {"send": lambda self, line: sent.append(json.loads(line))})())
    note(SourceEvent("reconnected", 5.0), "cam")  # back without a loss seen (none told before)
    note(SourceEvent("lost", 100.0, "stalled"), "cam")
    note(SourceEvent("reconnected", 130.25), "cam")
    assert [(d["kind"], d.get("detail"), d.get("down_s")) for d in sent] == [
        ("source_back", None, None), ("source_lost", "stalled", None), ("source_back", None, 30.2)]


FIXTURES = Path(__file__).resolve().parent / "fixtures"  # a self-signed certificate for 127.0.0.1, and its key, made
CERT = FIXTURES / "selfsigned_cert.pem"  # for these tests alone (openssl req -x509 ... -addext subjectAltName=IP:...)


def test_an_https_service_with_its_own_certificate_is_trusted_by_webhook_ca(tmp_path, logged):
    """A gate controller or a LAN service answers https with a certificate of its own, which no system trusts: its
    events waited for ever behind `certificate verify failed`. They are delivered with webhook_ca=its PEM file."""
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(CERT, FIXTURES / "selfsigned_key.pem")
    service, pending = Service(tls=tls), tmp_path / "p.jsonl"
    try:
        def untrusted():
            with WebhookSink(service.url, pending, backoff_start_s=0.05) as sink:
                sink.write(event(1))
                time.sleep(0.5)

        lines, _ = logged(untrusted, "WARNING")
        assert service.bodies == [] and len(pending.read_text().splitlines()) == 1
        assert any("CERTIFICATE_VERIFY_FAILED" in m and m.endswith(
            "; a service's own certificate is trusted with webhook_ca=its PEM file); events wait in "
            f"{pending} and are sent again") for _, m in lines), lines
        with WebhookSink(service.url, pending, ca=str(CERT)) as sink:
            sink.write(event(2))
            assert service.wait_for(2) == ["id1", "id2"]
    finally:
        service.close()


def test_a_webhook_ca_that_is_missing_or_no_certificate_is_one_line(tmp_path):
    with pytest.raises(UserError, match=f"webhook_ca not found: {re.escape(str(tmp_path / 'nope.pem'))}"):
        check_webhook("https://10.0.0.9/e", (), str(tmp_path / "nope.pem"))
    (tmp_path / "key.txt").write_text("not a certificate\n")
    with pytest.raises(UserError, match=r"webhook_ca .*key.txt: not a PEM file of certificates "
                                        r"\(NO_CERTIFICATE_OR_CRL_FOUND\)$"):  # OpenSSL's reason, not its whole line
        check_webhook("https://10.0.0.9/e", (), str(tmp_path / "key.txt"))
    check_webhook("https://10.0.0.9/e", (), str(CERT))
