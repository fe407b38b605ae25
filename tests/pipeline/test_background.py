import itertools
import shutil
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from pipeline.annotate import VideoSink
from pipeline.background import BackgroundWriter, prefetch


def test_prefetch_keeps_order_and_every_item():
    assert list(prefetch(range(50), depth=3)) == list(range(50))


def test_prefetch_reraises_after_the_items_before_the_error():
    def items():
        yield 1
        yield 2
        raise ValueError("bad frame")

    got = []
    with pytest.raises(ValueError, match="bad frame"):
        for x in prefetch(items(), depth=1):
            got.append(x)
    assert got == [1, 2]


def test_prefetch_closed_early_stops_its_thread():
    before = {t for t in threading.enumerate() if t.name == "prefetch"}
    frames = prefetch(itertools.count(), depth=2)
    assert [next(frames) for _ in range(3)] == [0, 1, 2]
    frames.close()
    assert not [t for t in threading.enumerate() if t.name == "prefetch" and t not in before and t.is_alive()]


def settled(count, timeout=5.0):
    """`count()` once it has stopped changing (polled until it holds for 0.3 s, at most `timeout`)."""
    deadline, last, since = time.monotonic() + timeout, count(), time.monotonic()
    while time.monotonic() < deadline:
        time.sleep(0.02)
        now = count()
        if now != last:
            last, since = now, time.monotonic()
        elif time.monotonic() - since >= 0.3:
            break
    return last


@pytest.mark.parametrize("depth, ahead", [(2, 2), (1, 1), (0, 1)])
def test_prefetch_runs_at_most_depth_items_ahead(depth, ahead):
    pulled = []

    def items():
        for i in itertools.count():
            pulled.append(i)
            yield i

    frames = prefetch(items(), depth=depth)
    assert next(frames) == 0
    # the consumer holds item 0; `ahead` items wait in the queue and one more is in the producer's hand
    assert settled(lambda: len(pulled)) == 1 + ahead + 1
    assert next(frames) == 1
    assert settled(lambda: len(pulled)) == 2 + ahead + 1
    frames.close()


@pytest.mark.parametrize("depth, waiting", [(3, 3), (0, 1)])
def test_background_writer_holds_at_most_depth_items_waiting(depth, waiting):
    release, submitted = threading.Event(), []
    w = BackgroundWriter(lambda x: release.wait(), depth=depth)

    def submit_all():
        for i in range(10):
            w.submit(i)
            submitted.append(i)

    feeder = threading.Thread(target=submit_all, daemon=True)
    feeder.start()
    # one item in the blocked write, `waiting` in the queue; the next submit waits for room
    assert settled(lambda: len(submitted)) == 1 + waiting
    release.set()
    feeder.join(timeout=5)
    w.close()
    assert submitted == list(range(10))


def test_background_writer_writes_in_order_and_drains_on_close():
    seen = []
    w = BackgroundWriter(seen.append, depth=2)
    for i in range(100):
        w.submit(i)
    w.close()
    assert seen == list(range(100))


def test_background_writer_raises_the_threads_error_on_close():
    def fail(x):
        raise OSError(f"disk full at {x}")

    w = BackgroundWriter(fail)
    w.submit(7)
    with pytest.raises(OSError, match="disk full at 7"):
        w.close()


def test_video_sink_encodes_every_frame_from_its_thread(tmp_path):
    path = tmp_path / "out.mp4"
    with VideoSink(path, 10.0) as sink:
        for i in range(12):
            sink.write(np.full((48, 64, 3), i * 20, np.uint8))
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 12


def test_a_video_with_a_colon_in_its_path_is_written_and_read(tmp_path, monkeypatch):
    """FFmpeg takes what comes before a colon for a protocol: `12:30.mp4`, or any file below `out:1/`, was neither
    read (`cannot open video`) nor written (the annotated video left out without a word)."""
    from pipeline.sources import VideoFileSource

    monkeypatch.chdir(tmp_path)
    path = Path("out:1") / "12:30.mp4"
    with VideoSink(path, 10.0) as sink:
        for i in range(6):
            sink.write(np.full((48, 64, 3), i * 40, np.uint8))
    assert frames_in(tmp_path / path) == 6
    assert [int(f.image.mean() + 20) // 40 for f in VideoFileSource(path)] == [0, 1, 2, 3, 4, 5]


def test_a_video_that_cannot_be_written_is_an_error_naming_it(tmp_path, monkeypatch):
    """OpenCV's writer that did not open dropped every frame without a word."""
    class Closed(FakeWriter):
        def isOpened(self):  # noqa: N802
            return False

    monkeypatch.setattr(cv2, "VideoWriter", Closed)
    with pytest.raises(OSError, match=r"the annotated video could not be opened for writing \(video_out=false runs "
                                      r"without it\): '.*out\.mp4'"):
        with VideoSink(tmp_path / "out.mp4", 10.0) as sink:
            sink.write(np.zeros((48, 64, 3), np.uint8))


def frames_in(path):
    cap = cv2.VideoCapture(str(path))
    n = 0
    while cap.read()[0]:
        n += 1
    return n


def test_live_video_is_cut_into_timed_parts_and_only_the_newest_kept(tmp_path):
    path = tmp_path / "annotated.mp4"
    with VideoSink(path, 10.0, segment_frames=5, keep=2) as sink:
        for i in range(23):  # parts of 5, 5, 5, 5, 3 frames
            sink.write(np.full((48, 64, 3), i * 10, np.uint8))
    files = sorted(tmp_path.glob("annotated_*.mp4"))
    assert len(files) == 2 and files == sorted(sink.parts) and not path.exists()
    assert files[0].name.startswith("annotated_20")  # named by start time
    assert sorted(frames_in(f) for f in files) == [3, 5]


def frame_values(path):
    cap, values = cv2.VideoCapture(str(path)), []
    while True:
        ok, img = cap.read()
        if not ok:
            return values
        values.append(int(img.mean() + 10) // 20)


def test_timed_frames_are_held_to_their_time_at_the_videos_rate(tmp_path):
    """At 10 fps: a frame is repeated until the next one's time, one whose slot is filled is left out, and a gap
    past HOLD_MAX_S (a stream down for 3 s) is not filled."""
    path = tmp_path / "out.mp4"
    times = [0.0, 0.1, 0.5, 0.54, 0.6, 3.7, 3.8]
    with VideoSink(path, 10.0) as sink:
        for i, t in enumerate(times):
            sink.write(np.full((48, 64, 3), i * 20, np.uint8), t)
    assert frame_values(path) == [0, 1, 2, 2, 2, 2, 4, 5, 6]


def test_a_live_source_back_after_a_gap_starts_a_new_part(tmp_path):
    path = tmp_path / "annotated.mp4"
    with VideoSink(path, 10.0, segment_frames=100) as sink:
        for i, t in enumerate([0.0, 0.1, 0.2, 10.0, 10.1]):
            sink.write(np.full((48, 64, 3), i * 20, np.uint8), t)
    assert [frame_values(p) for p in sink.parts] == [[0, 1, 2], [3, 4]]


def test_untimed_frames_are_each_written_once(tmp_path):
    path = tmp_path / "out.mp4"
    with VideoSink(path, 10.0, timed=False) as sink:
        for i in range(3):
            sink.write(np.full((48, 64, 3), i * 20, np.uint8), 0.0)  # still images: all at time 0
    assert frame_values(path) == [0, 1, 2]


class FakeWriter:
    """cv2.VideoWriter's stand-in: records each frame's value with the thread that encoded it."""
    fourcc = staticmethod(cv2.VideoWriter.fourcc)
    log: list = []

    def __init__(self, path, fourcc, fps, size):
        self.path = path

    def isOpened(self):  # noqa: N802
        return True

    def write(self, image):
        FakeWriter.log.append((int(image[0, 0, 0]), threading.current_thread() is threading.main_thread()))

    def release(self):
        pass


def test_frames_are_encoded_in_order_off_the_callers_thread_inside_with_and_at_once_outside(tmp_path, monkeypatch):
    monkeypatch.setattr(cv2, "VideoWriter", FakeWriter)
    monkeypatch.setattr(FakeWriter, "log", [])
    with VideoSink(tmp_path / "out.mp4", 10.0) as sink:
        for i in range(5):
            sink.write(np.full((8, 8, 3), i, np.uint8))
    assert FakeWriter.log == [(i, False) for i in range(5)]
    FakeWriter.log.clear()
    sink = VideoSink(tmp_path / "direct.mp4", 10.0)  # no background thread: each frame encoded by write() itself
    sink.write(np.full((8, 8, 3), 9, np.uint8))
    assert FakeWriter.log == [(9, True)]


@pytest.mark.parametrize("gap, frames", [(2.1, 25 + 21), (2.2, 25 + 1)])
def test_a_frame_is_held_up_to_hold_max_s_after_a_steady_run(tmp_path, gap, frames):
    """After 25 frames at the video's 10 fps, a frame 2.1 s after the last fills the 20 empty slots before it
    (HOLD_MAX_S = 2 s held); one 2.2 s after is written once (a stream that was down)."""
    path = tmp_path / "out.mp4"
    with VideoSink(path, 10.0) as sink:
        for k in range(25):
            sink.write(np.zeros((48, 64, 3), np.uint8), k * 0.1)
        sink.write(np.zeros((48, 64, 3), np.uint8), 2.4 + gap)
    assert frames_in(path) == frames


@pytest.mark.parametrize("fps, kept", [(12.5, 12.5), (0.5, 0.5), (0, 25.0), (-5, 25.0), (float("nan"), 25.0)])
def test_a_source_without_a_usable_rate_is_written_at_25_fps(tmp_path, fps, kept):
    assert VideoSink(tmp_path / "out.mp4", fps).fps == kept


def test_the_video_s_folder_is_made_and_a_resize_starts_numbered_parts(tmp_path):
    path = tmp_path / "new" / "folder" / "out.mp4"
    with VideoSink(path, 10.0) as sink:
        for w in (64, 64, 80, 96):
            sink.write(np.zeros((48, w, 3), np.uint8))
    assert [p.name for p in sink.parts] == ["out.mp4", "out_1.mp4", "out_2.mp4"]
    assert [frames_in(p) for p in sink.parts] == [2, 1, 1]


def test_parts_started_within_one_second_are_numbered_and_never_overwrite_a_file(tmp_path, monkeypatch):
    """Live parts are named by their start second: a part started within the same second, or whose name another
    run's file holds, takes the next free number; with keep=1 only the newest part stays."""
    monkeypatch.setattr("pipeline.annotate.time.strftime", lambda fmt: "2026-12-05_13-00-00")
    (tmp_path / "annotated_2026-12-05_13-00-00.mp4").write_bytes(b"another run's")
    with VideoSink(tmp_path / "annotated.mp4", 10.0, segment_frames=2) as sink:
        for i in range(6):
            sink.write(np.zeros((48, 64, 3), np.uint8))
    assert [p.name for p in sink.parts] == [f"annotated_2026-12-05_13-00-00_{n}.mp4" for n in (1, 2, 3)]
    assert (tmp_path / "annotated_2026-12-05_13-00-00.mp4").read_bytes() == b"another run's"
    with VideoSink(tmp_path / "kept.mp4", 10.0, segment_frames=2, keep=1) as sink:
        for i in range(6):
            sink.write(np.zeros((48, 64, 3), np.uint8))
    assert sorted(p.name for p in tmp_path.glob("kept_*")) == ["kept_2026-12-05_13-00-00_2.mp4"] == [
        p.name for p in sink.parts]


@pytest.mark.parametrize("container, survives", [("mkv", True), ("webm", True), ("mp4", False)])
def test_an_mkv_part_is_readable_as_a_crash_leaves_it_an_mp4_is_not(tmp_path, container, survives):
    """A camera's open part, as a power cut or a kill leaves it on disk: Matroska up to its last frames written, an MP4
    not at all (its index is written when it closes: `video_container=mkv`)."""
    path = tmp_path / f"annotated.{container}"
    noise = np.random.default_rng(0).integers(0, 256, (40, 240, 320, 3), dtype=np.uint8)
    with VideoSink(path, 10.0) as sink:
        for frame in noise:
            sink.write(frame)
        deadline = time.monotonic() + 30
        while path.stat().st_size < 500_000 and time.monotonic() < deadline:  # encoded on the sink's thread
            time.sleep(0.05)
        shutil.copyfile(path, tmp_path / f"crashed.{container}")
    assert frames_in(path) == 40
    left = frames_in(tmp_path / f"crashed.{container}")
    assert (left >= 20) if survives else (left == 0), left
