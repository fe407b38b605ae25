"""The crop and frame stores and the live video's parts while the output disk is short of space (min_free_mb)."""
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


def test_while_the_disk_is_short_the_oldest_crops_go_first_and_it_is_said_once_each_way(tmp_path, monkeypatch,
                                                                                       logged):
    store = CropStore(tmp_path / "crops", min_free_mb=100)
    disk(monkeypatch, [900, 100])  # room, then exactly the reserve: not short of it
    said, _ = logged(lambda: [store(event(i), np.zeros((10, 30, 3), np.uint8)) for i in (1, 2, 3)])
    assert len(list((tmp_path / "crops").iterdir())) == 3 and said == []  # nothing said while there is room
    disk(monkeypatch, [50, 50, 150])  # short: id1 goes, still short: id2 goes, then room again

    said, _ = logged(lambda: store(event(4), np.zeros((10, 30, 3), np.uint8)))
    assert sorted(f.name for f in (tmp_path / "crops").iterdir()) == ["id3.jpg", "id4.jpg"]
    assert said == [("WARNING", f"{tmp_path / 'crops'}: under 100 MB free on its disk: the oldest images of crops/ "
                                "are deleted to make room (min_free_mb); events are still all written"),
                    ("INFO", f"{tmp_path / 'crops'}: 100 MB free again: images of crops/ are kept as before")]
    disk(monkeypatch, [10])  # short for good (another program fills it): all but the newest go
    said, _ = logged(lambda: store(event(5), np.zeros((10, 30, 3), np.uint8)))
    assert [f.name for f in (tmp_path / "crops").iterdir()] == ["id5.jpg"] and len(said) == 1


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
    assert LowSpace("x")(tmp_path) is False


def test_a_live_videos_oldest_parts_go_while_the_disk_is_short_and_a_files_never(tmp_path, monkeypatch):
    disk(monkeypatch, [900, 50])  # the second part finds room, the third a short disk: parts 1 and 2 go
    with VideoSink(tmp_path / "live" / "annotated.mp4", 10.0, segment_frames=5, min_free_mb=100) as sink:
        for i in range(15):
            sink.write(np.full((48, 64, 3), i * 10, np.uint8))
    assert len(sink.parts) == 1 and [p.name for p in (tmp_path / "live").iterdir()] == [sink.parts[0].name]
    assert VideoSink(tmp_path / "clip.mp4", 10.0, min_free_mb=100).low.min_free_mb == 0  # one file: nothing pruned
