"""Cameras, streams and standard input read as they come: reconnected when they drop, stall, hang or freeze; timed
by the clock; stopped while they wait."""
import dataclasses
import threading
import time

import cv2
import numpy as np
import pytest

from common.errors import UserError
from pipeline.live import LiveConfig, LiveSource
from pipeline.sources import open_source
from pipeline.types import Frame, SourceEvent


class FakeCapture:
    """Delivers `frames` frames, then fails every read (a dropped stream)."""

    def __init__(self, frames, value, opened=True):
        self.left, self.value, self.opened = frames, value, opened

    def isOpened(self):
        return self.opened

    def read(self):
        time.sleep(0.002)
        if self.left <= 0:
            return False, None
        self.left -= 1
        return True, np.full((8, 8, 3), self.value, np.uint8)

    def release(self):
        pass


def frames_and_events(src, until, timeout=10):
    """Iterate a live source until `until(values seen)`; returns the values seen and the events handed over."""
    seen, events = set(), []
    deadline = time.time() + timeout
    for item in src:
        if isinstance(item, SourceEvent):
            events.append(item)
        else:
            assert item.image.any()  # never a placeholder/black frame
            seen.add(int(item.image[0, 0, 0]))
        if until(seen) or time.time() > deadline:
            break
    src.close()
    return seen, events


def test_live_source_reconnects_after_a_drop():
    opened = []

    def opener(url, cfg):
        opened.append(url)
        if len(opened) == 2:
            return FakeCapture(0, 0, opened=False)  # the first reconnect attempt fails
        return FakeCapture(30, len(opened) * 50)

    src = LiveSource("rtsp://u:p@cam/1", LiveConfig(backoff_start_s=0.01, backoff_max_s=0.05), opener, max_frames=0)
    seen, events = frames_and_events(src, lambda seen: 150 in seen)
    assert seen >= {50, 150} and len(opened) >= 3
    assert [(e.kind, e.detail) for e in events[:2]] == [("lost", "read failed"), ("reconnected", "")]
    assert events == list(src.events)[:len(events)]  # handed over in the stream as they happened
    assert src.name == "rtsp://***@cam/1"


class Freezing:
    """A camera whose picture changes (its sensor's noise) for `live` frames, then is the same one for ever (its
    encoder hung: frames still come); its first pixel's value is `value`."""

    def __init__(self, live: int, value: int):
        self.live, self.value, self.rng = live, value, np.random.default_rng(value)

    def isOpened(self):
        return True

    def read(self):
        time.sleep(0.005)
        self.live -= 1
        img = np.full((32, 48, 3), 128, np.uint8)
        if self.live >= 0:
            img[1:] = self.rng.integers(100, 156, (31, 48, 3), dtype=np.uint8)
        img[0, 0, 0] = self.value
        return True, img

    def release(self):
        pass


@pytest.mark.parametrize("frozen_s, lost", [(0.3, True), (0.0, False)])
def test_a_stream_whose_picture_freezes_is_lost_and_reopened(frozen_s, lost):
    """Frames that keep coming, each the very same picture: a hung encoder or recorder channel, which the stall
    check (no frame) never saw."""
    opened = []

    def opener(url, cfg):
        opened.append(url)
        return Freezing(40, 50 * len(opened))  # each opening live for 0.2 s, then frozen

    src = LiveSource("rtsp://cam/1", LiveConfig(backoff_start_s=0.01, frozen_timeout_s=frozen_s), opener)
    seen, events = frames_and_events(src, lambda seen: 100 in seen, timeout=2)
    assert [(e.kind, e.detail) for e in events[:2]] == ([("lost", "the same picture for 0.3 s (a frozen stream)"),
                                                         ("reconnected", "")] if lost else [])
    assert (seen == {50, 100}) if lost else (seen == {50} and len(opened) == 1)


def test_a_picture_that_changes_is_never_frozen():
    noisy = Freezing(10**6, 50)
    src = LiveSource("rtsp://cam/1", LiveConfig(frozen_timeout_s=0.1), lambda url, cfg: noisy)
    seen, events = frames_and_events(src, lambda seen: False, timeout=0.6)
    assert seen == {50} and events == []


@pytest.mark.parametrize("max_fps", [20.0, 1.0, 0.0])
def test_max_fps_hands_on_a_cameras_frames_at_most_that_often(max_fps, no_gc_pauses):
    """A camera sending ~200 frames a second: with max_fps, frames are handed on at most that many a second (the CPU
    left to the machine's other cameras), each the newest; without, as fast as they are taken."""
    fast = Freezing(10**6, 50)
    src = LiveSource("rtsp://cam/1", LiveConfig(max_fps=max_fps), lambda url, cfg: fast)
    times = []
    deadline = time.monotonic() + 0.6
    for item in src:
        if isinstance(item, Frame):
            times.append(item.time_s)
        if time.monotonic() > deadline:
            break
    src.close()
    gaps = np.diff(times)
    assert len(times) >= 2 and 0 <= times[0] < 0.5  # timed from the source's start
    if max_fps:
        assert gaps.min() >= 1 / max_fps - 1e-3 and len(times) <= 0.65 * max_fps + 2
    else:
        assert gaps.min() < 0.02


def test_a_playback_whose_picture_freezes_ends(logged):
    url = "rtsp://nvr/Streaming/tracks/101?starttime=20261206T120000Z&endtime=20261206T121000Z"
    opened = []

    def read():
        src = LiveSource(url, LiveConfig(frozen_timeout_s=0.2), lambda u, c: opened.append(u) or Freezing(5, 50),
                         once=True)
        return list(src)

    lines, got = logged(read)
    assert len(opened) == 1 and got and not any(isinstance(x, SourceEvent) for x in got)
    assert ("INFO", f"{url}: the same picture for 0.2 s (a frozen stream): the playback ended (a recording's window: "
                    "not opened again)") in lines


def test_a_recorders_playback_ends_with_its_stream_and_is_not_played_again(logged):
    """An NVR's playback of a time window over RTSP ends when the window does: reopened, it played the window again
    from its start, every plate in it an event again, for ever."""
    from pipeline.addresses import is_playback

    opened = []

    def opener(url, cfg):
        opened.append(url)
        return FakeCapture(5, 70)

    url = "rtsp://u:p@nvr/Streaming/tracks/101?starttime=20261206T120000Z&endtime=20261206T121000Z"
    assert is_playback(url) and is_playback("rtsp://nvr/cam/playback?channel=1&StartTime=2026_12_06&End_Time=2026")
    assert not any(map(is_playback, ("rtsp://cam/live?channel=1", "rtsp://nvr/x?starttime=1", "http://nvr/x?starttime"
                                     "=1&endtime=2", "rtsp://nvr/x?mystarttime=1&endtime=2")))

    def read():
        src = LiveSource(url, LiveConfig(backoff_start_s=0.01, backoff_max_s=0.02), opener, once=True)
        got = list(src)
        src.close()
        return got

    lines, got = logged(read)
    assert len(opened) == 1 and 1 <= len(got) <= 5 and not any(isinstance(x, SourceEvent) for x in got)
    assert ("INFO", "rtsp://***@nvr/Streaming/tracks/101?starttime=20261206T120000Z&endtime=20261206T121000Z: the "
                    "playback ended (a recording's window: not opened again)") in lines


def test_back_off_grows_while_a_reopened_stream_gives_no_frame():
    """Opening works but every read fails: the delay between attempts doubles up to the maximum, not 1 s for ever."""
    opened = []

    def opener(url, cfg):
        opened.append(time.monotonic())
        return FakeCapture(3 if len(opened) == 1 else 0, 60)

    src = LiveSource(0, LiveConfig(backoff_start_s=0.05, backoff_max_s=0.4), opener)
    time.sleep(1.6)
    src.close()
    gaps = [b - a for a, b in zip(opened[1:], opened[2:])]
    assert 4 <= len(opened) <= 8 and gaps[0] < 0.2 and gaps[-1] > 0.3


class HangingCapture(FakeCapture):
    """Delivers `frames` frames, then its read blocks for `hang_s` (a backend that ignores the read timeout)."""

    def __init__(self, frames, value, hang_s):
        super().__init__(frames, value)
        self.hang_s, self.released = hang_s, threading.Event()

    def read(self):
        if self.left <= 0:
            time.sleep(self.hang_s)
            return False, None
        return super().read()

    def release(self):
        self.released.set()


def test_a_hung_read_is_abandoned_and_the_stream_reopened():
    caps = []

    def opener(url, cfg):
        caps.append(HangingCapture(20, 50, hang_s=1.5) if not caps else FakeCapture(1000, 100))
        return caps[-1]

    cfg = LiveConfig(stall_timeout_s=0.3, backoff_start_s=0.01, backoff_max_s=0.05)
    t0 = time.time()
    seen, events = frames_and_events(LiveSource("rtsp://cam/2", cfg, opener), lambda seen: 100 in seen)
    assert seen >= {50, 100} and time.time() - t0 < 5
    assert [(e.kind, e.detail) for e in events[:2]] == [("lost", "read hung"), ("reconnected", "")]
    assert not caps[0].released.is_set()  # never released under a read in progress
    assert caps[0].released.wait(3)  # but once its read returns


def test_a_playback_whose_read_hangs_ends_rather_than_plays_its_window_again(logged):
    """A hung read is abandoned at the stall timeout and the stream reopened: a recorder's playback, reopened,
    played its window again from the start (its plates events again)."""
    opened = []

    def opener(url, cfg):
        opened.append(url)
        return HangingCapture(3, 50, hang_s=1.5) if len(opened) == 1 else FakeCapture(1000, 100)

    url = "rtsp://nvr/Streaming/tracks/101?starttime=20261206T120000Z&endtime=20261206T121000Z"
    cfg = LiveConfig(stall_timeout_s=0.3, backoff_start_s=0.01, backoff_max_s=0.05)

    def read():
        src = LiveSource(url, cfg, opener, once=True)
        seen, _ = frames_and_events(src, lambda seen: 100 in seen, timeout=5)
        src.close()
        return seen

    t0 = time.time()
    lines, seen = logged(read)
    assert seen == {50} and len(opened) == 1 and time.time() - t0 < 1.4
    assert ("INFO", f"{url}: no frame for 0.3 s: the playback ended (a recording's window: not opened again)") in lines


class NotATerminal:
    """Standard input with a pipe behind it."""

    def isatty(self):
        return False


def test_a_stream_piped_into_standard_input_is_read_once_as_it_comes(monkeypatch, logged):
    """`rpicam-vid -t 0 --inline -o - | python run_pipeline.py -`: FFmpeg's `pipe:0`, read as a camera's stream (newest
    frame), never reopened (what it took from the pipe is gone), nor retried at start."""
    from pipeline.addresses import is_live
    from pipeline.live import StdinSource

    monkeypatch.setattr("sys.stdin", NotATerminal())
    opened = []

    def opener(url, cfg):
        opened.append((url, cfg.open_retry_s))
        return FakeCapture(5, 70)

    def read():
        src = StdinSource(LiveConfig(open_retry_s=-1, backoff_start_s=0.01), opener=opener)
        got = list(src)
        src.close()
        return src, got

    lines, (src, got) = logged(read)
    assert opened == [("pipe:0", 0)] and src.name == "stdin" and is_live("-") and not is_live("./-")
    assert 1 <= len(got) <= 5 and all(isinstance(x, Frame) and x.source == "stdin" for x in got)
    assert ("INFO", "stdin: standard input ended") in lines
    assert not [m for level, m in lines if level == "WARNING"]  # read as fast as it came: nothing dropped


def test_standard_input_refused_in_one_line(monkeypatch):
    """Nothing piped in (a terminal, or no standard input at all), not a stream, or a stream without a frame: one line
    saying what can be piped; a failed opening is not retried (open_retry_s), the pipe's first bytes being gone."""
    from pipeline.live import StdinSource
    from pipeline.sources import open_source

    class Terminal:
        def isatty(self):
            return True

    for stdin in (Terminal(), None):
        monkeypatch.setattr("sys.stdin", stdin)
        with pytest.raises(UserError, match=r"^source - reads a video stream piped into standard input, and none is "
                                            r"\(rpicam-vid -t 0 --inline -o - \| python run_pipeline.py -\)"):
            open_source("-")
    monkeypatch.setattr("sys.stdin", NotATerminal())
    opened = []

    def opener(url, cfg):
        opened.append(url)
        return FakeCapture(0, 70, opened=len(opened) > 1)

    piped = r"\(a stream can be piped: MPEG-TS, MJPEG, raw H.264 or HEVC; an MP4 or MOV cannot"
    with pytest.raises(UserError, match=r"^standard input holds no video stream FFmpeg can read " + piped):
        StdinSource(LiveConfig(open_retry_s=5, backoff_start_s=0.01), opener=opener)
    assert len(opened) == 1
    src = StdinSource(LiveConfig(), opener=opener)  # opened, but no frame comes (a piped MP4)
    with pytest.raises(UserError, match=r"^standard input ended before its first frame " + piped):
        list(src)
    src.close()


def test_standard_input_stopped_before_its_first_frame_is_no_error(monkeypatch):
    """Ctrl-C (the run's stop) or close while a piped stream has given nothing yet: it stops; it did not end before
    its first frame."""
    from pipeline.live import StdinSource

    monkeypatch.setattr("sys.stdin", NotATerminal())
    for how in ("stop", "close"):
        stop = threading.Event()
        src = StdinSource(LiveConfig(), stop=stop, opener=lambda url, cfg: HangingCapture(0, 70, hang_s=0.6))
        threading.Timer(0.2, stop.set if how == "stop" else src.close).start()
        assert list(src) == []
        src.close()


def test_a_recording_piped_in_says_its_frames_were_dropped(monkeypatch, logged):
    """Frames that come faster than they are read are dropped, as a camera's are: a recording piped in loses most, and
    says that its file is read whole."""
    from pipeline.live import StdinSource

    monkeypatch.setattr("sys.stdin", NotATerminal())

    def read(cfg):
        src = StdinSource(cfg, opener=lambda url, cfg: FakeCapture(60, 70))
        got = []
        for x in src:
            got.append(x)
            time.sleep(0.05)
        src.close()
        return src, got

    lines, (src, got) = logged(lambda: read(LiveConfig()))
    assert src.dropped > len(got) and src.dropped + len(got) == 60
    assert ("WARNING", f"stdin: {src.dropped} of 60 frames were dropped as stale (a stream piped in is read as a "
                       "camera's, as it comes): a recording is read whole given as its file") in lines
    lines, (src, got) = logged(lambda: read(LiveConfig(max_fps=5)), "WARNING")  # left by the cap asked for: unsaid
    assert src.dropped > len(got) and lines == []


@pytest.mark.parametrize("follows", [True, False])
def test_a_live_source_follows_a_system_clock_that_is_set(monkeypatch, follows):
    """The system clock set an hour on while a camera runs (NTP after a boot without a real-time clock): one `clock`
    event with the step, and the source's clock moved by it; not where the times were given (a playback's start)."""
    src = LiveSource("rtsp://cam/1", LiveConfig(), lambda url, cfg: FakeCapture(1000, 70))
    if not follows:
        src.follows_clock = False
    before, real = src.clock, time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600.0)
    items = []
    for item in src:
        items.append(item)
        if len(items) >= 6:
            break
    src.close()
    steps = [x for x in items if isinstance(x, SourceEvent)]
    if follows:
        assert len(steps) == 1 and steps[0].kind == "clock" and abs(float(steps[0].detail) - 3600) < 1
        assert 0 <= steps[0].time_s < 5  # seconds from the source's start, as its frames'
        assert abs(src.clock - before - 3600) < 1
    else:
        assert steps == [] and src.clock == before


def test_a_clock_that_runs_on_as_the_monotonic_one_was_not_set(monkeypatch):
    """Only the system clock parting from the monotonic one by over 2 s is a step: both on by 100 s is none, 1.5 s
    apart is none (slewed, or read late), 3 s back is one."""
    from pipeline.types import clock_step

    t, m = time.time(), time.monotonic()
    for wall, step in ((100.0, 0.0), (101.5, 0.0), (97.0, -3.0)):
        monkeypatch.setattr(time, "time", lambda: t + wall)
        monkeypatch.setattr(time, "monotonic", lambda: m + 100.0)
        got = clock_step(t, m)
        monkeypatch.undo()
        assert got == pytest.approx(step)


def test_stop_ends_a_live_source_that_is_reconnecting():
    """SIGTERM / Ctrl-C during an outage: iteration ends instead of waiting for the stream. No wall-clock bound:
    the run is stopped from the third open (the second reconnect attempt), once the outage has been reported."""
    stop, lost_seen = threading.Event(), threading.Event()
    opened, items = [], []

    def opener(url, cfg):
        opened.append(url)
        if len(opened) == 3:
            lost_seen.wait(timeout=30)
            stop.set()
        return FakeCapture(5, 80, opened=len(opened) == 1)  # the stream never comes back

    def consume():
        for item in src:
            items.append(item)
            if isinstance(item, SourceEvent) and item.kind == "lost":
                lost_seen.set()

    src = LiveSource(0, LiveConfig(backoff_start_s=0.05, backoff_max_s=0.1), opener, stop=stop)
    consumer = threading.Thread(target=consume, daemon=True)
    consumer.start()
    consumer.join(timeout=60)  # without the stop it would wait for the stream for ever
    src.close()
    assert not consumer.is_alive() and stop.is_set() and len(opened) >= 3
    assert sum(isinstance(i, Frame) for i in items) >= 1
    assert [(i.kind, i.detail) for i in items if isinstance(i, SourceEvent)] == [("lost", "read failed")]


def test_unreachable_camera():
    opened = []
    with pytest.raises(UserError, match=r"^cannot open camera/stream rtsp://\*\*\*@nowhere/x$"):
        LiveSource("rtsp://a:b@nowhere/x", LiveConfig(),
                   lambda url, cfg: opened.append(url) or FakeCapture(0, 0, opened=False))
    assert len(opened) == 1  # open_retry_s 0: said at once


def late_camera(opens_on: int):
    """(the times it was tried, an opener of a camera that opens on try `opens_on`)."""
    tries: list[float] = []

    def opener(url, cfg):
        tries.append(time.monotonic())
        return FakeCapture(5, 7, opened=len(tries) >= opens_on)

    return tries, opener


def test_a_camera_that_boots_late_is_waited_for_with_open_retry_s():
    """A positive open_retry_s waits that long for the camera before the run begins; -1 waits without end, the run
    going on meanwhile as with a stream lost: `not opened yet` first, then `reconnected` once it opens."""
    tries, opener = late_camera(3)
    src = LiveSource(0, LiveConfig(backoff_start_s=0.02, backoff_max_s=0.04, open_retry_s=5), opener, max_frames=2)
    try:
        assert len(tries) == 3 and tries[2] - tries[0] >= 0.06  # waited 0.02, then 0.04
        assert [int(f.image[0, 0, 0]) if isinstance(f, Frame) else f.kind for f in src][:1] == [7]
    finally:
        src.close()
    tries, opener = late_camera(3)
    src = LiveSource(0, LiveConfig(backoff_start_s=0.02, backoff_max_s=0.04, open_retry_s=-1), opener, max_frames=2)
    try:
        assert len(tries) == 1  # the run is not held up by it
        items = [(f.kind, f.detail) if isinstance(f, SourceEvent) else int(f.image[0, 0, 0]) for f in src]
        assert items == [("lost", "not opened yet"), ("reconnected", ""), 7, 7]
        assert len(tries) == 3 and tries[2] - tries[0] >= 0.06  # waited 0.02, then 0.04
    finally:
        src.close()
    never = []
    with pytest.raises(UserError, match=r"^cannot open camera/stream camera1 \(retried for 0.1 s\)$"):
        LiveSource(1, LiveConfig(backoff_start_s=0.02, backoff_max_s=0.02, open_retry_s=0.1),
                   lambda url, cfg: never.append(url) or FakeCapture(0, 0, opened=False))
    assert len(never) >= 3  # tried again every 0.02 s until 0.1 s had passed


def test_a_run_stopped_while_waiting_for_a_camera_ends_in_one_line():
    """Stopped before the run began (open_retry_s > 0): one line; stopped while a camera is waited for without end
    (-1): its run ends as a stopped one does, having told only that it was not opened."""
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    with pytest.raises(UserError, match=r"^stopped before camera/stream camera2 opened$"):
        LiveSource(2, LiveConfig(backoff_start_s=0.05, backoff_max_s=0.05, open_retry_s=60),
                   lambda url, cfg: FakeCapture(0, 0, opened=False), stop=stop)
    stop = threading.Event()
    src = LiveSource(2, LiveConfig(backoff_start_s=0.05, backoff_max_s=0.05, open_retry_s=-1),
                     lambda url, cfg: FakeCapture(0, 0, opened=False), stop=stop)
    threading.Timer(0.3, stop.set).start()
    start = time.monotonic()
    assert [(e.kind, e.detail) for e in src] == [("lost", "not opened yet")]
    assert 0.25 < time.monotonic() - start < 2
    src.close()


def mjpeg_camera(serving: threading.Event):
    """An HTTP request handler that serves an MJPEG camera's stream (a grey frame every 50 ms) while `serving` is set,
    as a cheap IP camera or a restreamer does."""
    from http.server import BaseHTTPRequestHandler

    jpg = cv2.imencode(".jpg", np.full((48, 64, 3), 90, np.uint8))[1].tobytes()
    part = b"--f\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n%s\r\n" % (len(jpg), jpg)

    class Camera(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=f")
            self.end_headers()
            try:
                while serving.is_set():
                    self.wfile.write(part)
                    time.sleep(0.05)
            except OSError:
                pass

        def log_message(self, *args):
            pass

    return Camera


def test_a_real_http_stream_is_read_lost_and_reconnected():
    """OpenCV's own FFmpeg reader on an MJPEG camera served on loopback (not a fake capture): frames come, the
    camera going away is a `lost` event, and its return a `reconnected` one with frames again."""
    import socket
    from http.server import ThreadingHTTPServer

    serving = threading.Event()
    Camera = mjpeg_camera(serving)

    with socket.socket() as s:  # a free port
        try:
            s.bind(("127.0.0.1", 0))
        except OSError:
            pytest.skip("no loopback interface to serve a camera on")
        port = s.getsockname()[1]

    def serve():
        server = ThreadingHTTPServer(("127.0.0.1", port), Camera)
        server.daemon_threads = True
        serving.set()
        threading.Thread(target=server.serve_forever, daemon=True).start()
        return server

    server = serve()
    cfg = LiveConfig(open_timeout_s=3, read_timeout_s=1, stall_timeout_s=2, backoff_start_s=0.2, backoff_max_s=0.5)
    src = LiveSource(f"http://127.0.0.1:{port}/cam", cfg)
    seen, deadline = [], time.monotonic() + 40
    try:
        for item in src:
            seen.append("frame" if isinstance(item, Frame) else item.kind)
            if seen.count("frame") == 5 and "lost" not in seen:  # the camera goes away
                serving.clear()
                server.shutdown()
                server.server_close()
            if seen[-1] == "lost":  # and comes back
                server = serve()
            if "reconnected" in seen and seen[seen.index("reconnected"):].count("frame") >= 3:
                break
            assert time.monotonic() < deadline, seen
    finally:
        src.close()
        serving.clear()
        server.shutdown()
        server.server_close()
    kinds = [k for i, k in enumerate(seen) if k != "frame" or seen[i - 1:i] != ["frame"]]  # runs of frames as one
    assert kinds[:4] == ["frame", "lost", "reconnected", "frame"], seen


@pytest.mark.parametrize("reports, fps", [(15.0, 15.0), (90000.0, 0.0), (0.0, 0.0), (None, 0.0)])
def test_a_live_source_takes_the_frame_rate_its_camera_reports(steady_camera, reports, fps):
    """A camera's own rate is what its annotated video is written at; a stream's 90 kHz clock, none, or a stand-in
    without the property leave it to the default."""
    class Reporting(steady_camera):
        def get(self, prop):
            if reports is None:
                raise AttributeError("get")
            return reports if prop == cv2.CAP_PROP_FPS else 0.0

    src = LiveSource(3, LiveConfig(), lambda url, cfg: Reporting(0.01), max_frames=1)
    try:
        assert src.fps == fps
    finally:
        src.close()


def test_a_live_config_built_in_python_is_the_shipped_pipeline_configs():
    from pipeline.config import PipelineConfig

    shipped = PipelineConfig()  # its defaults are configs/pipeline.yaml's (tests/test_configs.py)
    assert LiveConfig() == LiveConfig(*(getattr(shipped, f.name) for f in dataclasses.fields(LiveConfig)))
    with pytest.raises(dataclasses.FrozenInstanceError):
        LiveConfig().stall_timeout_s = 1.0  # type: ignore[misc]


def test_a_stream_is_opened_with_its_timeouts_in_ms_and_a_camera_by_its_index(monkeypatch):
    from pipeline.live import open_live

    calls = []
    monkeypatch.setattr(cv2, "VideoCapture", lambda *args: calls.append(args))
    open_live("rtsp://cam/1", LiveConfig(open_timeout_s=2.5, read_timeout_s=4.0))
    open_live(0, LiveConfig())
    assert calls == [("rtsp://cam/1", cv2.CAP_FFMPEG,
                      [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, 2500, cv2.CAP_PROP_READ_TIMEOUT_MSEC, 4000]), (0,)]


class PacedCamera:
    """A camera whose next frame is read only once the last one was taken: no frame is ever dropped."""

    def __init__(self) -> None:
        self.taken = threading.Semaphore(1)

    def isOpened(self):
        return True

    def read(self):
        if not self.taken.acquire(timeout=0.2):
            return True, None  # nothing new yet (a frame that does not decode, not a drop)
        return True, np.full((8, 8, 3), 40, np.uint8)

    def release(self):
        pass


def test_live_frames_are_numbered_from_0_and_max_frames_ends_them():
    cam = PacedCamera()
    src = LiveSource(0, LiveConfig(), lambda url, cfg: cam, max_frames=3)
    frames = []
    try:
        for f in src:
            frames.append(f)
            cam.taken.release()
    finally:
        src.close()
    assert [f.index for f in frames] == [0, 1, 2] and src.dropped == 0 and src.total == 0 and src.name == "camera0"


@pytest.mark.parametrize("reports, fps", [(0.5, 0.0), (1.0, 1.0), (120.0, 120.0), (121.0, 0.0), (200.0, 0.0)])
def test_a_camera_rate_is_taken_from_1_to_120_fps(reports, fps):
    from pipeline.live import reported_fps

    assert reported_fps(type("Cap", (), {"get": lambda self, prop: reports})()) == fps


def test_a_frame_from_before_a_drop_never_comes_after_its_loss_and_is_counted_dropped():
    """The consumer comes late: the one frame read before the stream failed is stale by then."""
    opened = []

    def opener(url, cfg):
        opened.append(url)
        return FakeCapture(1, 70, opened=len(opened) == 1)  # one frame, then the stream is gone for good

    stop = threading.Event()
    src = LiveSource(0, LiveConfig(backoff_start_s=0.05, backoff_max_s=0.05), opener, stop=stop)
    time.sleep(0.3)
    threading.Timer(0.5, stop.set).start()
    try:
        items = list(src)  # until the stop, 0.5 s on
    finally:
        src.close()
    assert [(i.kind, i.detail) for i in items] == [("lost", "read failed")] and src.dropped == 1


class Silent(FakeCapture):
    """Delivers `frames` frames, then says each read went well but gives no image (a stream gone quiet)."""

    def read(self):
        ok, img = super().read()
        return True, img


def test_a_stream_that_gives_no_image_is_lost_as_stalled_after_the_stall_timeout():
    src = LiveSource("rtsp://cam/3", LiveConfig(stall_timeout_s=0.3, backoff_start_s=5, backoff_max_s=5),
                     lambda url, cfg: Silent(2, 60))
    seen, events = frames_and_events(src, lambda seen: bool(src.events), timeout=5)
    assert seen == {60} and [(e.kind, e.detail) for e in events] == [("lost", "stalled")]
    assert 0.28 <= events[0].time_s < 5 and events[0].time_s == round(events[0].time_s, 3)


class Raising(FakeCapture):
    """Delivers `frames` frames, then its backend raises on each read."""

    def read(self):
        if self.left <= 0:
            raise cv2.error("backend gone")
        return super().read()


def test_a_read_that_raises_is_a_failed_read():
    src = LiveSource(0, LiveConfig(stall_timeout_s=30, backoff_start_s=5, backoff_max_s=5),
                     lambda url, cfg: Raising(2, 60))
    _, events = frames_and_events(src, lambda seen: bool(src.events), timeout=5)
    assert [(e.kind, e.detail) for e in events] == [("lost", "read failed")]


def test_frames_a_slow_consumer_did_not_take_are_counted_dropped():
    cam = FakeCapture(10**9, 30)  # a fast camera (a frame every 2 ms)
    src = LiveSource(0, LiveConfig(), lambda url, cfg: cam)
    taken = 0
    try:
        for item in src:
            taken += 1
            time.sleep(0.1)
            if taken == 3:
                break
    finally:
        src.close()
    # the newest frame may be waiting, and one more read when the source was closed, not dropped: neither counted
    assert src.dropped > 5 and 10**9 - cam.left - taken - src.dropped in (0, 1, 2)


def test_a_camera_that_boots_late_is_tried_again_with_a_doubling_wait(no_gc_pauses):
    tries, opener = late_camera(4)
    src = LiveSource(0, LiveConfig(backoff_start_s=0.02, backoff_max_s=1.0, open_retry_s=-1), opener, max_frames=1)
    assert [type(item) for item in src] == [SourceEvent, SourceEvent, Frame]  # not opened yet, opened, a frame
    src.close()
    assert len(tries) == 4 and 0.14 <= tries[3] - tries[0] < 0.3  # 0.02 + 0.04 + 0.08


def test_a_camera_that_stays_down_is_told_again_every_ten_minutes(monkeypatch, logged):
    """A camera waited for from the start whose address is wrong, or one unplugged for good, was one line at the start
    (or at its loss) and then nothing, for months: it is told again every `STILL_DOWN_EVERY_S`, until it is back."""
    import pipeline.live as live

    monkeypatch.setattr(live, "STILL_DOWN_EVERY_S", 0.15)
    cfg = LiveConfig(open_retry_s=-1, backoff_start_s=0.02, backoff_max_s=0.02)
    opened = []

    def late_then_never(url, c):  # not opened at the start, then at the second try: 3 frames, dropped for good
        opened.append(url)
        return FakeCapture(3, 60, opened=len(opened) == 2)

    def run(src, losses=1):  # to its loss, then 0.7 s down
        items = []
        for item in src:
            items.append(item)
            if isinstance(item, SourceEvent) and item.kind == "lost" and sum(
                    isinstance(i, SourceEvent) and i.kind == "lost" for i in items) == losses:
                time.sleep(0.7)
                break
        src.close()
        return items

    lines, _ = logged(lambda: run(LiveSource("rtsp://cam/12", cfg, lambda url, c: FakeCapture(0, 0, opened=False))))
    told = [m for level, m in lines if level == "WARNING"]
    assert 2 <= len(told) <= 5 and set(told) == {"rtsp://cam/12: not opened yet after 0 min; trying again every "
                                                 "0.02 s"}
    lines, items = logged(lambda: run(LiveSource("rtsp://cam/13", cfg, late_then_never), losses=2))
    told = [m for level, m in lines if level == "WARNING"]
    assert 2 <= len(told) <= 5 and set(told) == {"rtsp://cam/13: still lost after 0 min; trying again every 0.02 s"}
    assert len(opened) > 10 and sum(isinstance(i, Frame) for i in items) == 3


def test_a_source_lost_says_it_is_still_down_every_few_seconds_until_it_is_back(monkeypatch):
    """While a camera is lost no frame comes, and its run had nothing to keep its status (summary.json) current by:
    a `down` event comes every `DOWN_EVERY_S` while it is lost, none once it is back."""
    import pipeline.live as live

    monkeypatch.setattr(live, "DOWN_EVERY_S", 0.1)
    tries, opener = late_camera(3)  # tried at 0, 0.5 and 1 s: up at the third (a wait for a frame: 0.25 s at most)
    src = LiveSource(0, LiveConfig(open_retry_s=-1, backoff_start_s=0.5, backoff_max_s=0.5), opener, max_frames=3)
    try:
        items = list(src)
    finally:
        src.close()
    kinds = [item.kind if isinstance(item, SourceEvent) else "frame" for item in items]
    back = kinds.index("reconnected")
    downs = [item.time_s for item in items[1:back]]  # the source's own seconds, as its other events'
    assert downs == sorted(downs) and 0.1 <= downs[0] and downs[-1] < 2
    assert kinds[0] == "lost" and 2 <= back - 1 <= 5 and set(kinds[1:back]) == {"down"}
    assert kinds[back + 1:] == ["frame"] * 3


def test_a_camera_not_up_yet_or_gone_quiet_is_waited_for_without_seeming_hung(never_stuck):
    """systemd's watchdog (`WatchdogSec=`) restarts a service whose source gives no sign of progress: a camera that
    boots after the server (opened again with the back-off, open_retry_s=-1) and one that gives no frame for a
    while are waits, not hangs, and say so as they wait."""
    opened, stop = [], threading.Event()

    def booting(url, cfg):
        opened.append(url)
        return FakeCapture(1000, 60, opened=len(opened) > 3)

    cfg = LiveConfig(open_retry_s=-1, backoff_start_s=0.5, backoff_max_s=0.5, stall_timeout_s=30)
    booted = LiveSource("rtsp://cam/9", cfg, booting, stop=stop, max_frames=1)
    t, longest = never_stuck(lambda: [item for item in booted], 1.2, 0.25)
    t.join(10)
    assert longest == 0 and len(opened) == 4
    booted.close()

    quiet = LiveSource("rtsp://cam/10", cfg, lambda url, c: Silent(1, 60), stop=stop)
    t, longest = never_stuck(lambda: [item for item in quiet], 1.2, 0.4)
    stop.set()
    t.join(10)
    quiet.close()
    assert longest == 0


def test_what_a_camera_waits_for_is_told_while_it_waits():
    """`systemctl status` (through `common.liveness.doings`): a camera not up yet is `waiting for the camera to open`,
    a stream lost `reconnecting (read failed)`, and neither once it opens or comes back."""
    from common.liveness import doings, watching

    opened, events = [], []

    def camera(url, cfg):
        opened.append(url)
        return FakeCapture(3, 60, opened=len(opened) > 2)  # up at the third try; 3 frames, then dropped

    def run():
        with watching("cam"):
            src = LiveSource("rtsp://cam/11", LiveConfig(open_retry_s=-1, backoff_start_s=0.3, backoff_max_s=0.3,
                                                         stall_timeout_s=30), camera)
            events.append(("open", doings()))
            for item in src:
                if isinstance(item, SourceEvent):
                    events.append((item.kind, doings()))
                    if item.kind == "reconnected" and len(events) > 3:
                        break
            src.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(0.15)  # in the first back-off before it opens
    waiting = doings()
    t.join(10)
    assert waiting == {"cam": "waiting for the camera to open"}
    assert events == [("open", {}), ("lost", {"cam": "waiting for the camera to open"}), ("reconnected", {}),
                      ("lost", {"cam": "reconnecting (read failed)"}), ("reconnected", {})]
