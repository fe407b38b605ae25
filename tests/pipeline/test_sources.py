import dataclasses
import json
import re
import struct
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from pipeline.addresses import redact
from pipeline.live import LiveConfig, LiveSource
from pipeline.media import expand_folder
from pipeline.sources import (MAX_BAD_FRAMES, ImageSource, UnreadableVideo, VideoFileSource, check_window, go_on_line,
                              open_source)
from pipeline.types import Frame, SourceEvent

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
PLATE = sorted((Path(__file__).resolve().parents[2] / "samples" / "plates").glob("*.jpg"))[0]  # a whole JPEG


def write_video(path, n=6, size=(64, 48)):
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, size)
    for i in range(n):
        w.write(np.full((size[1], size[0], 3), (20 * i + 10) % 250, np.uint8))
    w.release()
    return path


def test_video_file_with_stride(tmp_path):
    src = VideoFileSource(write_video(tmp_path / "v.avi"), stride=2)
    frames = list(src)
    assert [f.index for f in frames] == [0, 1, 2] and [round(f.time_s, 2) for f in frames] == [0.0, 0.2, 0.4]
    assert abs(float(frames[1].image.mean()) - 50) < 4 and src.name == "v.avi"


def numbered_video(path, n=20, fps=10.0):
    """`n` frames at `fps`, frame k a flat grey of 10 k + 5 (an MP4 as OpenCV writes one, else MJPEG)."""
    w = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*("mp4v" if path.suffix == ".mp4" else "MJPG")), fps,
                        (64, 48))
    for k in range(n):
        w.write(np.full((48, 64, 3), 10 * k + 5, np.uint8))
    w.release()
    return path


def shown(frames):
    """Each frame's (number, time, the file's frame it shows by its grey)."""
    return [(f.index, round(f.time_s, 3), round((float(f.image.mean()) - 5) / 10)) for f in frames]


@pytest.mark.parametrize("start, end, stride, first, last, total", [
    (0.5, 0, 1, (5, 0.5, 5), (19, 1.9, 19), 15),
    (0.5, 1.2, 1, (5, 0.5, 5), (12, 1.2, 12), 8),  # both ends inside
    (0.55, 0, 1, (6, 0.6, 6), (19, 1.9, 19), 14),  # between two frames: the next one
    (0.5, 0, 2, (3, 0.6, 6), (9, 1.8, 18), 7),  # every other frame of the file, as a whole reading takes them
    (0, 0.3, 1, (0, 0.0, 0), (3, 0.3, 3), 4),
])
def test_a_window_of_a_video_file_is_numbered_and_timed_as_in_the_whole_file(tmp_path, start, end, stride, first,
                                                                          last, total):
    src = VideoFileSource(numbered_video(tmp_path / "v.avi"), stride, start_s=start, end_s=end)
    got = shown(src)
    assert got[0] == first and got[-1] == last and len(got) == total == src.total
    assert [i for i, _, _ in got] == list(range(first[0], last[0] + 1))


def altered_capture(props: dict | None = None, seeks: bool = True, decodes: bool = True):
    """OpenCV's capture of a file as a backend that behaves otherwise would give it: the properties in `props`
    reporting those values, a seek that fails (`seeks=False`), reads that fail (`decodes=False`)."""
    props = props or {}

    class Altered:
        def __init__(self, path):
            self.cap = cv2.VideoCapture(path)

        def get(self, prop):
            return props[prop] if prop in props else self.cap.get(prop)

        def set(self, prop, value):
            return seeks and self.cap.set(prop, value)

        def read(self):
            return self.cap.read() if decodes else (False, None)

        def __getattr__(self, name):
            return getattr(self.cap, name)

    return Altered


def mjpeg_dump(path, n=20):
    """A saved MJPEG stream (JPEGs one after another, no container, no rate), frame k a flat grey of 10 k + 5."""
    path.write_bytes(b"".join(cv2.imencode(".jpg", np.full((48, 64, 3), 10 * k + 5, np.uint8))[1].tobytes()
                              for k in range(n)))
    return path


def test_a_file_that_holds_no_rate_is_timed_at_the_rate_given(tmp_path, logged):
    """A Pi camera's raw .h264 or a saved MJPEG stream holds no frame rate (FFmpeg takes 25): `source_fps` gives
    the rate filmed at, and frames, windows and the progress bar's total follow it; without it, a line says so."""
    dump = mjpeg_dump(tmp_path / "cam.mjpeg")
    lines, got = logged(lambda: shown(VideoFileSource(dump)))
    assert got[5] == (5, 0.2, 5) and len(got) == 20  # at FFmpeg's 25
    assert lines == [("INFO", f"{dump}: a raw stream holds no frame rate: timed at 25 fps (source_fps= gives the "
                              "rate filmed at)")]
    lines, got = logged(lambda: shown(open_source(str(dump), fps=10)))
    assert got[5] == (5, 0.5, 5) and got[-1] == (19, 1.9, 19) and lines == []
    window = VideoFileSource(dump, start_s=0.5, end_s=1.2, fps=10)
    assert shown(window) == [(k, k / 10, k) for k in range(5, 13)] and window.fps == 10
    mp4 = numbered_video(tmp_path / "v.mp4")  # a container's rate, 10, given as 20: its times halved
    assert shown(VideoFileSource(mp4, start_s=0.5, end_s=0.6, fps=20)) == [(10, 0.5, 10), (11, 0.55, 11),
                                                                          (12, 0.6, 12)]


def test_a_file_the_decoder_cannot_move_in_is_read_up_to_the_window(tmp_path):
    """A capture whose seek fails: the frames before start_s are decoded and passed over."""
    path = numbered_video(tmp_path / "v.avi")
    got = shown(VideoFileSource(path, 1, capture=altered_capture(seeks=False), start_s=1.45, end_s=1.7))
    assert got == [(15, 1.5, 15), (16, 1.6, 16), (17, 1.7, 17)]


def test_a_window_of_a_file_without_time_stamps_is_timed_at_its_rate(tmp_path):
    """A container that gives no frame times (0): frames after the seek are timed from their number at the file's
    rate, as a whole reading times them."""
    unstamped = altered_capture({cv2.CAP_PROP_POS_MSEC: 0.0})
    got = shown(VideoFileSource(numbered_video(tmp_path / "v.avi"), 1, capture=unstamped, start_s=1.5, end_s=1.7))
    assert got == [(15, 1.5, 15), (16, 1.6, 16), (17, 1.7, 17)]


def test_a_phone_video_filmed_upright_is_read_upright(tmp_path):
    """A phone stores its portrait video's frames on their side with a display matrix saying how to turn them: read
    as it plays (OpenCV applies it), so `rotate` is for cameras mounted askew, never needed for a phone's video."""
    whole = bytearray(numbered_video(tmp_path / "v.mp4").read_bytes())
    assert whole[whole.index(b"tkhd") + 4] == 0  # its header's version 0, as OpenCV writes it
    at = whole.index(b"tkhd") + 4 + 4 + 12 + 4 + 4 + 8 + 8  # past its flags, times, track, duration, layer...
    whole[at:at + 36] = struct.pack(">9i", 0, 0x10000, 0, -0x10000, 0, 0, 0, 0, 0x40000000)  # turn 90 degrees
    (tmp_path / "portrait.mp4").write_bytes(whole)
    h, w = next(iter(VideoFileSource(tmp_path / "v.mp4"))).image.shape[:2]
    assert next(iter(VideoFileSource(tmp_path / "portrait.mp4"))).image.shape[:2] == (w, h) and w != h


def test_a_recording_cut_off_before_its_header_was_written_is_one_line_saying_so(tmp_path):
    """A dash cam that lost power leaves an MP4 of frames without the header a player needs (written at its end)."""
    whole = numbered_video(tmp_path / "v.mp4").read_bytes()
    assert whole.index(b"moov") > whole.index(b"mdat")  # as OpenCV (and most cameras) write one
    (tmp_path / "cut.mp4").write_bytes(whole[:whole.index(b"moov") // 2])
    with pytest.raises(UnreadableVideo) as exc:
        VideoFileSource(tmp_path / "cut.mp4")
    assert str(exc.value) == ("cannot open video (cut off while it was recorded: no movie header, as a camera leaves "
                              "a file when it loses power; untrunc rebuilds one from a whole file of the same "
                              f"camera): {tmp_path / 'cut.mp4'}")
    (tmp_path / "notes.mp4").write_bytes(b"\x00garbage" * 100)
    with pytest.raises(UnreadableVideo, match="^cannot open video \\(corrupt or unsupported\\): "):
        VideoFileSource(tmp_path / "notes.mp4")


def test_a_file_whose_frames_cannot_be_decoded_is_one_line_naming_it_and_its_window(tmp_path):
    path = numbered_video(tmp_path / "v.avi")
    with pytest.raises(UserError) as exc:
        list(VideoFileSource(path, 1, capture=altered_capture(decodes=False), start_s=1.0))
    assert str(exc.value) == f"no frame could be decoded from {path} from start_s=1 s (corrupt or truncated)"


def test_a_window_past_a_frame_count_that_is_short_is_read(tmp_path):
    """FFmpeg estimates some containers' counts (an MPEG-PS file of 30 frames: 22): a window past the count is
    read, its first frame the one read to tell, and the count no longer taken for the file's end."""
    short_count = altered_capture({cv2.CAP_PROP_FRAME_COUNT: 12.0})
    src = VideoFileSource(numbered_video(tmp_path / "v.avi"), 1, capture=short_count, start_s=1.5, end_s=1.7)
    assert shown(src) == [(15, 1.5, 15), (16, 1.6, 16), (17, 1.7, 17)] and src.frames_in_file == 0


def test_a_window_outside_the_file_is_one_line_naming_it(tmp_path):
    path = numbered_video(tmp_path / "v.avi")
    with pytest.raises(UserError, match=rf"^{re.escape(str(path))} ends before start_s=2.5 s$"):
        VideoFileSource(path, start_s=2.5)
    with pytest.raises(UserError, match=rf"^{re.escape(str(path))} has no frame from start_s=1.01 s to end_s=1.05 s$"):
        list(VideoFileSource(path, start_s=1.01, end_s=1.05))  # frames at 1.0 and 1.1 only


@pytest.mark.parametrize("spec, start, end, message", [
    ("0", 5, 0, "start_s and end_s are for video files, not 0 (a camera or stream is read as it comes)"),
    ("rtsp://u:p@cam/1", 0, 60, "start_s and end_s are for video files, not rtsp://***@cam/1 (a camera or stream is "
                                "read as it comes)"),
    ("clip.mp4", 10, 5, "end_s=5 is not after start_s=10"),
    ("clip.mp4", 10, 10, "end_s=10 is not after start_s=10"),
])
def test_a_window_a_source_cannot_have_is_refused(spec, start, end, message):
    with pytest.raises(UserError) as exc:
        check_window(spec, start, end)
    assert str(exc.value) == message
    check_window(spec, 0, 0)  # no window: any source
    check_window("photos/", start, 0)  # images have no time: a window is for the videos a folder holds


def test_where_a_stopped_reading_stopped_and_how_to_go_on():
    assert go_on_line(3723.5) == "stopped at 1:02:03.500 (go on with start_s=3723.501)"
    assert go_on_line(0.04) == "stopped at 0:00:00.040 (go on with start_s=0.041)"
    assert go_on_line(3690) == "stopped at 1:01:30.000 (go on with start_s=3690.001)"


def test_a_stopped_run_goes_on_where_it_stopped_with_the_start_s_it_gives(tmp_path):
    """Stopped after 7 of 20 frames; run again from the start_s its summary gives, the other 13 are read, numbered on
    (events first seen at frame 7), none twice."""
    from pipeline.app import run_video
    from pipeline.settings import load_configs
    from pipeline.sources import go_on_from

    clip = numbered_video(tmp_path / "v.avi")
    stop, seen, reader = threading.Event(), [], one_plate_models()[1]
    args = [f"output_dir={tmp_path}", "progress=false", "sqlite=false", "motion_gate=false", "video_out=false"]
    first = run_video(str(clip), load_configs(CONFIGS, args), stop, stopping_detector(stop, 7, seen), reader)
    assert first["stopped"] and first["frames"] == 7 and first["position_s"] == pytest.approx(0.6)
    again = run_video(str(clip), load_configs(CONFIGS, args + [f"start_s={go_on_from(first['position_s'])}"]),
                      threading.Event(), stopping_detector(stop, 7, seen), reader)
    assert not again["stopped"] and again["frames"] == 13 and seen == list(range(20))
    events = [json.loads(x) for x in (tmp_path / "v" / "events.jsonl").read_text().splitlines()]
    assert [(e["first_frame"], e["last_frame"], e["reason"]) for e in events] == [(0, 6, "stopped"), (7, 19, "end")]


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "video not found"),
    (lambda p: p.write_bytes(b""), "video is empty (0 bytes)"),
    (lambda p: p.write_bytes(b"\x00garbage" * 100), "cannot open video"),
])
def test_bad_videos(tmp_path, make, message):
    p = tmp_path / "bad.mp4"
    make(p)
    with pytest.raises(UserError, match=re.escape(message)):
        list(VideoFileSource(p))


def test_truncated_video(tmp_path):
    good = write_video(tmp_path / "v.avi", n=20).read_bytes()
    p = tmp_path / "cut.avi"
    p.write_bytes(good[: len(good) // 3])
    try:
        frames = list(VideoFileSource(p))
    except UserError as exc:
        assert "cut.avi" in str(exc)
    else:
        assert 0 < len(frames) < 20  # whatever decodes before the cut, then a clean end


def test_open_source_kinds(tmp_path):
    cv2.imwrite(str(tmp_path / "a.jpg"), np.zeros((8, 8, 3), np.uint8))
    assert isinstance(open_source(str(tmp_path)), ImageSource)
    assert isinstance(open_source(str(tmp_path / "a.jpg")), ImageSource)
    with pytest.raises(UserError, match="image not found"):
        open_source(str(tmp_path / "b.png"))
    with pytest.raises(UserError, match="video not found"):
        open_source(str(tmp_path / "clip.mp4"))
    with pytest.raises(UserError, match=re.escape(f"not found: {tmp_path / 'photos'} (a source is a video or image "
                                                  "file, a folder, a camera index or a stream URL)")):
        open_source(str(tmp_path / "photos"))


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


def test_a_typo_in_a_stream_scheme_is_named(tmp_path):
    with pytest.raises(UserError, match=re.escape("unknown stream scheme 'rtps' in rtps://***@cam/1 (known: rtsp, "
                                                  "rtsps, rtmp, http, https, udp, tcp)")):
        open_source("rtps://admin:pw@cam/1")


def test_a_folder_expands_to_the_sources_below_it(tmp_path):
    """A dash-cam card: the folder's own images, then each subfolder's images and videos in name order; hidden folders
    and the pipeline's own output folders (crops/, frames/, annotated.mp4 under a summary.json) are no inputs."""
    top = tmp_path / "card"
    files = ["a.jpg", "DCIM/100/gate.MP4", "DCIM/100/yard.avi", "DCIM/stills/b.png", ".thumbs/t.jpg",
             "runs/pipeline/gate/summary.json", "runs/pipeline/gate/annotated.mp4", "runs/pipeline/gate/crops/1.jpg",
             "empty/notes.txt"]
    for f in files:
        (top / f).parent.mkdir(parents=True, exist_ok=True)
        (top / f).write_bytes(b"")
    assert expand_folder(str(top)) == [str(top), str(top / "DCIM/100/gate.MP4"), str(top / "DCIM/100/yard.avi"),
                                       str(top / "DCIM/stills")]
    assert expand_folder(str(top), videos=False) == [str(top), str(top / "DCIM/stills")]  # --crops: images only
    assert expand_folder(str(top / "empty")) == [str(top / "empty")]  # nothing anywhere: open_source says so
    with pytest.raises(UserError, match="no images or videos in folder .*empty or below it"):
        open_source(str(top / "empty"))


def test_a_cards_videos_of_other_makers_are_its_sources_and_other_files_are_named(tmp_path):
    """A camcorder's AVCHD clips, a phone's .3gp, a Dahua recorder's .dav export, a Raspberry Pi camera's .h264 and an
    IP camera's saved MJPEG are videos; a folder of none of these says what it holds and how to give such a video."""
    top = tmp_path / "card"
    files = ["PRIVATE/AVCHD/BDMV/STREAM/00000.MTS", "PRIVATE/AVCHD/BDMV/STREAM/00001.m2ts", "dvr/ch01.dav",
             "phone/VID_1.3gp", "pi/gate.h264", "pi/yard.hevc", "recorder/cam.mjpg", "recorder/old.asf"]
    for f in files:
        (top / f).parent.mkdir(parents=True, exist_ok=True)
        (top / f).write_bytes(b"")
    assert expand_folder(str(top)) == [str(top / f) for f in sorted(files)]
    junk = tmp_path / "junk"
    (junk / "sub").mkdir(parents=True)
    for f in ["a.dat", "sub/b.DAT", "README", "c.heic.txt"]:
        (junk / f).write_bytes(b"")
    with pytest.raises(UserError, match=re.escape(f"no images or videos in folder {junk} or below it, only other files "
                                                  "(2 .dat, 1 without an ending, 1 .txt): a folder's images and videos "
                                                  "are known by their files' endings (.jpg, .png, .mp4")) as e:
        open_source(str(junk))
    assert str(e.value).endswith("a video of another ending can be given as a file")


def test_a_folders_images_of_other_endings_are_read(tmp_path):
    """A browser's .jfif and .jpe JPEGs, JPEG 2000, AVIF and a machine-vision camera's PGM / PPM: read as images."""
    img = np.full((48, 64, 3), 77, np.uint8)
    for name in ("c.jp2", "d.avif", "e.pgm", "f.ppm", "g.pnm"):
        assert cv2.imwrite(str(tmp_path / name), img[..., 0] if name.endswith(".pgm") else img)
    for name in ("a.jfif", "b.JPE"):
        (tmp_path / name).write_bytes(cv2.imencode(".jpg", img)[1].tobytes())
    src = open_source(str(tmp_path))
    assert [p.name for p in src.paths] == ["a.jfif", "b.JPE", "c.jp2", "d.avif", "e.pgm", "f.ppm", "g.pnm"]
    assert [f.image.shape for f in src] == [(48, 64, 3)] * 7


@pytest.mark.parametrize("name, fourcc", [("a.3gp", "mp4v"), ("a.m2ts", "mp4v"), ("a.asf", "WMV2"),
                                          ("a.vob", "MPEG"), ("a.mjpeg", "MJPG")])
def test_videos_of_other_makers_are_read_in_a_folder(tmp_path, name, fourcc):
    w = cv2.VideoWriter(str(tmp_path / name), cv2.VideoWriter.fourcc(*fourcc), 5.0, (64, 48))
    assert w.isOpened()
    for k in range(4):
        w.write(np.full((48, 64, 3), 40 * k + 20, np.uint8))
    w.release()
    (path,) = expand_folder(str(tmp_path))
    assert path == str(tmp_path / name)
    src = open_source(path)
    assert [round((float(f.image.mean()) - 20) / 40) for f in src] == [0, 1, 2, 3]


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

    def read():
        src = StdinSource(LiveConfig(), opener=lambda url, cfg: FakeCapture(60, 70))
        got = []
        for x in src:
            got.append(x)
            time.sleep(0.05)
        src.close()
        return src, got

    lines, (src, got) = logged(read)
    assert src.dropped > len(got) and src.dropped + len(got) == 60
    assert ("WARNING", f"stdin: {src.dropped} of 60 frames were dropped as stale (a stream piped in is read as a "
                       "camera's, as it comes): a recording is read whole given as its file") in lines


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
    tries, opener = late_camera(3)
    src = LiveSource(0, LiveConfig(backoff_start_s=0.02, backoff_max_s=0.04, open_retry_s=-1), opener, max_frames=2)
    try:
        assert len(tries) == 3 and tries[2] - tries[0] >= 0.06  # waited 0.02, then 0.04
        assert [int(f.image[0, 0, 0]) for f in src if isinstance(f, Frame)][:1] == [7]
    finally:
        src.close()
    never = []
    with pytest.raises(UserError, match=r"^cannot open camera/stream camera1 \(retried for 0.1 s\)$"):
        LiveSource(1, LiveConfig(backoff_start_s=0.02, backoff_max_s=0.02, open_retry_s=0.1),
                   lambda url, cfg: never.append(url) or FakeCapture(0, 0, opened=False))
    assert len(never) >= 3  # tried again every 0.02 s until 0.1 s had passed


def test_a_run_stopped_while_waiting_for_a_camera_ends_in_one_line():
    stop = threading.Event()
    threading.Timer(0.1, stop.set).start()
    with pytest.raises(UserError, match=r"^stopped before camera/stream camera2 opened$"):
        LiveSource(2, LiveConfig(backoff_start_s=0.05, backoff_max_s=0.05, open_retry_s=-1),
                   lambda url, cfg: FakeCapture(0, 0, opened=False), stop=stop)


def stopping_detector(stop: threading.Event, after: int, seen: list[int]):
    """`one_plate_models`' detector, noting in `seen` the number of each frame it is given (a `numbered_video`'s,
    read from its grey) and setting `stop` at the `after`-th frame `seen` holds."""
    detector, _ = one_plate_models()

    class Stopping:
        def detect(self, frame):
            seen.append(round((float(frame.mean()) - 5) / 10))
            if len(seen) == after:
                stop.set()
            return detector.detect(frame)

    return Stopping()


def one_plate_models():
    """A detector that finds one box in every frame and a reader that reads it AB123CD."""
    from detection.detections import Detections
    from ocr.recognizer import PlateRead

    box = np.array([[10, 20, 50, 30]], np.float32)
    detector = type("One", (), {"detect": lambda self, f: Detections(box, np.array([0.9], np.float32))})()
    reader = type("Reader", (), {"probs": lambda self, crops: np.zeros((len(crops), 1)), "rows": lambda self, c: 1,
                                 "decode": lambda self, p: PlateRead("AB123CD", 0.9, (0.9,) * 7)})()
    return detector, reader


@pytest.mark.parametrize("args, fps, frames", [([], 5.0, 5), (["video_fps=20"], 20.0, 17)])
def test_a_strided_file_is_written_at_the_rate_its_frames_come(tmp_path, args, fps, frames):
    """10 frames at 10 fps read with stride 2: 5 frames at 5 fps, a second as the file; at video_fps=20 each is held
    4 slots (the last one once): the video still lasts as long as the frames it shows."""
    from pipeline.app import run_video
    from pipeline.settings import load_configs

    clip = write_video(tmp_path / "v.avi", n=10)
    cfgs = load_configs(Path(__file__).resolve().parents[2] / "configs",
                        [f"output_dir={tmp_path}", "progress=false", "sqlite=false", "stride=2", *args])
    run_video(str(clip), cfgs, threading.Event(), *one_plate_models())
    cap = cv2.VideoCapture(str(tmp_path / "v" / "annotated.mp4"))
    assert cap.get(cv2.CAP_PROP_FPS) == fps and cap.get(cv2.CAP_PROP_FRAME_COUNT) == frames


def test_a_live_run_writes_timed_video_parts_keeping_the_newest_and_utc_event_times(tmp_path, monkeypatch,
                                                                                     steady_camera):
    import pipeline.sources as sources
    from pipeline.app import run_video
    from pipeline.settings import load_configs

    monkeypatch.setattr(sources, "open_source", lambda spec, stride, live, stop, *window: LiveSource(  # frames
        spec, live, lambda url, cfg: steady_camera(0.03), max_frames=23, stop=stop))  # slower than read: none dropped
    detector, reader = one_plate_models()
    t0 = time.time()
    minutes = 5 / (60 * 25)  # 5 frames a part at the 25 fps a live source is written at
    cfgs = load_configs(Path(__file__).resolve().parents[2] / "configs", [f"output_dir={tmp_path}", "progress=false", "sqlite=false",
                                    f"video_segment_min={minutes}", "video_keep_segments=2"])
    run_video("rtsp://cam/7", cfgs, threading.Event(), detector=detector, recognizer=reader)
    parts = sorted((tmp_path / "cam_7").glob("annotated_*.mp4"))
    assert len(parts) == 2 and not (tmp_path / "cam_7" / "annotated.mp4").exists()
    import json
    from datetime import datetime

    (e,) = [json.loads(x) for x in (tmp_path / "cam_7" / "events.jsonl").read_text().splitlines()]
    first, last = (datetime.fromisoformat(e[k].replace("Z", "+00:00")).timestamp()
                   for k in ("first_seen_utc", "last_seen_utc"))
    assert e["text"] == "AB123CD" and t0 - 1 < first < last <= time.time()


class DamagedCapture:
    """A file of `n` frames whose frames in `bad` cannot be decoded (each failed read still uses its frame)."""

    def __init__(self, n: int, bad: set[int], count_known: bool = True) -> None:
        self.n, self.bad, self.count_known, self.pos, self.reads = n, bad, count_known, 0, 0

    def isOpened(self):
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FPS: 10.0, cv2.CAP_PROP_FRAME_COUNT: self.n if self.count_known else 0}.get(prop, 0)

    def read(self):
        self.reads += 1
        i, self.pos = self.pos, self.pos + 1
        if i >= self.n or i in self.bad:
            return False, None
        return True, np.full((8, 8, 3), i, np.uint8)

    def release(self):
        pass


class UncountedCapture(DamagedCapture):
    """The count FFmpeg gives a file with no duration (a stream's dump, a lone JPEG): a huge negative number."""

    def get(self, prop):
        return -9.223372036854776e18 if prop == cv2.CAP_PROP_FRAME_COUNT else super().get(prop)


def test_a_file_whose_frame_count_is_below_zero_is_read_as_one_of_unknown_count(tmp_path):
    """It was taken for a file that ends before start_s=0, and one damaged frame for its end."""
    src = VideoFileSource(write_video(tmp_path / "v.avi"), capture=lambda path: UncountedCapture(4, {1}))
    assert [int(f.image[0, 0, 0]) for f in src] == [0, 2, 3] and src.total == 0 and src.unreadable == 1


@pytest.mark.parametrize("bad, said", [
    ({7, 8, 9}, ["v.avi: its last 3 of 10 frames could not be read (the file is cut short, or its connection failed)"]),
    ({3, 4}, []),  # damage in the middle: the frames after it come
])
def test_a_file_whose_last_frames_cannot_be_read_says_so(tmp_path, logged, bad, said):
    """A file cut short, or a web server that stopped answering: the frames read are kept, and the reading says what
    its header counted that was not read (it ended as a whole file does)."""
    p = write_video(tmp_path / "v.avi")
    lines, frames = logged(lambda: list(VideoFileSource(p, capture=lambda path: DamagedCapture(10, bad))), "WARNING")
    assert [(level, text.replace(str(tmp_path) + "/", "")) for level, text in lines
            if "could not be read" in text] == [("WARNING", s) for s in said]
    assert len(frames) == 10 - len(bad)


def test_a_window_that_ends_before_the_file_does_is_not_a_file_cut_short(tmp_path, logged):
    p = write_video(tmp_path / "v.avi")
    lines, frames = logged(lambda: list(VideoFileSource(p, capture=lambda path: DamagedCapture(10, set()), end_s=0.45)),
                           "WARNING")
    assert len(frames) == 5 and lines == []


@pytest.mark.parametrize("count_known", [True, False])
def test_a_damaged_frame_is_skipped_not_taken_for_the_end(tmp_path, count_known):
    p = write_video(tmp_path / "v.avi")  # a real file for the checks; frames come from the damaged capture
    cap = DamagedCapture(10, {3, 4}, count_known)
    src = VideoFileSource(p, capture=lambda path: cap)
    frames = list(src)
    assert [int(f.image[0, 0, 0]) for f in frames] == [0, 1, 2, 5, 6, 7, 8, 9]  # the frames after the gap come
    assert [round(f.time_s, 1) for f in frames][3] == 0.5 and src.unreadable == 2  # at their own times
    assert cap.reads == (11 if count_known else 10 + MAX_BAD_FRAMES)  # the end: at once when the count is known


class StampedCapture(DamagedCapture):
    """A variable-rate video (a phone's): each frame's container stamp in ms, None where the container has none."""

    def __init__(self, stamps_ms: list[float | None]) -> None:
        super().__init__(len(stamps_ms), set())
        self.stamps = stamps_ms

    def get(self, prop):
        if prop == cv2.CAP_PROP_POS_MSEC:
            return self.stamps[self.pos - 1] or 0.0
        return super().get(prop)


@pytest.mark.parametrize("stamps, times", [
    ([0, 100, 200, 600, 1000, 1100], [0.0, 0.1, 0.2, 0.6, 1.0, 1.1]),  # the rate drops in the middle: stamps kept
    ([None] * 4, [0.0, 0.1, 0.2, 0.3]),  # no stamps: the nominal 10 fps
    ([0, 100, 100, None, 500], [0.0, 0.1, 0.2, 0.3, 0.5]),  # a stamp that does not advance: the rate carries on
])
def test_frames_carry_the_videos_own_times(tmp_path, stamps, times):
    src = VideoFileSource(write_video(tmp_path / "v.avi"), capture=lambda path: StampedCapture(stamps))
    assert [round(f.time_s, 3) for f in src] == times


def test_a_variable_rate_mp4_is_timed_by_its_container(tmp_path):
    """OpenCV's own reader on a real MP4 whose first two frames are held twice as long and the rest half as long
    (its `stts` box rewritten, the file no longer): frames come at the times the file gives them, not at their
    number over a rate."""
    p = tmp_path / "phone.mp4"
    w = cv2.VideoWriter(str(p), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (64, 48))
    for i in range(8):
        w.write(np.full((48, 64, 3), 30 * i, np.uint8))
    w.release()
    data = p.read_bytes()
    at = data.find(b"stts") - 4
    (delta,) = struct.unpack(">I", data[at + 20:at + 24])  # one entry: (8 frames, delta)
    assert struct.unpack(">I", data[at + 12:at + 16]) == (1,)
    entries = struct.pack(">IIII", 2, 2 * delta, 6, delta // 2)
    box = struct.pack(">I4sII", 16 + len(entries), b"stts", 0, 2) + entries
    p.write_bytes(_replace_box(data, [b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stts"], box))
    frames = list(VideoFileSource(p))
    assert [round(f.time_s, 2) for f in frames] == [0.0, 0.08, 0.16, 0.18, 0.2, 0.22, 0.24, 0.26]
    assert [int(f.image.mean() + 15) // 30 for f in frames] == list(range(8))


def test_a_phone_video_filmed_upright_is_read_upright(tmp_path):
    """A phone stores an upright video as landscape frames with a rotation in the track header (`tkhd` matrix): the
    frames come turned as the viewer shows them."""
    p = tmp_path / "upright.mp4"
    w = cv2.VideoWriter(str(p), cv2.VideoWriter.fourcc(*"mp4v"), 25.0, (64, 32))
    for _ in range(3):
        img = np.zeros((32, 64, 3), np.uint8)
        img[:, :8] = 255  # a bright left edge
        w.write(img)
    w.release()
    data = bytearray(p.read_bytes())
    at = data.find(b"tkhd") + 4
    matrix = at + 4 + (32 if data[at] == 1 else 20) + 16  # after version/flags, times and ids, layer and volume
    assert struct.unpack(">9i", data[matrix:matrix + 36]) == (65536, 0, 0, 0, 65536, 0, 0, 0, 1 << 30)
    data[matrix:matrix + 36] = struct.pack(">9i", 0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)  # turned 90 degrees
    p.write_bytes(bytes(data))
    frames = list(VideoFileSource(p))
    assert len(frames) == 3 and frames[0].image.shape[:2] == (64, 32)
    assert frames[0].image[:8].mean() > 200 and frames[0].image[8:].mean() < 60  # the left edge is now the top


def _replace_box(data: bytes, path: list[bytes], box: bytes) -> bytes:
    """`data` (an MP4's boxes) with the box at `path` replaced by `box`, its parents' sizes mended."""
    out, i = b"", 0
    while i < len(data):
        size, kind = struct.unpack(">I4s", data[i:i + 8])
        if kind != path[0]:
            out += data[i:i + size]
        elif len(path) == 1:
            out += box
        else:
            inner = _replace_box(data[i + 8:i + size], path[1:], box)
            out += struct.pack(">I4s", 8 + len(inner), kind) + inner
        i += size
    return out


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


class RatedCapture(DamagedCapture):
    """A file of `n` frames whose container reports `fps` and gives each frame the stamp `stamp` (ms)."""

    def __init__(self, n: int, fps: float, stamp: float = 0.0, bad: set[int] = frozenset(), empty: bool = False):
        super().__init__(n, set(bad))
        self.fps, self.stamp, self.empty = fps, stamp, empty

    def get(self, prop):
        return {cv2.CAP_PROP_FPS: self.fps, cv2.CAP_PROP_POS_MSEC: self.stamp}.get(prop, super().get(prop))

    def read(self):
        if self.empty and self.pos in self.bad:
            self.pos += 1
            return True, None  # a backend that says yes and gives no image
        return super().read()


@pytest.mark.parametrize("reports, stamp, fps, times", [
    (0.0, 0.0, 25.0, [0.0, 0.04, 0.08]),  # no rate: 25 fps
    (1000.0, 0.0, 25.0, [0.0, 0.04, 0.08]),  # none a video runs at: 25 fps
    (999.0, float("nan"), 999.0, [0.0, 0.001, 0.002]),  # a stamp that is no number: the nominal rate from the start
])
def test_a_video_without_a_rate_it_could_run_at_is_timed_at_25_fps(tmp_path, reports, stamp, fps, times):
    src = VideoFileSource(write_video(tmp_path / "v.avi"), capture=lambda path: RatedCapture(3, reports, stamp))
    assert [round(f.time_s, 4) for f in src] == times and src.fps == fps


def test_a_read_that_gives_no_image_is_an_undecodable_frame(tmp_path):
    src = VideoFileSource(write_video(tmp_path / "v.avi"), capture=lambda p: RatedCapture(4, 10.0, bad={1}, empty=True))
    assert [int(f.image[0, 0, 0]) for f in src] == [0, 2, 3] and src.unreadable == 1


@pytest.mark.parametrize("bad, values", [(249, [0, 250]), (250, [0])])
def test_a_video_file_ends_after_250_undecodable_frames_in_a_row(tmp_path, bad, values):
    """Where the file's frame count is unknown; 250 frames are 10 s at 25 fps."""
    cap = DamagedCapture(bad + 2, set(range(1, bad + 1)), count_known=False)
    src = VideoFileSource(write_video(tmp_path / "v.avi"), capture=lambda path: cap)
    assert [int(f.image[0, 0, 0]) for f in src] == values


def test_a_video_files_frames_counts_and_stride(tmp_path):
    p = write_video(tmp_path / "v.avi", n=6)
    assert len(list(open_source(str(p)))) == 6 and len(list(VideoFileSource(p))) == 6  # every frame by default
    assert len(list(VideoFileSource(p, stride=0))) == 6  # a stride below 1 is 1
    src = VideoFileSource(p, stride=2)
    assert (src.total, src.frames_in_file, len(list(src)), src.dropped, src.unreadable) == (3, 6, 3, 0, 0)
    VideoFileSource(p).close()  # closed before it was read: nothing to stop
    assert [f.index for f in VideoFileSource(write_video(tmp_path / "one.avi", n=1))] == [0]  # one frame is a video


def test_image_sources_are_named_by_their_image_or_folder_unless_named(tmp_path):
    paths = [tmp_path / "a.jpg", tmp_path / "b.jpg"]
    for p in paths:
        cv2.imwrite(str(p), np.zeros((8, 8, 3), np.uint8))
    assert ImageSource(paths[:1]).name == "a.jpg" and ImageSource(paths).name == tmp_path.name
    assert [(f.index, f.time_s, f.source) for f in ImageSource(paths)] == [(0, 0.0, "a.jpg"), (1, 0.0, "b.jpg")]
    src = ImageSource(paths, "gate")
    assert (src.name, src.fps, src.total, src.dropped) == ("gate", 1.0, 2, 0)


def test_a_camera_index_and_a_stream_url_are_live():
    from pipeline.addresses import is_live

    assert is_live("0") and is_live("RTSP://cam/1") and not is_live("clip.mp4") and not is_live("x0")


def test_a_folder_given_is_listed_even_where_it_is_an_output_folder_and_one_below_is_not(tmp_path):
    from pipeline.media import media_folders

    (tmp_path / "out").mkdir()
    for folder in (tmp_path, tmp_path / "out"):
        cv2.imwrite(str(folder / "a.jpg"), np.zeros((8, 8, 3), np.uint8))
        (folder / "summary.json").write_text("{}")
    assert media_folders(tmp_path) == [tmp_path] and media_folders(tmp_path / "out") == [tmp_path / "out"]


class Polls:
    """A stop event for `watch_media` that counts its polls (calling `between()` after each) and stops it after
    `n`."""

    def __init__(self, n: int, between=lambda: None) -> None:
        self.n, self.waits, self.between = n, 0, between

    def wait(self, timeout: float) -> bool:
        self.waits += 1
        self.between()
        return self.waits >= self.n


def test_a_watched_image_cut_short_is_taken_after_ten_polls_and_one_of_another_kind_after_one(tmp_path):
    from pipeline.media import watch_media

    (tmp_path / "cut.jpg").write_bytes(PLATE.read_bytes()[:300])  # no end marker: an upload that stopped
    cv2.imwrite(str(tmp_path / "b.bmp"), np.zeros((8, 8, 3), np.uint8))
    stop = Polls(30)
    taken = [(p.name, stop.waits) for p in watch_media(tmp_path, set(), stop, poll_s=0)]  # type: ignore[arg-type]
    assert taken == [("b.bmp", 1), ("cut.jpg", 10)]


def test_a_watched_image_is_taken_only_once_its_size_holds_and_an_empty_one_never(tmp_path):
    from pipeline.media import watch_media

    growing = tmp_path / "growing.jpg"
    growing.write_bytes(b"\xff\xd8")
    (tmp_path / "empty.jpg").write_bytes(b"")

    def grow():
        with growing.open("ab") as f:
            f.write(b"\x00" * 10)

    stop = Polls(30, grow)
    assert list(watch_media(tmp_path, set(), stop, poll_s=0)) == []  # type: ignore[arg-type]


@pytest.mark.parametrize("name, cut, padding, at", [("a.jpg", 0, 60, 1), ("a.jpg", 0, 100, 10),
                                                  ("a.jfif", 0, 60, 1), ("a.JPE", 500, 0, 10)])  # cut short: awaited
def test_a_jpeg_is_whole_with_its_end_marker_in_its_last_64_bytes(tmp_path, name, cut, padding, at):
    from pipeline.media import watch_media

    data = PLATE.read_bytes()
    (tmp_path / name).write_bytes(data[:len(data) - cut] + b"\x00" * padding)  # a camera's padding after the image
    stop = Polls(30)
    assert [(p.name, stop.waits) for p in watch_media(tmp_path, set(), stop, poll_s=0)] == [  # type: ignore[arg-type]
        (name, at)]


def test_a_folder_that_cannot_be_listed_is_passed_over_or_given_to_onerror(tmp_path):
    from pipeline.media import media_tree

    errors: list[OSError] = []
    assert list(media_tree(tmp_path / "gone", onerror=errors.append)) == [] and len(errors) == 1
    assert list(media_tree(tmp_path / "gone")) == []


def test_a_folder_reached_through_a_link_is_not_listed(tmp_path):
    from pipeline.media import media_folders

    (tmp_path / "real").mkdir()
    cv2.imwrite(str(tmp_path / "real" / "a.jpg"), np.zeros((8, 8, 3), np.uint8))
    (tmp_path / "top").mkdir()
    (tmp_path / "top" / "link").symlink_to(tmp_path / "real", target_is_directory=True)
    assert media_folders(tmp_path / "top") == [tmp_path / "top"]


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


def test_a_camera_that_boots_late_is_tried_again_with_a_doubling_wait():
    tries, opener = late_camera(4)
    src = LiveSource(0, LiveConfig(backoff_start_s=0.02, backoff_max_s=1.0, open_retry_s=-1), opener, max_frames=1)
    src.close()
    assert len(tries) == 4 and 0.14 <= tries[3] - tries[0] < 0.3  # 0.02 + 0.04 + 0.08


@pytest.mark.parametrize("pattern, named, name", [("burst/img_%05d.jpg", "burst/img_{:05d}.jpg", "img"),
                                                  ("t/track0091[%02d].png", "t/track0091[{:02d}].png", "track0091"),
                                                  ("frames/%d.png", "frames/{}.png", "frames")])
def test_a_numbered_image_sequence_is_read_as_a_videos_frames(pattern, named, name, tmp_path):
    """A camera's burst of one vehicle, or a dataset's track (UFPR-ALPR: track0091[01..30].png), is video: tracked
    and fused into one vehicle, not read as stills one by one."""
    for i in range(1, 7):  # numbered from 1, as cameras and UFPR-ALPR number them (FFmpeg looks from 0 to 4)
        (tmp_path / named.format(i)).parent.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(tmp_path / named.format(i)), np.full((48, 64, 3), i * 30, np.uint8))
    source = open_source(str(tmp_path / pattern))
    try:
        frames = list(source)
    finally:
        source.close()
    assert isinstance(source, VideoFileSource) and source.name == name
    assert [f.index for f in frames] == list(range(6)) and [round(f.time_s, 2) for f in frames[:2]] == [0.0, 0.04]
    assert [int(f.image.mean()) for f in frames] == [30, 60, 90, 120, 150, 180]  # in their numbers' order
    with pytest.raises(UserError, match=r"no image of the sequence .*nope_%03d\.png \(FFmpeg looks for its first "):
        open_source(str(tmp_path / "nope_%03d.png"))
    cv2.imwrite(str(tmp_path / "shot_%d.jpg"), np.full((48, 64, 3), 99, np.uint8))  # a photo named so: a photo
    photo = open_source(str(tmp_path / "shot_%d.jpg"))
    assert isinstance(photo, ImageSource) and [int(f.image.mean()) for f in photo] == [99]


def test_a_camera_not_up_yet_or_gone_quiet_is_waited_for_without_seeming_hung(never_stuck):
    """systemd's watchdog (`WatchdogSec=`) restarts a service whose source gives no sign of progress: a camera that
    boots after the server (opened again with the back-off, open_retry_s=-1) and one that gives no frame for a
    while are waits, not hangs, and say so as they wait."""
    opened, stop = [], threading.Event()

    def booting(url, cfg):
        opened.append(url)
        return FakeCapture(1000, 60, opened=len(opened) > 3)

    cfg = LiveConfig(open_retry_s=-1, backoff_start_s=0.5, backoff_max_s=0.5, stall_timeout_s=30)
    made = []
    t, longest = never_stuck(lambda: made.append(LiveSource("rtsp://cam/9", cfg, booting, stop=stop)), 1.2,
                                    0.25)
    t.join(10)
    assert longest == 0 and len(opened) == 4
    made[0].close()

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
                    if item.kind == "reconnected":
                        break
            src.close()

    t = threading.Thread(target=run, daemon=True)
    t.start()
    time.sleep(0.15)  # in the first back-off before it opens
    waiting = doings()
    t.join(10)
    assert waiting == {"cam": "waiting for the camera to open"}
    assert events == [("open", {}), ("lost", {"cam": "reconnecting (read failed)"}), ("reconnected", {})]
