import itertools
import threading

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
