"""Cameras that answer one picture per request (HTTP snapshot URLs), served on loopback."""
import base64
import hashlib
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from pipeline.live import LiveConfig, LiveSource
from pipeline.snapshots import SnapshotCapture, fetch_picture
from pipeline.sources import open_source
from pipeline.types import Frame

JPEG = cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))[1].tobytes()
REALM, NONCE = "IP Camera", "5f2a9c"


def digest_ok(header: str, method: str, user: str = "admin", password: str = "12345") -> bool:
    """Whether an `Authorization: Digest ...` header answers our challenge with this login (RFC 7616, MD5, qop)."""
    if not header.startswith("Digest "):
        return False
    fields = dict(p.strip().split("=", 1) for p in header[7:].split(","))
    f = {k: v.strip('"') for k, v in fields.items()}

    def md5(s):
        return hashlib.md5(s.encode()).hexdigest()

    ha1, ha2 = md5(f"{user}:{REALM}:{password}"), md5(f"{method}:{f['uri']}")
    return f.get("username") == user and f["response"] == md5(f"{ha1}:{NONCE}:{f['nc']}:{f['cnonce']}:auth:{ha2}")


class Camera(BaseHTTPRequestHandler):
    """/snap (a picture), /digest (a picture behind Digest), /page (HTML), /mjpeg (a stream), /gone (404); every
    path 503 while `down` is set."""
    asked: list = []
    logins: list = []  # (path, Authorization header) of each request
    down = threading.Event()

    def do_GET(self):
        Camera.asked.append((time.monotonic(), self.path))
        if Camera.down.is_set():
            self.send_error(503)
            return
        Camera.logins.append((self.path, self.headers.get("Authorization", "")))
        if self.path == "/basic" and self.headers.get("Authorization") != "Basic " + base64.b64encode(
                b"admin:12345").decode():
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Basic realm="{REALM}"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path == "/digest" and not digest_ok(self.headers.get("Authorization", ""), "GET"):
            self.send_response(401)
            self.send_header("WWW-Authenticate", f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.path in ("/snap", "/digest", "/basic", "/snapshot.jpg", "/cgi-bin/snap"):
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", str(len(JPEG)))
            self.end_headers()
            self.wfile.write(JPEG)
        elif self.path == "/empty":  # a camera with nothing to send yet
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path == "/page":
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(b"<html>login</html>")
        elif self.path == "/mjpeg":  # never ends: a probe must not read its body
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=f")
            self.end_headers()
            try:
                while True:
                    self.wfile.write(b"--f\r\nContent-Type: image/jpeg\r\n\r\n" + JPEG + b"\r\n")
                    time.sleep(0.05)
            except OSError:
                pass
        else:
            self.send_error(404)

    def log_message(self, *args):
        pass


@pytest.fixture
def camera():
    """The base URL of a `Camera` on a free loopback port."""
    try:
        server = ThreadingHTTPServer(("127.0.0.1", 0), Camera)
    except OSError:
        pytest.skip("no loopback interface to serve a camera on")
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    Camera.asked, Camera.logins = [], []
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_a_picture_is_fetched_and_anything_else_is_not_one(camera):
    assert fetch_picture(f"http://{camera}/snap", 5).shape == (48, 64, 3)
    assert fetch_picture(f"http://admin:12345@{camera}/digest", 5).shape == (48, 64, 3)  # a Digest login answered
    t0 = time.monotonic()
    assert fetch_picture(f"http://{camera}/mjpeg", 5) is None and time.monotonic() - t0 < 2  # its body not read
    assert fetch_picture(f"http://{camera}/page", 5) is None
    assert fetch_picture(f"http://{camera}/empty", 5) is None  # an empty picture: none
    for url in (f"http://{camera}/gone", f"http://admin:wrong@{camera}/digest", f"http://{camera}/digest"):
        with pytest.raises(OSError):
            fetch_picture(url, 5)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = s.getsockname()[1]
    with pytest.raises(OSError):
        fetch_picture(f"http://127.0.0.1:{closed}/snap", 2)


def test_a_basic_camera_is_sent_its_login_up_front_once_it_asked_and_a_digest_camera_never(camera):
    """Each picture of a camera behind Basic was two requests, the first refused (401) for want of the login that
    urllib sends only when asked; a Digest camera must never get the password itself."""
    for _ in range(3):
        assert fetch_picture(f"http://admin:12345@{camera}/basic", 5).shape == (48, 64, 3)
        assert fetch_picture(f"http://admin:12345@{camera}/digest", 5).shape == (48, 64, 3)
    basic = [login for path, login in Camera.logins if path == "/basic"]
    assert [x.split(" ")[0] for x in basic] == ["", "Basic", "Basic", "Basic"]
    digest = [login for path, login in Camera.logins if path == "/digest"]
    assert [x.split(" ")[0] for x in digest] == ["", "Digest"] * 3
    with pytest.raises(OSError, match="401"):  # the password changed on the camera: refused, not asked again
        fetch_picture(f"http://admin:1234@{camera}/basic", 5)


@pytest.mark.parametrize("path, why", [
    ("/page", ": it answers a web page (text/html), not a video stream or a camera's picture: a video site's page is "
              "not its video (download the video and give the file)"),
    ("/gone", ": it answers HTTP 404 Not Found"),
    ("/digest", ": it answers HTTP 401 Unauthorized"),
])
def test_a_url_that_is_no_stream_says_what_it_answers(camera, path, why):
    """A video site's page or a mistyped path was `cannot open camera/stream URL`, nothing said of why."""
    with pytest.raises(UserError) as exc:
        open_source(f"http://{camera}{path}", live=LiveConfig(open_retry_s=0, open_timeout_s=3))
    assert str(exc.value) == f"cannot open camera/stream http://{camera}{path}{why}"
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]
    with pytest.raises(UserError, match=rf"^cannot open camera/stream http://127.0.0.1:{closed}/cam: nothing answers "
                                        r"there \(Connection refused\)$"):
        open_source(f"http://127.0.0.1:{closed}/cam", live=LiveConfig(open_retry_s=0, open_timeout_s=3))


def test_a_capture_asks_for_a_picture_every_interval_and_a_failed_one_is_a_failed_read():
    answers = [np.zeros((4, 4, 3), np.uint8), None, OSError("refused"), np.ones((4, 4, 3), np.uint8)]
    asked = []

    def fetch(url, timeout_s):
        asked.append(time.monotonic())
        a = answers.pop(0)
        if isinstance(a, Exception):
            raise a
        return a

    cap = SnapshotCapture("http://cam/snap", 0.2, 1.0, fetch=fetch)
    assert cap.isOpened() and cap.get(cv2.CAP_PROP_FPS) == 5.0
    results = [cap.read() for _ in range(4)]
    assert [ok for ok, _ in results] == [True, False, False, True] and results[3][1].max() == 1
    gaps = [b - a for a, b in zip(asked, asked[1:])]
    assert len(gaps) == 3 and all(0.19 <= g < 0.6 for g in gaps), gaps
    assert not SnapshotCapture("http://cam/snap", 0.2, 1.0, fetch=lambda u, t: None).isOpened()
    assert SnapshotCapture("http://cam/snap", 5, 1.0, first=np.zeros((2, 2, 3), np.uint8)).get(cv2.CAP_PROP_FPS) == 1.0
    held = SnapshotCapture("http://cam/snap", 0.2, 1.0, first=np.zeros((2, 2, 3), np.uint8), fetch=fetch)
    assert held.read()[1].shape == (2, 2, 3)  # the probe's picture: not asked for again


def test_a_snapshot_url_is_read_as_a_camera_polled_at_its_interval(camera):
    cfg = LiveConfig(open_timeout_s=3, read_timeout_s=1, stall_timeout_s=3, backoff_start_s=0.2, backoff_max_s=0.5)
    src = open_source(f"http://{camera}/snap", live=cfg, snapshot_s=0.2)
    try:
        assert isinstance(src, LiveSource) and src.fps == 5.0
        frames = []
        for item in src:
            assert isinstance(item, Frame)  # no lost / reconnected between pictures
            frames.append(item)
            if len(frames) == 5:
                break
    finally:
        src.close()
    times = [t for t, _ in Camera.asked]
    assert len(times) >= 5 and all(0.15 <= b - a < 0.6 for a, b in zip(times, times[1:]))
    assert frames[0].image.shape == (48, 64, 3)
    Camera.asked = []
    mjpeg = open_source(f"http://{camera}/mjpeg", live=cfg, snapshot_s=0.2)
    try:  # a stream: asked once whether it is a picture, then read by FFmpeg as before (one request, many frames)
        got = [item for _, item in zip(range(10), mjpeg) if isinstance(item, Frame)]
    finally:
        mjpeg.close()
    assert len(got) == 10 and [path for _, path in Camera.asked] == ["/mjpeg", "/mjpeg"]


def test_a_snapshot_url_that_does_not_answer_is_lost_and_reconnected(camera, logged):
    cfg = LiveConfig(open_timeout_s=1, read_timeout_s=0.5, stall_timeout_s=2, backoff_start_s=0.1, backoff_max_s=0.2)

    def watch() -> list[str]:
        src = open_source(f"http://{camera}/snap", live=cfg, snapshot_s=0.1)
        seen: list[str] = []
        deadline = time.monotonic() + 20
        try:
            for item in src:
                seen.append("frame" if isinstance(item, Frame) else item.kind)
                if seen.count("frame") == 3 and "lost" not in seen:
                    Camera.down.set()
                if seen[-1] == "lost":
                    time.sleep(0.5)  # a few reconnections refused
                    Camera.down.clear()
                if "reconnected" in seen and seen[seen.index("reconnected"):].count("frame") >= 2:
                    break
                assert time.monotonic() < deadline, seen
        finally:
            Camera.down.clear()
            src.close()
        return seen

    lines, seen = logged(watch)
    kinds = [k for i, k in enumerate(seen) if k != "frame" or seen[i - 1:i] != ["frame"]]
    assert kinds[:4] == ["frame", "lost", "reconnected", "frame"], seen
    assert sum("answers one picture per request" in m for _, m in lines) == 1  # told once, not at each reconnection


def test_a_snapshot_camera_down_when_the_run_begins_is_read_as_one_once_it_answers(camera):
    """A camera that boots after the server (open_retry_s=-1): while it does not answer (told as not opened yet,
    with what it answers), FFmpeg is tried too; once it answers with a picture it is a snapshot camera: pictures, no
    outage between them."""
    cfg = LiveConfig(open_timeout_s=1, read_timeout_s=0.5, stall_timeout_s=2, backoff_start_s=0.2, backoff_max_s=0.2,
                     open_retry_s=-1)
    Camera.down.set()
    up_at = []
    threading.Timer(1.0, lambda: (up_at.append(time.monotonic()), Camera.down.clear())).start()
    src = open_source(f"http://{camera}/cgi-bin/snap", live=cfg, snapshot_s=0.1)
    try:
        items = [item for _, item in zip(range(8), src)]
    finally:
        src.close()
    assert [(i.kind, i.detail) for i in items[:2]] == [
        ("lost", "not opened yet: it answers HTTP 503 Service Unavailable"), ("reconnected", "")]
    assert all(isinstance(i, Frame) for i in items[2:])
    before = sum(t < up_at[0] for t, _ in Camera.asked)
    assert before >= 4 and len(Camera.asked) - before >= 6  # asked and tried by FFmpeg while down; then per picture


def test_an_image_url_is_a_snapshot_url_even_before_it_answers(camera):
    cfg = LiveConfig(open_timeout_s=0.5, read_timeout_s=0.5, stall_timeout_s=2)
    with pytest.raises(UserError, match=r"^cannot open camera/stream http://\*\*\*@.*/nothing.jpg$"):
        open_source(f"http://u:p@{camera}/nothing.jpg", live=cfg)  # a 404: not yet a picture
    assert all(path == "/nothing.jpg" for _, path in Camera.asked)  # never handed to FFmpeg



def test_an_interval_the_stall_timeout_does_not_allow_is_warned_of_and_a_stream_s_settings_are_not_refused(
        camera, logged):
    cfg = LiveConfig(open_timeout_s=1, read_timeout_s=10, stall_timeout_s=10)  # a stream's settings: not refused
    lines, src = logged(lambda: open_source(f"http://{camera}/snap", live=cfg, snapshot_s=1))
    src.close()
    assert not [m for level, m in lines if level == "WARNING"]
    lines, src = logged(lambda: open_source(f"http://{camera}/snap", live=LiveConfig(stall_timeout_s=2),
                                            snapshot_s=1.6))
    src.close()
    assert [m for level, m in lines if level == "WARNING"] == [
        f"http://{camera}/snap: snapshot_every_s=1.6 is not well under stall_timeout_s=2: each wait counts as a stall "
        "(reconnected); raise stall_timeout_s"]


def test_the_command_reads_a_snapshot_url_as_a_camera_and_crops_refuse_a_url(camera, tmp_path, monkeypatch):
    from pipeline import app, runner
    from pipeline.settings import load_configs
    from tests.pipeline.test_sources import one_plate_models

    stop = threading.Event()
    timer = threading.Timer(2.0, stop.set)
    timer.start()
    cfgs = load_configs(Path(__file__).resolve().parents[2] / "configs",
                        [f"output_dir={tmp_path}", "progress=false", "snapshot_every_s=0.1", "video_out=false",
                         "motion_gate=false", "fusion.lost_frames=3"])
    monkeypatch.setattr(app, "video_detector", lambda cfgs: one_plate_models()[0])
    monkeypatch.setattr(app, "_recognizer", lambda p, patterns: one_plate_models()[1])
    try:
        assert runner.run_one(f"http://{camera}/snapshot.jpg", cfgs, False, stop, None)
    finally:
        timer.cancel()
    events = (tmp_path / f"127.0.0.1_{camera.split(':')[1]}_snapshot.jpg" / "events.jsonl").read_text().splitlines()
    assert len(events) == 1 and '"text": "AB123CD"' in events[0]  # one vehicle, in view in every picture
    assert len(Camera.asked) >= 10 and {path for _, path in Camera.asked} == {"/snapshot.jpg"}
    with pytest.raises(UserError, match=r"plate crops are read from image files and folders, not from a URL"):
        app.run_images(f"http://{camera}/snapshot.jpg", cfgs, True)


def test_a_snapshot_camera_is_asked_no_more_often_than_its_max_fps(camera):
    """Pictures asked for and left unread cost their fetch and decoding (three snapshot cameras capped at 8 frames a
    second after 20 pictures each: 175 % of a core, asked for 8: 107 %; bench/cameras_sizing.py)."""
    from pipeline.live import LiveConfig, web_source

    for max_fps, every_s in [(0.5, 2.0), (2.0, 0.5), (20.0, 0.1), (0.0, 0.1)]:
        src = web_source(f"http://{camera}/snapshot.jpg", LiveConfig(max_fps=max_fps), 0.1)
        src.close()
        assert src.opener.every_s == every_s


@pytest.mark.parametrize("url", ["http://[::1/x", "http://[::1/snap.jpg", "http://u:p@[zz/x"])
def test_a_url_urllib_cannot_take_apart_is_one_line(url):
    """`http://[::1/x` (a bracket left open): urllib raises ValueError where the URL's path or login is looked for;
    it was a traceback before the source was even opened."""
    from pipeline.addresses import is_live

    assert is_live(url)
    with pytest.raises(UserError, match=r"^cannot open camera/stream http://"):
        open_source(url, live=LiveConfig(open_timeout_s=1, read_timeout_s=1))
