"""The HTTP service (pipeline/serve.py): a posted photo's plates answered as JSON, bad requests answered."""
import http.client
import json
import shutil
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.serve import PlateService, handler_for, make_server
from pipeline.sinks import ImageReadsSink


PHOTO = Path(__file__).resolve().parents[2] / "samples" / "stills" / "images" / "train_dayride_type1_003_t00098.jpg"


@dataclass(frozen=True)
class Read:
    box: tuple
    text: str
    confidence: float


class FakeReader:
    """Two plates in every image; remembers the images' shapes and the threads it was called on."""

    def __init__(self):
        self.shapes, self.threads = [], []

    def __call__(self, image):
        self.shapes.append(image.shape)
        self.threads.append(threading.get_ident())
        return [Read((1.0, 2.0, 30.0, 12.0), "AB123CD", 0.97), Read((40.0, 2.0, 70.0, 12.0), "XY99", 0.5)]


@pytest.fixture
def serve():
    """serve(service, **kw) -> base URL of a running server on a free port; every server stopped afterwards."""
    servers = []

    def start(service, **kw):
        server = make_server(service, "127.0.0.1", 0, **kw)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, service))
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server, service in servers:
        server.shutdown()
        server.server_close()
        service.close()


def post(url, body, headers=None):
    """(status, JSON answer) of a POST."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def png(h=24, w=80, channels=3):
    img = np.random.default_rng(0).integers(0, 256, (h, w, channels) if channels > 1 else (h, w), dtype=np.uint8)
    return cv2.imencode(".png", img)[1].tobytes()


def test_a_posted_phone_photo_is_answered_with_when_and_where_it_was_taken(serve, tmp_path):
    """A phone app's photo: its EXIF time (with its offset) and place are in the answer and the reads; a PNG has none."""
    from tests.pipeline.test_photo_meta import BUCHAREST, exif_jpeg

    with ImageReadsSink(tmp_path, watch_columns=False, append=True) as sink:
        url = serve(PlateService(FakeReader(), sink))
        photo = exif_jpeg(None, "2026:12:06 12:30:00", "+02:00", BUCHAREST)
        status, answer = post(f"{url}/read?name=IMG_1.jpg", photo)
        plain = post(f"{url}/read", png())[1]
    assert status == 200 and (answer["taken_utc"], answer["gps"]) == ("2026-12-06T10:30:00.000Z", [44.425, 26.1])
    assert (plain["taken_utc"], plain["gps"]) == ("", None)
    lines = [json.loads(x) for x in (tmp_path / "reads.jsonl").read_text().splitlines()]
    assert [(x["taken_utc"], x["gps"]) for x in lines] == [("2026-12-06T10:30:00.000Z", [44.425, 26.1]), ("", None)]


def test_a_posted_cameras_photo_is_timed_in_the_clocks_offset_given(serve):
    from datetime import timedelta

    from tests.pipeline.test_photo_meta import exif_jpeg

    url = serve(PlateService(FakeReader(), clock=timedelta(hours=2)))
    assert post(f"{url}/read", exif_jpeg(None, "2026:12:06 12:30:00"))[1]["taken_utc"] == "2026-12-06T10:30:00.000Z"


def test_a_posted_image_is_answered_with_its_plates_and_appended_to_the_reads(serve, tmp_path):
    reader = FakeReader()
    with ImageReadsSink(tmp_path, watch_columns=False, append=True) as sink:
        url = serve(PlateService(reader, sink))
        status, answer = post(f"{url}/read?name=gate-1.jpg", png())
        assert post(f"{url}/read", png(30, 60, channels=1))[0] == 200  # a grey image arrives as BGR
    assert status == 200
    assert answer["source"] == "gate-1.jpg" and answer["ms"] >= 0 and answer["time_utc"].endswith("Z")
    assert answer["reads"] == [{"box": [1.0, 2.0, 30.0, 12.0], "text": "AB123CD", "confidence": 0.97},
                               {"box": [40.0, 2.0, 70.0, 12.0], "text": "XY99", "confidence": 0.5}]
    assert reader.shapes == [(24, 80, 3), (30, 60, 3)]
    lines = [json.loads(x) for x in (tmp_path / "reads.jsonl").read_text().splitlines()]
    assert [x["source"] for x in lines] == ["gate-1.jpg", ""]
    assert lines[0]["reads"] == answer["reads"] and lines[0]["file_time_utc"] == answer["time_utc"]
    rows = (tmp_path / "reads.csv").read_text(encoding="utf-8-sig").splitlines()
    assert rows[1] == f"gate-1.jpg,{answer['time_utc']},,,,1.0,2.0,30.0,12.0,AB123CD,0.97" and len(rows) == 5


def test_reads_run_on_one_thread_whichever_request_asks(serve):
    """Each request has a thread of its own; the models are run from one worker, one image at a time."""
    reader = FakeReader()
    url = serve(PlateService(reader))
    answers = []
    clients = [threading.Thread(target=lambda: answers.append(post(f"{url}/read", png()))) for _ in range(4)]
    for c in clients:
        c.start()
    for c in clients:
        c.join()
    assert [a[0] for a in answers] == [200] * 4
    assert len(reader.threads) == 4 and len(set(reader.threads)) == 1
    assert reader.threads[0] != threading.get_ident()


def test_a_watchlist_adds_its_fields():
    service = PlateService(FakeReader(), watch=lambda text, where: {"watch": text if text == "XY99" else "",
                                                                      "watch_label": "stolen" * (text == "XY99")})
    try:
        reads = service.read(png(), "a.jpg")["reads"]
    finally:
        service.close()
    assert [(r["text"], r["watch"], r["watch_label"]) for r in reads] == [("AB123CD", "", ""),
                                                                         ("XY99", "XY99", "stolen")]


def test_bad_requests_are_answered_with_one_error(serve):
    reader = FakeReader()
    url = serve(PlateService(reader), max_mb=0.001)
    assert post(f"{url}/read?name=notes.txt", b"not an image") == (
        400, {"error": "notes.txt (12 bytes) is not an image OpenCV can decode"})
    assert post(f"{url}/read", b"") == (400, {"error": "the request body (0 bytes) is not an image OpenCV can decode"})
    status, answer = post(f"{url}/read", png(200, 600))
    assert status == 413 and "over the limit of 0.001 MB" in answer["error"]
    assert post(f"{url}/plates", png()) == (404, {"error": "no such path: /plates (POST /read, GET /health)"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{url}/read", timeout=30)
    assert (e.value.code, e.value.headers["Allow"]) == (405, "GET, POST")
    for method in ("PUT", "DELETE", "PATCH"):  # JSON like every other answer, not http.server's HTML 501
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(urllib.request.Request(f"{url}/read", data=png(), method=method), timeout=30)
        assert (e.value.code, e.value.headers["Allow"], json.loads(e.value.read())) == (
            405, "GET, POST", {"error": f"{method} is not served: POST an image to /read, GET /health"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{url}/plates", timeout=30)
    assert (e.value.code, json.loads(e.value.read())) == (404, {
        "error": "no such path: /plates (POST /read, GET /health)"})
    assert reader.shapes == []  # none of them reached the models
    with urllib.request.urlopen(f"{url}/health", timeout=30) as r:  # and the service is still up
        assert json.loads(r.read()) == {"ok": True, "served": 0}


def test_a_token_is_asked_for_when_set(serve):
    url = serve(PlateService(FakeReader()), token="s3cret")
    assert post(f"{url}/read", png())[0] == 401
    assert post(f"{url}/read", png(), {"Authorization": "Bearer wrong"})[0] == 401
    assert post(f"{url}/read", png(), {"Authorization": "Bearer s3cret"})[0] == 200
    with urllib.request.urlopen(urllib.request.Request(f"{url}/health", headers={"Authorization": "Bearer s3cret"}),
                                timeout=10) as r:
        assert json.loads(r.read()) == {"ok": True, "served": 1}
    # a health check (systemd's, Docker's, a load balancer's) brings no token: it is told the service is up, no more
    for given in ({}, {"Authorization": "Bearer wrong"}):
        with urllib.request.urlopen(urllib.request.Request(f"{url}/health", headers=given), timeout=10) as r:
            assert json.loads(r.read()) == {"ok": True}
    assert ask(f"{url}/plates")[0] == 401 and ask(f"{url}/read")[0] == 401  # any other path still asks for it


FIXTURES = Path(__file__).resolve().parent / "fixtures"  # a self-signed certificate for 127.0.0.1 and its key
CERT, KEY = FIXTURES / "selfsigned_cert.pem", FIXTURES / "selfsigned_key.pem"


def test_the_service_answers_https_with_its_certificate_and_refuses_plain_http_on_that_port(serve, logged):
    """The token and the photos crossed the network in clear: the service spoke plain HTTP only, and a gate's
    controller at another site could be listened to. With a certificate it answers https; a client that speaks plain
    HTTP to that port is one warning, and the service goes on."""
    import ssl

    from pipeline.serve_io import TlsFiles

    service = PlateService(FakeReader())
    url = serve(service, token="s3cret", tls=TlsFiles(str(CERT), str(KEY))).replace("http://", "https://")
    trusting = ssl.create_default_context(cafile=str(CERT))
    stalled = socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])))  # connects, never shakes hands:
    time.sleep(0.3)  # taken by the server before the request below; it must not hold that one up (the request
    # timeout, 60 s, is over the 10 s given here)
    req = urllib.request.Request(f"{url}/read", data=png(), method="POST", headers={"Authorization": "Bearer s3cret"})
    with stalled, urllib.request.urlopen(req, timeout=10, context=trusting) as r:
        assert r.status == 200 and [x["text"] for x in json.loads(r.read())["reads"]] == ["AB123CD", "XY99"]
    time.sleep(0.3)  # the stalled client closed: its handshake ends (a warning of its own) before the ones below

    def plain():
        with pytest.raises((urllib.error.URLError, ConnectionError, http.client.HTTPException)):
            urllib.request.urlopen(url.replace("https://", "http://") + "/health", timeout=30).read()
        time.sleep(0.3)  # the server's thread logs it

    said, _ = logged(plain, "WARNING")
    assert len(said) == 1 and said[0][1].startswith("127.0.0.1: no TLS connection made (") and said[0][1].endswith(
        "): the service answers https only"), said
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):  # a client that trusts it not
        urllib.request.urlopen(f"{url}/health", timeout=30)
    with urllib.request.urlopen(f"{url}/health", timeout=30, context=trusting) as r:  # and it still serves
        assert json.loads(r.read()) == {"ok": True}


def self_signed(cert: Path, key: Path) -> None:
    """A new self-signed certificate for 127.0.0.1 and its key, as a renewal writes them (openssl)."""
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                    "-days", "2", "-subj", "/CN=plate-reader renewed", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True, timeout=60)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_a_renewed_certificate_is_served_without_a_restart(serve, tmp_path, logged):
    """A certificate is renewed every 60 to 90 days (certbot): the service read it at the start only, served the old
    one until a restart, and after its expiry every client refused the service. The files are now read again when
    they change; a renewal caught half-written leaves the one in use serving until the files change again."""
    import ssl

    from pipeline.serve_io import TlsFiles

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(CERT, cert)
    shutil.copy(KEY, key)
    url = serve(PlateService(FakeReader()), tls=TlsFiles(str(cert), str(key), every_s=0)).replace("http", "https")

    def health(trusted: Path) -> bool:
        context = ssl.create_default_context(cafile=str(trusted))
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=30, context=context) as r:
                return json.loads(r.read())["ok"] is True
        except urllib.error.URLError as exc:
            assert "CERTIFICATE_VERIFY_FAILED" in str(exc)
            return False

    assert health(CERT)
    renewed = tmp_path / "renewed"
    renewed.mkdir()
    self_signed(renewed / "cert.pem", renewed / "key.pem")

    def renew():
        cert.write_bytes((renewed / "cert.pem").read_bytes()[:200])  # caught half-written: the old one served
        half = health(CERT)
        shutil.copy(renewed / "key.pem", key)
        shutil.copy(renewed / "cert.pem", cert)
        return half, health(renewed / "cert.pem"), health(CERT)

    lines, (half, new, old) = logged(renew)
    assert half and new and not old
    assert lines[0][0] == "WARNING" and lines[0][1].startswith(f"cannot use the TLS certificate {cert}") and lines[0][
        1].endswith("; the certificate read before is served until the files change again")
    assert ("INFO", f"TLS certificate {cert} read again: the renewed one is served") in lines


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_a_certificates_files_are_looked_at_once_a_second_at_most(tmp_path, monkeypatch):
    """Each connection asks for the certificate: the files' times are looked at once a second at most (a service
    answering hundreds of requests a second stats them no more), and read only when they have changed."""
    from pipeline import serve_io
    from pipeline.serve_io import TlsFiles

    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    shutil.copy(CERT, cert)
    shutil.copy(KEY, key)
    now = [100.0]
    monkeypatch.setattr(serve_io.time, "monotonic", lambda: now[0])
    tls = TlsFiles(str(cert), str(key))
    first = tls.context()
    self_signed(cert, key)
    now[0] += 0.9
    assert tls.context() is first  # not looked at yet
    now[0] += 0.1
    renewed = tls.context()
    assert renewed is not first
    now[0] += 5
    assert tls.context() is renewed  # unchanged since: not read again


@pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")
def test_a_certificate_that_cannot_be_used_is_one_line(tmp_path, capsys):
    from pipeline.serve import main

    encrypted = tmp_path / "encrypted_key.pem"
    subprocess.run(["openssl", "pkey", "-in", str(KEY), "-aes256", "-passout", "pass:x", "-out", str(encrypted)],
                   check=True, capture_output=True, timeout=60)
    other = tmp_path / "other_key.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256", "-out",
                    str(other)], check=True, capture_output=True, timeout=60)
    for argv, says in [
        (["--tls-cert", str(tmp_path / "none.pem")], f"error: TLS certificate not found: {tmp_path / 'none.pem'}"),
        (["--tls-cert", str(CERT), "--tls-key", str(tmp_path / "k.pem")], "error: TLS key not found: "),
        (["--tls-key", str(KEY)], "error: --tls-key is the key of a --tls-cert: give the certificate too"),
        (["--tls-cert", str(CERT), "--tls-key", str(encrypted)], f"error: the TLS key {encrypted} is encrypted"),
        (["--tls-cert", str(CERT), "--tls-key", str(other)], f"error: cannot use the TLS certificate {CERT} with "
                                                             f"the key {other}: the key is not the certificate's ("),
        (["--tls-cert", str(CERT)], f"error: cannot use the TLS certificate {CERT}: not a PEM certificate with its "
                                    "key (a key in a file of its own: --tls-key) ("),  # its key not given
    ]:
        assert main(["--port", "0", *argv]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith(says), (argv, err)


@pytest.mark.parametrize("argv, says", [
    (["nope_key=1", "--port", "0"], "nope_key"),
    (["webhook=http://127.0.0.1:9/x", "--port", "0"], "webhook needs --out"),
    (["ocr_weights=nope.pth", "--port", "0"], "checkpoint not found: nope.pth"),
    (["photo_utc_offset=CET", "--port", "0"], "config key 'photo_utc_offset': 'CET' is not an offset from UTC"),
])
def test_the_command_says_a_mistake_in_one_line(argv, says, capsys):
    from pipeline.serve import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ") and says in err[0], err


def ask(url, method="GET", body=None, headers=None):
    """(status, headers) of a request, its body read and dropped."""
    req = urllib.request.Request(url, data=body, headers=headers or {}, method=method)
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            r.read()
            return r.status, r.headers
    except urllib.error.HTTPError as e:
        e.read()
        return e.code, e.headers


def test_a_web_pages_script_may_read_the_answers_where_its_origin_is_allowed(serve):
    """A page's script POSTing JSON (or an image, or with the token) is preceded by the browser's OPTIONS preflight,
    which had http.server's HTML 501: the page could never read a plate. With --cors its origins are answered."""
    url = serve(PlateService(FakeReader()), token="s3cret", cors=("https://intranet.example", "http://10.0.0.2:8000"))
    page = {"Origin": "https://intranet.example"}
    status, h = ask(f"{url}/read", "OPTIONS", headers={**page, "Access-Control-Request-Method": "POST",
                                                     "Access-Control-Request-Headers": "content-type,authorization",
                                                     "Access-Control-Request-Private-Network": "true"})
    assert status == 204 and (h["Access-Control-Allow-Origin"], h["Vary"]) == ("https://intranet.example", "Origin")
    assert (h["Access-Control-Allow-Methods"], h["Access-Control-Allow-Headers"], h["Access-Control-Max-Age"],
            h["Access-Control-Allow-Private-Network"]) == ("GET, POST", "Content-Type, Authorization", "600", "true")
    status, h = ask(f"{url}/read", "POST", png(), {**page, "Authorization": "Bearer s3cret"})
    assert status == 200 and h["Access-Control-Allow-Origin"] == "https://intranet.example"
    status, h = ask(f"{url}/read", "POST", png(), page)  # without the token: its refusal read by the page too
    assert status == 401 and h["Access-Control-Allow-Origin"] == "https://intranet.example"
    other = {"Origin": "https://elsewhere.example"}
    status, h = ask(f"{url}/read", "OPTIONS", headers=other)
    assert status == 204 and h["Allow"] == "GET, POST, OPTIONS" and "Access-Control-Allow-Origin" not in h
    token = {"Authorization": "Bearer s3cret"}
    assert "Access-Control-Allow-Origin" not in ask(f"{url}/health", headers={**other, **token})[1]
    status, h = ask(f"{url}/health", headers={"Origin": "HTTP://10.0.0.2:8000", **token})
    assert status == 200 and h["Access-Control-Allow-Origin"] == "HTTP://10.0.0.2:8000"
    closed = serve(PlateService(FakeReader()))  # no --cors: no page's script reads it
    status, h = ask(f"{closed}/read", "OPTIONS", headers=page)
    assert status == 204 and "Access-Control-Allow-Origin" not in h and "Access-Control-Allow-Methods" not in h
    anyone = serve(PlateService(FakeReader()), cors=("*",))
    status, h = ask(f"{anyone}/read", "OPTIONS", headers=other)
    assert h["Access-Control-Allow-Origin"] == "*" and "Vary" not in h
    assert "Access-Control-Allow-Private-Network" not in h  # asked for only by a public page's preflight


@pytest.mark.parametrize("text, want", [
    ("*", ("*",)), ("https://Intranet.example/", ("https://intranet.example",)),
    ("https://a.example, http://10.0.0.2:8000", ("https://a.example", "http://10.0.0.2:8000")),
    ("intranet.example", "'intranet.example' is not a web page's origin"),
    ("https://a.example/form.html", "'https://a.example/form.html' is not a web page's origin"),
    (" , ", "names no origin"),
])
def test_cors_origins_are_read_from_the_command_line(text, want, capsys):
    import argparse

    from pipeline.serve_io import origins

    if isinstance(want, tuple):
        assert origins(text) == want
    else:
        with pytest.raises(argparse.ArgumentTypeError, match=want):
            origins(text)
        from pipeline.serve import main

        with pytest.raises(SystemExit) as exc:
            main(["--cors", text])
        last = capsys.readouterr().err.strip().splitlines()[-1]
        assert exc.value.code == 2 and f"error: argument --cors: {want}" in last, last


def test_a_port_in_use_is_one_error():
    import socket

    from common.errors import UserError

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        with pytest.raises(UserError) as exc:
            make_server(PlateService(FakeReader()), "127.0.0.1", port)
    assert str(exc.value) == f"cannot listen on 127.0.0.1:{port}: Address already in use"  # the system's reason


def test_the_shipped_models_read_a_posted_photo(serve):
    """End to end: the configs' still reader (shipped detector and OCR) behind the service."""
    from pipeline import PlateReader

    url = serve(PlateService(PlateReader.from_configs()))
    status, answer = post(f"{url}/read?name=car.jpg", PHOTO.read_bytes())
    assert status == 200
    assert {r["text"] for r in answer["reads"]} >= {"DB48SCF", "B84EEE"}


def test_a_camera_mounted_on_its_side_posts_photos_read_turned_with_rotate(serve):
    reader = FakeReader()
    url = serve(PlateService(reader, rotate=90))
    status, answer = post(f"{url}/read", png(24, 80))
    assert status == 200 and reader.shapes == [(80, 24, 3)] and answer["rotate"] == 90
    status, answer = post(f"{serve(PlateService(reader))}/read", png(24, 80))
    assert status == 200 and reader.shapes[-1] == (24, 80, 3) and "rotate" not in answer


def test_each_request_may_give_its_own_turn(serve, tmp_path):
    """Cameras mounted differently posting to one service: `?rotate=` per request, over the service's own."""
    reader = FakeReader()
    with ImageReadsSink(tmp_path, watch_columns=False, rotate=90) as sink:
        url = serve(PlateService(reader, sink, rotate=90))
        assert post(f"{url}/read?name=a.png&rotate=180", png(24, 80))[1]["rotate"] == 180
        assert "rotate" not in post(f"{url}/read?name=b.png&rotate=0", png(24, 80))[1]  # this camera is upright
        assert post(f"{url}/read?name=c.png", png(24, 80))[1]["rotate"] == 90  # the service's
        assert post(f"{url}/read?rotate=45", png(24, 80)) == (
            400, {"error": "rotate=45: not one of 0, 90, 180, 270 (degrees clockwise)"})
    assert reader.shapes == [(24, 80, 3), (24, 80, 3), (80, 24, 3)]
    lines = [json.loads(x) for x in (tmp_path / "reads.jsonl").read_text().splitlines()]
    assert [(x["source"], x.get("rotate")) for x in lines] == [("a.png", 180), ("b.png", None), ("c.png", 90)]


def test_a_form_upload_is_read_by_its_file(serve):
    """`curl -F camera=gate -F upload=@car.png`: the file field is the image, named after its file."""
    reader = FakeReader()
    url = serve(PlateService(reader))
    boundary = "XyZ0123456789"
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"camera\"\r\n\r\ngate\r\n--{boundary}\r\n"
            f"Content-Disposition: form-data; name=\"upload\"; filename=\"car.png\"\r\nContent-Type: image/png\r\n\r\n"
            ).encode() + png(30, 90) + f"\r\n--{boundary}--\r\n".encode()
    ctype = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    status, answer = post(f"{url}/read", body, ctype)
    assert status == 200 and answer["source"] == "car.png" and len(answer["reads"]) == 2
    assert reader.shapes == [(30, 90, 3)]
    no_file = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"camera\"\r\n\r\ngate\r\n--{boundary}--\r\n")
    assert post(f"{url}/read", no_file.encode(), ctype) == (
        400, {"error": "the form holds no file: send the image as a file field (curl -F upload=@car.jpg)"})


def test_an_image_in_a_json_body_is_read(serve):
    """A web page's script sends its file input's or canvas's picture as base64 in JSON."""
    import base64

    reader = FakeReader()
    url = serve(PlateService(reader))
    ctype = {"Content-Type": "application/json; charset=utf-8"}
    b64 = base64.b64encode(png(30, 90)).decode()
    status, answer = post(f"{url}/read", json.dumps({"image": b64, "name": "gate.png"}).encode(), ctype)
    assert status == 200 and answer["source"] == "gate.png" and len(answer["reads"]) == 2
    data_url = "data:image/png;base64," + "\n".join(b64[i:i + 76] for i in range(0, len(b64), 76))  # lines wrapped
    unpadded = base64.urlsafe_b64encode(png(20, 60)).decode().rstrip("=")
    named = post(f"{url}/read?name=cam1.png", json.dumps({"upload": data_url}).encode(), ctype)
    assert named[1]["source"] == "cam1.png"
    assert post(f"{url}/read", json.dumps({"image": unpadded}).encode(), ctype)[0] == 200
    assert reader.shapes == [(30, 90, 3), (30, 90, 3), (20, 60, 3)]
    for body, error in ((b"{not json", "the request's JSON body is not JSON"),
                        (b'{"img": "abc"}', 'the JSON body holds no image: send {"image": "<the JPEG or PNG file in'),
                        (b'["abc"]', "the JSON body holds no image"),
                        (b'{"image": "***"}', "the JSON body's image is not base64"),
                        (b'{"image": "aGVsbG8="}', "(5 bytes) is not an image OpenCV can decode")):
        status, answer = post(f"{url}/read", body, ctype)
        assert status == 400 and error in answer["error"], answer


def test_a_fault_while_reading_is_a_500_answer_and_the_service_goes_on(serve, tmp_path, logged):
    class Flaky(FakeReader):
        def __call__(self, image):
            if image.shape[0] == 13:
                raise RuntimeError("boom")
            return super().__call__(image)

    class FullDisk:
        def write(self, name, reads, when, meta, rotate=None):
            if name == "full.png":
                raise OSError(28, "No space left on device")

    url = serve(PlateService(Flaky(), FullDisk()))
    lines, answers = logged(lambda: [post(f"{url}/read", png(13, 40)), post(f"{url}/read?name=full.png", png())])
    assert answers == [(500, {"error": "reading failed: RuntimeError: boom"}),
                       (500, {"error": "the reads could not be written: [Errno 28] No space left on device"})]
    assert post(f"{url}/read", png())[0] == 200
    assert [(level, text.splitlines()[0]) for level, text in lines] == [  # named by the image, or "a posted image"
        ("ERROR", "reading a posted image failed"),
        ("ERROR", "error: the reads of full.png could not be written: [Errno 28] No space left on device")]


class Nothing(FakeReader):
    def __call__(self, image):
        super().__call__(image)
        return []


def test_each_request_is_logged_in_one_line_by_its_name_or_its_client(serve, logged):
    url = serve(PlateService(FakeReader()))
    empty = serve(PlateService(Nothing()))
    lines, _ = logged(lambda: [post(f"{url}/read?name=gate-1.jpg", png()), post(f"{url}/read", png()),
                               post(f"{empty}/read", png()), post(f"{url}/read", b"not an image")])
    assert [(level, " ".join(text.split()[:-2])) for level, text in lines[:3]] == [
        ("INFO", "gate-1.jpg AB123CD (0.97), XY99 (0.50)"), ("INFO", "127.0.0.1 AB123CD (0.97), XY99 (0.50)"),
        ("INFO", "127.0.0.1 no plate")]
    assert lines[3] == ("WARNING", "127.0.0.1: the request body (12 bytes) is not an image OpenCV can decode")


def test_systemctl_status_says_how_many_images_the_service_read():
    service = PlateService(FakeReader())
    try:
        said = [service.status()] + [service.read(png(), "a.jpg") and service.status() for _ in range(2)]
    finally:
        service.close()
    assert said == ["0 images read", "1 image read", "2 images read"]


def test_the_time_a_read_took_is_in_ms_to_a_tenth():
    class Slow(FakeReader):
        def __call__(self, image):
            time.sleep(0.05)
            return super().__call__(image)

    service = PlateService(Slow())
    try:
        ms = service.read(png(), "a.jpg")["ms"]
    finally:
        service.close()
    assert 45 <= ms < 2000 and ms == round(ms, 1)


def test_the_watchlist_is_told_where_a_read_was_made():
    where: list[str] = []
    service = PlateService(FakeReader(), watch=lambda text, at: where.append(at) or {"watch": "", "watch_label": ""})
    try:
        service.read(png(), "gate-1.jpg")
        service.read(png())
    finally:
        service.close()
    assert where == [f"{name}, box {box}" for name in ("gate-1.jpg", "a posted image")
                     for box in ("[1.0, 2.0, 30.0, 12.0]", "[40.0, 2.0, 70.0, 12.0]")]


def raw(url: str, request: bytes) -> tuple[int, dict]:
    """(status, JSON answer) of a request written to the server as it is."""
    import socket
    from urllib.parse import urlsplit

    host, port = urlsplit(url).hostname, urlsplit(url).port
    with socket.create_connection((host, port), timeout=10) as s:
        s.sendall(request)
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(body)


def test_a_post_without_a_length_is_answered_411(serve):
    url = serve(PlateService(FakeReader()))
    need = {"error": "the request needs a Content-Length or chunks (send the image as the body)"}
    assert raw(url, b"POST /read HTTP/1.0\r\nHost: x\r\n\r\n") == (411, need)
    assert raw(url, b"POST /read HTTP/1.0\r\nHost: x\r\nContent-Length: 12x\r\n\r\n") == (411, need)


def test_a_body_sent_in_chunks_is_read(serve):
    """`curl -X POST -T - < photo.jpg` and streaming clients send the image in chunks, without a length."""
    import http.client

    reader = FakeReader()
    url = serve(PlateService(reader), max_mb=0.001)
    body = png(10, 20)
    assert len(body) < 1000
    conn = http.client.HTTPConnection(url.split("//")[1], timeout=10)
    conn.request("POST", "/read?name=gate.png", (body[i:i + 100] for i in range(0, len(body), 100)),
                 encode_chunked=True)
    answer = conn.getresponse()
    assert answer.status == 200 and json.loads(answer.read())["reads"][0]["text"] == "AB123CD"
    assert reader.shapes == [(10, 20, 3)]
    head = b"POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    chunks = b"".join(b"%x;ext=1\r\n%s\r\n" % (len(body[i:i + 64]), body[i:i + 64]) for i in range(0, len(body), 64))
    assert raw(url, head + chunks + b"0\r\nX-Trailer: 1\r\n\r\n")[0] == 200  # extensions and trailers read past
    assert raw(url, head + b"3e9\r\n" + b"x" * 1001 + b"\r\n0\r\n\r\n") == (
        413, {"error": "image of over 1001 bytes: over the limit of 0.001 MB"})
    assert raw(url, head + b"3e8\r\n" + b"x" * 1000 + b"\r\n0\r\n\r\n")[0] == 400  # the limit itself: read (no image)
    assert raw(url, head + b"zz\r\nabc\r\n0\r\n\r\n")[0] == 400
    assert raw(url, head + b"3\r\nabcdef\r\n0\r\n\r\n") == (
        400, {"error": "a chunked body that is not one (a chunk longer than its size)"})
    assert reader.shapes == [(10, 20, 3)] * 2


def test_a_client_that_waits_for_100_continue_is_told_at_once(serve):
    """curl sends `Expect: 100-continue` for a body over 1 MB and waits a second for the answer before sending it
    anyway; .NET's clients do the same: the service tells them to go on as soon as the request is taken."""
    import socket

    url = serve(PlateService(FakeReader()))
    body = png()
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as s:
        s.sendall(b"POST /read HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: %d\r\n\r\n" % len(body))
        s.settimeout(0.5)  # well within curl's second
        assert s.recv(100).startswith(b"HTTP/1.0 100 Continue\r\n\r\n")
        s.settimeout(10)
        s.sendall(body)
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 200 OK") and b'"AB123CD"' in answer


@pytest.mark.parametrize("path, status", [("/nope", 404), ("/read", 413)])
def test_a_client_that_waits_for_100_continue_is_refused_at_once(serve, path, status):
    """A request refused on its head alone (a wrong path, a body over the limit) is answered at once: its client,
    waiting to be told to send the body, is not kept waiting out its second nor made to send it."""
    import socket

    url = serve(PlateService(FakeReader()), max_mb=0.001)
    with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as s:
        s.sendall(b"POST %s HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n"
                  % path.encode())
        s.settimeout(0.5)  # well within curl's second
        answer = b""
        while chunk := s.recv(65536):  # the whole answer, then the connection closed
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 %d " % status), answer[:40]


@pytest.mark.parametrize("request_, says", [
    (b"POST /read HTTP/1.0\r\nHost: x\r\nContent-Length: 100000\r\n\r\n" + b"x" * 10,
     "went away after 10 of its 100000 bytes"),
    (b"POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\nxy",
     "went away after 5 bytes of its image"),
    (b"POST /read HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n",
     "went away after 3 bytes of its image")])
def test_a_client_that_goes_away_mid_upload_is_one_log_line(serve, logged, request_, says):
    """A cancelled upload or a phone that lost its network: one warning, no answer tried, no traceback."""
    import socket

    reader = FakeReader()
    url = serve(PlateService(reader))

    def go_away():
        with socket.create_connection(("127.0.0.1", int(url.rsplit(":", 1)[1])), timeout=10) as s:
            s.sendall(request_)
            s.shutdown(socket.SHUT_WR)
            assert s.recv(100) == b""  # no answer: the server closed the connection
        return post(f"{url}/read", png())[0]  # and the service goes on

    lines, status = logged(go_away)
    assert status == 200 and reader.shapes == [(24, 80, 3)]
    assert [line for _, line in lines if "went away" in line] == [f"127.0.0.1: {says}"]
    assert not [line for level, line in lines if level == "ERROR"]


def test_a_connection_lost_while_answering_is_one_log_line(logged):
    from pipeline.serve_io import Server

    server = Server(("127.0.0.1", 0), handler_for(PlateService(FakeReader())))
    try:
        def fail():
            try:
                raise BrokenPipeError(32, "Broken pipe")
            except BrokenPipeError:
                server.handle_error(None, ("10.0.0.7", 5555))

        lines, _ = logged(fail)
    finally:
        server.server_close()
    assert lines == [("WARNING", "10.0.0.7: the connection was lost (Broken pipe)")]


def test_any_other_fault_of_a_request_is_logged_with_its_traceback():
    from loguru import logger

    from pipeline.serve_io import Server

    server = Server(("127.0.0.1", 0), handler_for(PlateService(FakeReader())))
    records = []
    sink = logger.add(lambda m: records.append(m.record), level="ERROR")
    try:
        try:
            raise KeyError("a fault of ours")
        except KeyError:
            server.handle_error(None, ("10.0.0.7", 5555))
    finally:
        logger.remove(sink)
        server.server_close()
    assert [r["message"] for r in records] == ["10.0.0.7: the request failed"]
    assert records[0]["exception"] is not None and records[0]["exception"].type is KeyError


def test_an_image_of_the_limit_is_taken_one_byte_more_is_refused(serve):
    url = serve(PlateService(FakeReader()), max_mb=0.001)
    assert post(f"{url}/read", b"x" * 1000)[0] == 400  # read, and found to be no image
    assert post(f"{url}/read", b"x" * 1001) == (413, {"error": "image of 1001 bytes: over the limit of 0.001 MB"})
    default = serve(PlateService(FakeReader()))
    assert post(f"{default}/read", b"x" * 20_000_001) == (
        413, {"error": "image of 20000001 bytes: over the limit of 20 MB"})


def png_header(w, h):
    """A PNG's bytes up to its first pixels: a header giving w x h px, which a few kB of deflate can fill."""
    import struct
    import zlib

    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(bytes(64))))


def test_an_image_of_more_pixels_than_accepted_is_refused_before_it_is_decoded(serve, monkeypatch, logged):
    """A small file can hold a huge image (a 2.6 MB PNG of 30000 x 30000 px took 23 GB to read): its header is
    measured first, and an image over --max-mp is a 413 naming it; one of the limit is read."""
    from PIL import Image

    import pipeline.serve_io as serve_io

    decoded = []
    real = serve_io.cv2.imdecode
    monkeypatch.setattr(serve_io.cv2, "imdecode", lambda *a: decoded.append(1) or real(*a))
    reader = FakeReader()
    url = serve(PlateService(reader, max_mp=0.02))
    lines, answer = logged(lambda: post(f"{url}/read?name=wide.png", png(100, 201)), "WARNING")
    assert answer == (413, {"error": "wide.png is 201 x 100 px (0 MP): over the 0.02 MP accepted (--max-mp)"})
    assert lines == [("WARNING", "127.0.0.1: wide.png is 201 x 100 px (0 MP): over the 0.02 MP accepted (--max-mp)")]
    assert decoded == [] and reader.shapes == []
    assert post(f"{url}/read", png(100, 200))[0] == 200 and reader.shapes == [(100, 200, 3)]
    default = serve(PlateService(reader))
    decoded.clear()
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)  # PIL's own limit, as Python has it
    assert post(f"{default}/read?name=bomb.png", png_header(12300, 12300)) == (
        413, {"error": "bomb.png is 12300 x 12300 px (151 MP): over the 150 MP accepted (--max-mp)"})
    status, answer = post(f"{default}/read", png_header(30000, 30000))  # past PIL's own limit
    assert (status, answer["error"]) == (
        413, "the request body holds over 179 MP: over the 150 MP accepted (--max-mp)")
    assert decoded == [] and len(reader.shapes) == 1
    assert post(f"{serve(PlateService(reader, max_mp=1000))}/read", png_header(30000, 30000))[1] == {
        "error": "the request body holds over 179 MP: more than PIL opens"}  # PIL's limit as it is in Python


def test_the_command_raises_pils_own_limit_to_its_max_mp_never_lowers_it_and_restores_it(monkeypatch):
    from PIL import Image

    import pipeline.serve_io as serve_io

    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 89_478_485)
    with serve_io.pil_allowing(150):
        assert Image.MAX_IMAGE_PIXELS == 150_000_000
        with serve_io.pil_allowing(20):
            assert Image.MAX_IMAGE_PIXELS == 150_000_000
        with serve_io.header(png_header(16000, 16000)) as im:  # 256 MP: under twice the limit, its header is read
            assert im.size == (16000, 16000)
        assert serve_io.check_pixels(png_header(12000, 12000), "a.png", 150) is None  # 144 MP
        with pytest.raises(serve_io.TooManyPixels, match="a.png holds over 300 MP: over the 150 MP accepted"):
            serve_io.check_pixels(png_header(20000, 20000), "a.png", 150)
    assert Image.MAX_IMAGE_PIXELS == 89_478_485
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", None)  # PIL's guard taken off by the user: left off
    with serve_io.pil_allowing(150):
        assert Image.MAX_IMAGE_PIXELS is None


def test_an_image_over_opencvs_own_limit_is_a_413_naming_it(serve, monkeypatch):
    """An image whose header PIL cannot read, of more pixels than OpenCV decodes: OpenCV's failed assertion told."""
    import pipeline.serve_io as serve_io

    def refuse(*a):
        raise cv2.error("OpenCV(5.1.0) loadsave.cpp:80: error: (-215:Assertion failed) pixels <= "
                        "CV_IO_MAX_IMAGE_PIXELS in function 'validateInputImageSize'")

    monkeypatch.setattr(serve_io.cv2, "imdecode", refuse)
    url = serve(PlateService(FakeReader()))
    assert post(f"{url}/read?name=huge.pfm", b"PF\n40000 30000\n-1.0\n") == (413, {
        "error": "huge.pfm cannot be decoded: more pixels than OpenCV reads, 1 gigapixel unless "
                 "OPENCV_IO_MAX_IMAGE_PIXELS is set"})


def test_posted_images_are_decoded_on_the_readers_thread_one_at_a_time(monkeypatch):
    """Clients' images are decoded where they are read, one at a time: four clients' huge images are not held
    decoded at once."""
    import pipeline.serve as serve_mod

    threads = []
    real = serve_mod.decode_image
    monkeypatch.setattr(serve_mod, "decode_image", lambda *a: threads.append(threading.current_thread().name)
                        or real(*a))
    reader = FakeReader()
    service = PlateService(reader)
    try:
        assert service.read(png(), "a.png")["reads"] and threads[0].startswith("plate-reader")
    finally:
        service.close()


def test_a_refused_request_is_answered_after_its_whole_body_is_read(serve):
    """An image far over the limit, or without the token, is read to its end and dropped: its client gets the
    answer rather than a connection reset half-way through sending."""
    reader = FakeReader()
    url = serve(PlateService(reader), max_mb=1, token="s3cret")
    big = b"x" * 8_000_000
    assert post(f"{url}/read", big, {"Authorization": "Bearer s3cret"})[0] == 413
    assert post(f"{url}/read", big) == (401, {"error": "missing or wrong Authorization: Bearer token"})
    assert reader.shapes == []


def test_health_counts_the_images_served(serve):
    url = serve(PlateService(FakeReader()))
    post(f"{url}/read", png())
    post(f"{url}/read", png())
    with urllib.request.urlopen(f"{url}/health", timeout=10) as r:
        assert json.loads(r.read()) == {"ok": True, "served": 2}


def test_the_command_serves_the_shipped_models_with_a_watchlist_and_appends_to_its_folder(tmp_path, monkeypatch,
                                                                                           capsys):
    """`python -m pipeline.serve --port 0 --out OUT watchlist=FILE rotate=180` (the camera that posts hung upside
    down), stopped by its server's shutdown: the reads go after an earlier run's."""
    import pipeline.serve as serve_module

    (tmp_path / "watch.txt").write_text("DB48SCF,stolen\n")
    out = tmp_path / "out"
    out.mkdir()
    earlier = json.dumps({"source": "before.jpg", "file_time_utc": "", "reads": []})
    (out / "reads.jsonl").write_text(earlier + "\n")
    made, up = [], threading.Event()

    def make(*args):
        made.append(make_server(*args))
        up.set()
        return made[0]

    monkeypatch.setattr(serve_module, "make_server", make)
    systemd = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)  # a Type=notify unit: told when it answers
    systemd.bind(str(tmp_path / "notify"))
    systemd.settimeout(120)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    status = []
    argv = ["--port", "0", "--out", str(out), f"watchlist={tmp_path / 'watch.txt'}", "rotate=180"]
    runner = threading.Thread(target=lambda: status.append(serve_module.main(argv)), daemon=True)
    runner.start()
    assert up.wait(120)
    with systemd:
        assert systemd.recv(64) == b"READY=1"
    port = made[0].server_address[1]
    try:
        upside_down = cv2.imencode(".jpg", cv2.rotate(cv2.imread(str(PHOTO)), cv2.ROTATE_180))[1].tobytes()
        code, answer = post(f"http://127.0.0.1:{port}/read?name=car.jpg", upside_down)
    finally:
        made[0].shutdown()
        runner.join(60)
    assert status == [0] and code == 200
    watched = {r["text"]: (r["watch"], r["watch_label"]) for r in answer["reads"]}
    assert watched["DB48SCF"] == ("DB48SCF", "stolen") and watched["B84EEE"] == ("", "")
    before, line = (out / "reads.jsonl").read_text().splitlines()
    line = json.loads(line)
    assert before == earlier and line["source"] == "car.jpg" and line["reads"] == answer["reads"]
    assert line["rotate"] == answer["rotate"] == 180
    assert (out / "reads.csv").read_text(encoding="utf-8-sig").splitlines()[0].endswith(",watch,watch_label")
    assert f"reading plates at http://127.0.0.1:{port}/read (POST an image; GET /health); Ctrl-C stops; reads " \
           f"appended to {out}" in capsys.readouterr().err


def test_a_refused_request_gets_its_refusal_and_nothing_after_it(serve):
    """Read to the connection's end: one 401 answer, no reads written after it (and to a health check, its one
    answer)."""
    url = serve(PlateService(FakeReader()), token="s3cret")
    refused = (401, {"error": "missing or wrong Authorization: Bearer token"})
    assert raw(url, b"GET /read HTTP/1.0\r\nHost: x\r\n\r\n") == refused
    assert raw(url, b"GET /health HTTP/1.0\r\nHost: x\r\n\r\n") == (200, {"ok": True})
    body = png()
    assert raw(url, b"POST /read HTTP/1.0\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % len(body) + body) == refused


def test_more_images_at_once_than_max_waiting_are_answered_busy_before_their_bodies(serve, logged):
    """Each image at the service (being sent or waiting its turn) is held in memory: over `max_waiting` of them, the
    next is told to come back (503, Retry-After), its body never taken."""
    entered, release, reader = threading.Event(), threading.Event(), FakeReader()

    def slow(image):  # the reader busy with the first image until released
        entered.set()
        release.wait(30)
        return reader(image)

    url = serve(PlateService(slow), max_waiting=1)
    answers = []
    held = threading.Thread(target=lambda: answers.append(post(f"{url}/read", png())[0]))
    held.start()
    assert entered.wait(30)  # the one image allowed is at the service
    req = urllib.request.Request(f"{url}/read", data=png(), method="POST")
    with pytest.raises(urllib.error.HTTPError) as exc:
        urllib.request.urlopen(req, timeout=30)
    busy = (exc.value.code, exc.value.headers["Retry-After"], json.loads(exc.value.read()))
    said, _ = logged(lambda: post(f"{url}/read", png()), "WARNING")
    release.set()
    held.join(30)
    assert busy == (503, "1", {"error": "busy: the most images at once (1) are being read or wait their turn; try "
                                        "again in a moment"})
    assert said == [("WARNING", "127.0.0.1: busy (--max-waiting 1 images at once): answered 503")]
    assert answers == [200] and post(f"{url}/read", png())[0] == 200  # room again


def test_clients_that_come_at_once_wait_to_be_taken_rather_than_be_refused():
    """socketserver's queue of 5 connections not yet taken had clients that came while the service was busy
    refused or reset (a burst of 64 photos of 8 MB: 16 to 27 of them, `bench/serve_burst.py`): 40 clients connect to
    a service that takes none of them yet, and all are queued."""
    server = make_server(PlateService(FakeReader()), "127.0.0.1", 0)
    queued = []
    try:
        for _ in range(40):
            s = socket.socket()
            s.settimeout(0.5)
            try:
                s.connect(server.server_address)
                queued.append(s)
            except OSError:
                s.close()
        assert len(queued) == 40
    finally:
        for s in queued:
            s.close()
        server.server_close()


@pytest.mark.parametrize("value, says", [("0", "0 is below 1"), ("many", "'many' is not a whole number")])
def test_max_waiting_is_a_whole_number_of_one_or_more(value, says, capsys):
    from pipeline.serve import main

    with pytest.raises(SystemExit) as exc:
        main(["--max-waiting", value])
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert exc.value.code == 2 and last.endswith(f"error: argument --max-waiting: {says}"), last


def test_a_read_that_never_ends_is_stuck_and_a_server_waiting_for_requests_is_not(never_stuck):
    """systemd's watchdog restarts the service where a watched work gives no sign of progress: an image whose read
    hangs (every request after it waits behind it) is one, named by the image; the server's loop waiting for
    requests goes round twice a second and is none."""
    from common.liveness import stuck

    release = threading.Event()

    class Hung(FakeReader):
        def __call__(self, image):
            release.wait(30)
            return super().__call__(image)

    service = PlateService(Hung())
    server = make_server(service, "127.0.0.1", 0)
    url = f"http://127.0.0.1:{server.server_address[1]}"
    t, longest = never_stuck(lambda: server.serve_forever(poll_interval=0.1), 0.6, 0.3)
    try:
        assert longest == 0
        threading.Thread(target=lambda: post(f"{url}/read?name=gate-1.jpg", png()), daemon=True).start()
        time.sleep(0.5)
        assert [w.name for w in stuck(0.3)] == ["reading the posted image gate-1.jpg"]
    finally:
        release.set()
        server.shutdown()
        t.join(10)
        server.server_close()
        service.close()
    assert stuck(0) == []
