"""Video files on a web server (`https://host/rec/gate.mp4`): read to their end as files on disk are, not taken for
live streams, which are reconnected when they end (such a file was read again and again, its frames dropped)."""
import os
import re
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from pipeline.addresses import is_live, is_playlist, is_remote_file
from pipeline.live import LiveSource
from pipeline.sources import open_source
from tests.pipeline.test_live import mjpeg_camera
from tests.pipeline.test_sources import numbered_video, one_plate_models

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


class RangeFiles(SimpleHTTPRequestHandler):
    """A folder's files served with byte ranges, as a web server or a bucket serves them (FFmpeg reads an MP4 whose
    movie header is at its end by asking for that range first; Python's own handler sends the whole file)."""

    def do_GET(self):
        path = self.translate_path(self.path.split("?")[0])
        if not os.path.isfile(path):
            self.send_error(404)
            return
        size = os.path.getsize(path)
        asked = re.match(r"bytes=(\d+)-(\d*)$", self.headers.get("Range", ""))
        start, end = (int(asked.group(1)), int(asked.group(2) or size - 1)) if asked else (0, size - 1)
        with open(path, "rb") as f:
            f.seek(start)
            data = f.read(end - start + 1)
        self.send_response(206 if asked else 200)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(len(data)))
        if asked:
            self.send_header("Content-Range", f"bytes {start}-{end}/{size}")
        self.end_headers()
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # FFmpeg closes a range it has read enough of
            pass

    def log_message(self, *args):
        pass


@pytest.fixture
def web(tmp_path):
    """A loopback web server of `tmp_path/www`: (the folder, its base URL)."""
    www = tmp_path / "www"
    www.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(RangeFiles, directory=str(www)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield www, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("spec, remote", [
    ("https://bucket.example/rec/gate.mp4?X-Amz-Signature=ab12", True), ("HTTP://NVR/EXPORT/CAM1.MOV", True),
    ("http://nvr/clips/a%20b.mkv#t=10", True),
    ("http://cam/video.mjpg", False), ("http://cam/axis-cgi/mjpg/video.cgi", False),
    ("http://media/live/cam.flv", False), ("http://encoder/live.ts", False),  # HTTP-FLV and MPEG-TS live streams
    ("rtsp://nvr/playback/gate.mp4", False), ("http://cam/stream?file=a.mp4", False), ("clip.mp4", False),
    ("http://nvr/export/ch01.dav", True), ("https://h/rec/00001.MTS", True), ("http://h/v/VID_1.3gp", True),
    ("http://pi:8000/stream.h264", False), ("http://cam/mjpg/video.mjpeg", False),  # a camera's live streams
])
def test_a_url_of_a_video_file_is_a_file_not_a_live_stream(spec, remote):
    assert is_remote_file(spec) is remote
    assert is_live(spec) is (not remote and "://" in spec)


@pytest.mark.parametrize("spec, playlist", [
    ("https://cloud/rec/gate.m3u8?token=1", True), ("HTTP://CAM/LIVE.M3U8", True),
    ("http://cam/video.mjpg", False), ("rtsp://cam/a.m3u8", False), ("rec/gate.m3u8", False),
])
def test_an_hls_playlists_url_is_told_apart(spec, playlist):
    assert is_playlist(spec) is playlist


def test_a_video_file_on_a_web_server_is_read_to_its_end_as_a_file_is(web, tmp_path):
    from pipeline.app import run_video
    from pipeline.settings import load_configs

    www, base = web
    numbered_video(www / "gate cam.mp4")  # OpenCV writes the movie header last: FFmpeg asks for ranges
    url = f"{base}/gate%20cam.mp4?signature=ab12"
    args = [f"output_dir={tmp_path / 'out'}", "progress=false", "motion_gate=false", "video_out=false"]
    stop = threading.Event()
    timer = threading.Timer(60, stop.set)  # taken for a stream, it was read again and again
    timer.start()
    try:
        whole = run_video(url, load_configs(CONFIGS, args), stop, *one_plate_models())
        window = run_video(url, load_configs(CONFIGS, args + ["start_s=1.5"]), stop, *one_plate_models())
    finally:
        timer.cancel()
    assert (whole["source"], whole["frames"], whole["events"], whole["stopped"]) == ("gate cam.mp4", 20, 1, False)
    assert (window["frames"], window["stopped"]) == (5, False)
    assert (tmp_path / "out" / "gate cam" / "events.jsonl").read_text().count("\n") == 2  # named after the file


def test_a_video_file_the_server_does_not_have_is_one_line_without_the_links_signature(web):
    _, base = web
    with pytest.raises(UserError) as exc:
        open_source(f"http://user:pw@{base.split('://')[1]}/nope.mp4?signature=secret")
    assert str(exc.value) == f"cannot open video (corrupt or unsupported): http://***@{base.split('://')[1]}/nope.mp4"


def test_a_live_stream_served_under_a_files_name_is_read_as_a_stream(logged):
    """A restreamer's `/api/stream.mp4?src=cam`: FFmpeg gives it no length, so it is a stream (reconnected when it
    drops, stale frames dropped), not a file read to an end it does not have."""
    serving = threading.Event()
    serving.set()
    server = ThreadingHTTPServer(("127.0.0.1", 0), mjpeg_camera(serving))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/api/stream.mp4?src=cam"
    try:
        said, src = logged(lambda: open_source(url), "INFO")
        src.close()
    finally:
        serving.clear()
        server.shutdown()
        server.server_close()
    assert isinstance(src, LiveSource)
    assert said == [("INFO", f"http://127.0.0.1:{server.server_address[1]}/api/stream.mp4: it has no length: read as a "
                              "live stream")]


def test_an_hls_playlist_that_ends_is_a_recording_read_once_and_one_that_goes_on_is_live(web):
    """An HLS recording (its playlist ends: `#EXT-X-ENDLIST`) was read as a live stream: again and again."""
    www, base = web
    for j in range(3):  # three 1-s segments of 10 frames
        w = cv2.VideoWriter(str(www / f"s{j}.ts"), cv2.VideoWriter.fourcc(*"mp4v"), 10, (64, 48))
        for k in range(10):
            w.write(np.full((48, 64, 3), 8 * (10 * j + k), np.uint8))
        w.release()
    head = "#EXTM3U\n#EXT-X-VERSION:3\n#EXT-X-TARGETDURATION:1\n#EXT-X-MEDIA-SEQUENCE:0\n"
    segments = "".join(f"#EXTINF:1.0,\ns{j}.ts\n" for j in range(3))
    (www / "rec.m3u8").write_text(head + segments + "#EXT-X-ENDLIST\n")
    (www / "live.m3u8").write_text(head + segments)
    recording = open_source(f"{base}/rec.m3u8")
    assert not isinstance(recording, LiveSource) and len(list(recording)) == 30
    recording.close()
    live = open_source(f"{base}/live.m3u8")
    live.close()
    assert isinstance(live, LiveSource)
