"""The crop and frame stores and the live video's parts while the output disk is short of space (min_free_mb)."""
import cv2
import numpy as np
import pytest

import pipeline.stores as stores
from pipeline.annotate import VideoSink
from pipeline.stores import CropStore, FrameStore, LowSpace
from pipeline.types import Candidate, PlateEvent


def event(i: int, text: str = "AB123") -> PlateEvent:
    return PlateEvent(f"id{i}", "cam", i, text, 0.9, (0.9,) * len(text), (Candidate(text, 1.8, 2),), 2, 0, 5,
                      0.0, 0.2, 3, (1.0, 2.0, 3.0, 4.0), "lost")


def disk(monkeypatch, free: list[float]) -> None:
    """The disk's free megabytes, each check the next of `free` (the last from then on)."""
    left = list(free)
    monkeypatch.setattr(stores, "free_mb", lambda path: left.pop(0) if len(left) > 1 else left[0])


def test_while_the_disk_is_short_each_new_crop_replaces_the_oldest_and_it_is_said_once_each_way(tmp_path,
                                                                                                monkeypatch, logged):
    room = {"mb": 900.0}
    monkeypatch.setattr(stores, "free_mb", lambda path: room["mb"])
    store = CropStore(tmp_path / "crops", min_free_mb=100)

    def save(i: int, free: float) -> list[tuple[str, str]]:
        room["mb"] = free
        return logged(lambda: store(event(i), np.zeros((10, 30, 3), np.uint8)))[0]

    def kept() -> list[str]:
        return sorted(f.stem for f in (tmp_path / "crops").iterdir())

    assert save(1, 900) + save(2, 900) + save(3, 100) == [] and kept() == ["id1", "id2", "id3"]  # 100: not short
    assert save(4, 99) == [("WARNING", f"{tmp_path / 'crops'}: under 100 MB free on its disk (min_free_mb): each new "
                                       "image in crops/ replaces its oldest; the events are still all written")]
    assert kept() == ["id2", "id3", "id4"]
    assert save(5, 109) == [] and kept() == ["id3", "id4", "id5"]  # short until 10 % over the reserve
    assert save(6, 111) == [("INFO", f"{tmp_path / 'crops'}: room on its disk again: crops/ grow again")]
    assert kept() == ["id3", "id4", "id5", "id6"]


def test_a_store_short_from_its_first_image_keeps_the_newest_one(tmp_path, monkeypatch):
    monkeypatch.setattr(stores, "free_mb", lambda path: 10.0)
    store = FrameStore(tmp_path / "frames", min_free_mb=100)
    for i in (1, 2):
        store(event(i), np.zeros((40, 60, 3), np.uint8))
    assert [f.stem for f in (tmp_path / "frames").iterdir()] == ["id2"]
    (tmp_path / "frames" / "id2.jpg").unlink()  # removed by hand meanwhile: its turn to go passes quietly
    store(event(3), np.zeros((40, 60, 3), np.uint8))
    assert [f.stem for f in (tmp_path / "frames").iterdir()] == ["id3"]


def test_a_live_video_short_from_its_first_part_keeps_the_newest_part(tmp_path, monkeypatch):
    monkeypatch.setattr(stores, "free_mb", lambda path: 10.0)
    sink = VideoSink(tmp_path / "annotated.mp4", 10.0, segment_frames=5, min_free_mb=100)  # not entered
    for i in range(7):
        sink.write(np.full((48, 64, 3), i * 10, np.uint8))
    sink.parts[0].unlink()  # removed by hand meanwhile
    for i in range(5):
        sink.write(np.full((48, 64, 3), i * 10, np.uint8))
    sink.__exit__(None, None, None)
    assert len(sink.parts) == 1 and [p.name for p in tmp_path.iterdir()] == [sink.parts[0].name]


def test_the_free_space_is_in_megabytes(tmp_path):
    import shutil

    assert stores.free_mb(tmp_path) == pytest.approx(shutil.disk_usage(tmp_path).free / 1048576, rel=1e-3)


def test_with_min_free_mb_0_the_disk_is_never_asked(tmp_path, monkeypatch):
    def asked(path):
        raise AssertionError("free space asked for")

    monkeypatch.setattr(stores, "free_mb", asked)
    store = FrameStore(tmp_path / "frames", keep=2)
    for i in (1, 2, 3):
        store(event(i), np.zeros((40, 60, 3), np.uint8))
    assert sorted(f.name for f in (tmp_path / "frames").iterdir()) == ["id2.jpg", "id3.jpg"]
    assert LowSpace("x", "y")(tmp_path) is False


def test_while_the_disk_is_short_a_live_videos_open_part_stops_growing_and_a_new_one_replaces_the_oldest(
        tmp_path, monkeypatch):
    room = {"mb": 900.0}
    monkeypatch.setattr(stores, "free_mb", lambda path: room["mb"])
    (tmp_path / "live").mkdir()
    sink = VideoSink(tmp_path / "live" / "annotated.mp4", 10.0, segment_frames=5, min_free_mb=100)  # not entered:
    for i in range(17):  # each frame encoded as it is written; parts of 5 frames
        room["mb"] = 50.0 if 7 <= i <= 10 else 900.0  # short from the third frame of part 2 to the first of part 3
        sink.write(np.full((48, 64, 3), i * 10, np.uint8))
    sink.__exit__(None, None, None)
    parts = sorted((tmp_path / "live").iterdir())
    assert parts == sink.parts and [frames_in(p) for p in parts] == [2, 4, 2]  # part 1 replaced by part 3
    assert VideoSink(tmp_path / "clip.mp4", 10.0, min_free_mb=100).low.min_free_mb == 0  # one file: nothing pruned


def frames_in(path) -> int:
    cap, n = cv2.VideoCapture(str(path)), 0
    while cap.read()[0]:
        n += 1
    return n
