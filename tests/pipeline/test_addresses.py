"""A source's address: what it names (a camera, a stream, a file on a web server), its login checked and hidden."""
import re

import pytest

from common.errors import UserError
from pipeline.addresses import redact
from pipeline.sources import open_source


def test_a_cameras_linux_device_is_a_camera(monkeypatch):
    """`/dev/video0` (or a stable link to it) is the camera OpenCV opens by its index, live as an index is; it was
    taken for a video file ('video not found', or FFmpeg failing on a device)."""
    import os

    from pipeline.addresses import camera_device, is_live

    links = {"/dev/v4l/by-id/usb-Logitech_C920-video-index0": "/dev/video2"}
    monkeypatch.setattr(os.path, "realpath", lambda p: links.get(p, p))
    assert [camera_device(s) for s in ("/dev/video0", "/dev/video12", "/dev/v4l/by-id/usb-Logitech_C920-video-index0",
                                       "/dev/null", "video0", "/tmp/dev/video0")] == [0, 12, 2, None, None, None]
    assert is_live("/dev/video0") and not is_live("/dev/null")
    with pytest.raises(UserError, match=r"^no camera at /dev/video97 \(camera devices here: (none|/dev/video\d+.*)\)$"):
        open_source("/dev/video97")


@pytest.mark.parametrize("url, shown", [
    ("rtsp://admin:s3cret@10.0.0.5:554/stream1", "rtsp://***@10.0.0.5:554/stream1"),
    ("http://user@cam.local/video", "http://***@cam.local/video"),
    ("rtsp://10.0.0.5/stream", "rtsp://10.0.0.5/stream"),
    ("rtsp://admin:p@ss@10.0.0.5:554/s", "rtsp://***@10.0.0.5:554/s"),  # an @ in the password: FFmpeg takes the last
    ("rtsp://admin:p@ss@10.0.0.5", "rtsp://***@10.0.0.5"), ("http://h/a@b.mjpg", "http://h/a@b.mjpg"),
    ("http://cam:88/cgi-bin/CGIStream.cgi?cmd=GetMJStream&usr=admin&pwd=s3cret",  # a login in the query
     "http://cam:88/cgi-bin/CGIStream.cgi?cmd=GetMJStream&usr=***&pwd=***"),
    ("rtsp://a:b@nvr/cam/realmonitor?channel=2&subtype=0&User=x&PassWord=y",
     "rtsp://***@nvr/cam/realmonitor?channel=2&subtype=0&User=***&PassWord=***"),
    ("https://h/x.mp4?X-Amz-Credential=AK%2F1&X-Amz-Date=20261206&X-Amz-Signature=ab#t=5",
     "https://h/x.mp4?X-Amz-Credential=***&X-Amz-Date=20261206&X-Amz-Signature=***#t=5"),
    ("rtmp://h/live/cam?token=abc;sig=1", "rtmp://h/live/cam?token=***;sig=***"),
    ("http://h/mjpg?resolution=640x480", "http://h/mjpg?resolution=640x480"),
    ("rtsp://admin:p#ss@10.0.0.5:554/s", "rtsp://***@10.0.0.5:554/s"),  # a # / ? in the password: hidden all the same
    ("rtsp://admin:a/b?c@cam/1", "rtsp://***@cam/1"), ("rtsp://cam:554/live@main", "rtsp://cam:554/live@main"),
])
def test_redact(url, shown):
    assert redact(url) == shown


@pytest.mark.parametrize("url, says", [
    ("rtsp://admin:p#ss@10.0.0.5:554/s", "rtsp://***@10.0.0.5:554/s: its password holds '#', which ends a URL's "
                                         "login: write it as %23 (e.g. p#ss as p%23ss)"),
    ("http://admin:a/b@cam/snap.jpg", "http://***@cam/snap.jpg: its password holds '/', which ends a URL's login: "
                                      "write it as %2F"),
])
def test_a_password_a_url_cannot_hold_as_written_is_one_line_saying_how(url, says):
    """A camera's password with a # (common in passwords) ends the URL's login: the camera could never be reached,
    and the error said so without the password hidden (`cannot open camera/stream rtsp://admin:p#ss@...`)."""
    with pytest.raises(UserError, match=re.escape(says)):
        open_source(url)


def test_a_camera_index_and_a_stream_url_are_live():
    from pipeline.addresses import is_live

    assert is_live("0") and is_live("RTSP://cam/1") and not is_live("clip.mp4") and not is_live("x0")
