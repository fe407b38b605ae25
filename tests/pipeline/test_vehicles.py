from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from pipeline.app import vehicle_reader
from pipeline.settings import load_configs

ROOT = Path(__file__).resolve().parents[2]


class Gate:
    """A detector that finds one plate box in the frames whose first pixel is bright, and nothing in the others."""

    def detect(self, image):
        from detection.detections import Detections

        if image[0, 0, 0] > 100:
            return Detections(np.array([[40, 60, 120, 80]], np.float32), np.array([0.9], np.float32))
        return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))


def reader_of(*overrides, out=None):
    from ocr.recognizer import PlateRead

    text = "AB123CD"
    ocr = type("Reader", (), {"probs": lambda self, crops: np.zeros((len(crops), 1)), "rows": lambda self, c: 1,
                              "decode": lambda self, p: PlateRead(text, 0.9, (0.9,) * len(text))})()
    cfgs = load_configs(ROOT / "configs", ["fusion.lost_frames=3", *overrides])
    return vehicle_reader(cfgs, "gate", Gate(), ocr, out=out)


def frame(plate: bool, grey: bool = False):
    img = np.full((120, 160, 3), 200 if plate else 30, np.uint8)
    return img[:, :, 0] if grey else img


def test_a_vehicle_is_one_event_when_its_track_ends():
    reader = reader_of()
    got = [reader.add(frame(i < 5)) for i in range(12)]  # in view for 5 frames, then gone
    ended = [i for i, events in enumerate(got) if events]
    assert len(ended) == 1 and 5 <= ended[0] <= 9  # lost after fusion.lost_frames unseen
    (e,) = got[ended[0]]
    assert (e.text, e.source, e.reason, e.first_frame) == ("AB123CD", "gate", "lost", 0)
    assert e.box == (40.0, 60.0, 120.0, 80.0)
    assert e.first_seen_utc.endswith("Z") and e.first_seen_utc[:2] == "20"  # timed as added: UTC times
    assert reader.finish() == []


def test_a_system_clock_set_while_frames_come_times_the_events_by_it(monkeypatch, logged):
    """A Raspberry Pi boots at the time it was shut down and is set by NTP once the network is up: the vehicles read
    after (their open tracks' too) are timed by the clock as it is now, not by the one it had at the first frame."""
    import time

    reader = reader_of()
    reader.add(frame(True))
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 86400.0)  # set a day on

    def rest():
        return [e for i in range(1, 12) for e in reader.add(frame(i < 5))]

    lines, (e,) = logged(rest, "WARNING")
    assert abs(iso_s(e.first_seen_utc) - (real() + 86400.0)) < 60  # was a day early
    assert lines == [("WARNING", "gate: the system clock was set +86400.0 s; events are timed by it")]


def iso_s(text: str) -> float:
    from pipeline.types import iso_time

    return iso_time(text).timestamp()


def test_the_vehicles_still_in_view_end_with_finish_and_given_times_are_kept():
    reader = reader_of("fusion.dedupe_s=0")
    for i in range(4):
        assert reader.add(frame(True, grey=i % 2 == 1), time_s=10 + i * 0.5) == []  # greyscale frames too
    (e,) = reader.finish()
    assert (e.reason, e.first_time_s, e.last_time_s, e.first_seen_utc) == ("end", 10.0, 11.5, "")
    assert reader.add(frame(True), time_s=12.0) == [] and [x.text for x in reader.finish()] == ["AB123CD"]


def test_frames_with_their_own_times_carry_utc_times_from_a_given_start():
    reader = reader_of("fusion.dedupe_s=0", "video_start_utc=2026-12-05T23:00:00+01:00")
    for i in range(4):
        reader.add(frame(True), time_s=10 + i * 0.5)
    (e,) = reader.finish()
    assert (e.first_seen_utc, e.last_seen_utc) == ("2026-12-05T22:00:10.000Z", "2026-12-05T22:00:11.500Z")
    with pytest.raises(UserError, match=r"^video_start_utc=file reads a video file's own time: for frames given from "
                                        r"Python, give the time their time_s 0 was"):
        reader_of("video_start_utc=file")
    with pytest.raises(UserError, match=r"^video_start_utc=name\+01:00 reads a video file's own time: for frames "
                                        r"given from Python"):
        reader_of("video_start_utc=name+01:00")


def test_with_an_output_folder_events_are_written_as_run_pipeline_writes_them(tmp_path):
    import json
    import sqlite3

    reader, got = reader_of("fusion.dedupe_s=0", out=tmp_path / "gate"), []
    for i in range(15):
        got += reader.add(frame(i < 5 or 11 <= i))  # a vehicle, a gap, another still in view at the end
    got += reader.close()
    assert reader.close() == []  # closed already: nothing more, and no error
    lines = [json.loads(x) for x in (tmp_path / "gate" / "events.jsonl").read_text().splitlines()]
    assert [x["event_id"] for x in lines] == [e.event_id for e in got] and len(got) == 2
    assert [x["reason"] for x in lines] == ["lost", "end"]
    rows = sqlite3.connect(tmp_path / "gate" / "events.db").execute("SELECT event_id FROM events").fetchall()
    assert sorted(r[0] for r in rows) == sorted(e.event_id for e in got)  # (read in the primary key's order)
    assert all(Path(x["crop_path"]).is_file() and Path(x["frame_path"]).is_file() for x in lines)
    with reader_of(out=tmp_path / "with") as reader:  # a with block closes it: the vehicle in view is written
        reader.add(frame(True))
        reader.add(frame(True))
    assert len((tmp_path / "with" / "events.jsonl").read_text().splitlines()) == 1


@pytest.mark.parametrize("bad, says", [
    (None, "a frame must be an H x W (x 3) BGR image array (or a PIL image), not a NoneType"),
    (np.zeros((4, 4, 2), np.uint8),
     "a frame must be an H x W (x 3) BGR image array (or a PIL image), not an array of shape (4, 4, 2)"),
    (np.zeros((4, 4, 3), np.float32), "a frame must hold 8-bit values (uint8, as cv2.imread gives), not float32: "
                                      "convert it, e.g. (x * 255).astype(np.uint8) for floats in 0-1"),
])
def test_a_frame_that_is_no_image_is_one_error(bad, says):
    with pytest.raises(UserError) as err:
        reader_of().add(bad)
    assert str(err.value) == says


def test_a_frame_before_the_one_before_it_is_an_error():
    reader = reader_of()
    reader.add(frame(False), time_s=2.0)
    with pytest.raises(UserError, match=r"^frame 1: time 1 s is before the frame before it \(2 s\)$"):
        reader.add(frame(False), time_s=1.0)
    with pytest.raises(UserError, match=r"^frame 1: time_s must be a number of seconds, not nan$"):
        reader.add(frame(False), time_s=float("nan"))
    assert reader.add(frame(False), time_s=2.0) == []  # a frame at the same time as the one before: kept


def test_frames_timed_as_added_start_at_0_s_and_a_reader_without_outputs_closes():
    reader = reader_of("fusion.dedupe_s=0")
    for _ in range(3):
        reader.add(frame(True))
    (e,) = reader.close()
    assert 0 <= e.first_time_s <= e.last_time_s < 60  # seconds from the first frame, not the machine's clock
    from pipeline.vehicles import VehicleReader

    assert VehicleReader(reader.pipeline).close() == []  # made without outputs: nothing to close but itself


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="shipped weights not present")
def test_the_bundled_clip_gives_the_vehicles_run_pipeline_gives(tmp_path):
    """Frames decoded here and handed over one by one give the events `run_video` writes for the clip."""
    import json
    import threading

    from pipeline import VehicleReader
    from pipeline.app import run_video

    clip = ROOT / "samples" / "clip.mp4"
    cfgs = load_configs(ROOT / "configs", [f"output_dir={tmp_path}", "progress=false", "video_out=false",
                                           "save_crops=false", "save_frames=false"])
    run_video(str(clip), cfgs, threading.Event())
    want = [json.loads(x)["text"] for x in (tmp_path / "clip" / "events.jsonl").read_text().splitlines()]
    reader = VehicleReader.from_configs()
    cap, got, i = cv2.VideoCapture(str(clip)), [], 0
    fps = cap.get(cv2.CAP_PROP_FPS)
    while True:
        ok, img = cap.read()
        if not ok:
            break
        got += [e.text for e in reader.add(img, time_s=i / fps)]
        i += 1
    got += [e.text for e in reader.finish()]
    assert len(want) >= 3 and got == want
