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
from pipeline.live import LiveSource
from pipeline.media import expand_folder
from pipeline.sources import (MAX_BAD_FRAMES, ImageSource, UnreadableVideo, VideoFileSource, check_window, go_on_line,
                              open_source)

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


def two_track_movie(path):
    """An MP4 as OpenCV writes one (its movie header after its frames) with its video track listed twice, the second
    as track 2: a dual dash cam's front and rear cameras in one file, as its movie header gives them."""
    data = bytearray(numbered_video(path).read_bytes())
    moov = data.index(b"moov") - 4
    assert moov + struct.unpack(">I", data[moov:moov + 4])[0] == len(data)  # the last box: it can grow
    trak = data.index(b"trak", moov) - 4
    track = bytearray(data[trak:trak + struct.unpack(">I", data[trak:trak + 4])[0]])
    tkhd = track.index(b"tkhd") + 4
    assert track[tkhd] == 0  # version 0: flags, two times, then the track's number
    track[tkhd + 12:tkhd + 16] = struct.pack(">I", 2)
    data += track
    data[moov:moov + 4] = struct.pack(">I", len(data) - moov)
    path.write_bytes(bytes(data))
    return path


def test_a_video_of_two_video_tracks_says_only_the_first_is_read(tmp_path, logged):
    """A dual dash cam that writes its front and rear cameras into one file: FFmpeg reads the first video track, and
    the rear camera's plates were left unread without a word. It is said, with how to get the second as a file."""
    from pipeline.recording import video_tracks

    one = numbered_video(tmp_path / "front.mp4")
    two = two_track_movie(tmp_path / "dual.mp4")
    cut = tmp_path / "cut.mp4"  # its frames, no movie header
    cut.write_bytes(one.read_bytes()[:one.read_bytes().index(b"moov") - 4])
    assert [video_tracks(p) for p in (one, two, numbered_video(tmp_path / "m.avi"), cut)] == [1, 2, 0, 0]
    lines, frames = logged(lambda: [int(f.image[0, 0, 0]) for f in VideoFileSource(two)])
    assert frames == [int(f.image[0, 0, 0]) for f in VideoFileSource(one)] and len(frames) == 20  # its first track
    assert [m for level, m in lines if level == "WARNING"] == [
        f"{two}: holds 2 video tracks (a dash cam's front and rear cameras in one file?): the first is read; "
        "`ffmpeg -i dual.mp4 -map 0:v:1 -c copy second.mp4` writes the second as a video of its own"]
    lines, _ = logged(lambda: list(VideoFileSource(one)))
    assert not [m for level, m in lines if level == "WARNING"]
