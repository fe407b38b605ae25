"""Outputs that cannot be written (a full disk): one error line naming the file, the events written before it kept,
and the first failure the one told."""
import csv
import errno
import re
import sqlite3
import threading

import numpy as np
import pytest

from common.cli import error_line
from pipeline.crops import CropSpec
from pipeline.fusion import FusionConfig, TrackFuser
from pipeline.orchestrator import Pipeline
from pipeline.sinks import CsvSink, ImageReadsSink, JsonlSink, SqliteSink, writing
from pipeline.stores import CropStore
from pipeline.tracker import PlateTracker, TrackerConfig
from pipeline.types import Candidate, PlateEvent


def event(i: int, text: str = "AB123") -> PlateEvent:
    return PlateEvent(f"id{i}", "clip.mp4", i, text, 0.9, (0.9,) * len(text), (Candidate(text, 1.8, 2),), 2, 0, 5,
                      0.0, 0.2, 3, (1.0, 2.0, 3.0, 4.0), "lost")


class FullFile:
    """A file on a full disk: what it is given to write, flush or close fails as the system says (no file name)."""

    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    flush = close = lambda self: self.write("")

    def __enter__(self) -> "FullFile":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def test_a_full_database_is_one_line_naming_it_and_keeps_the_events_before(tmp_path):
    path = tmp_path / "events.db"
    with pytest.raises(OSError) as caught:
        with SqliteSink(path) as db:
            pages = db.db.execute("PRAGMA page_count").fetchone()[0]
            db.db.execute(f"PRAGMA max_page_count={pages}")  # SQLite's own limit: the disk full from here on
            for i in range(1000):
                db.write(event(i))
    assert caught.value.errno == errno.ENOSPC
    assert error_line(caught.value) == f"error: {path}: database or disk is full"
    kept = sqlite3.connect(path).execute("SELECT count(*) FROM events").fetchone()[0]
    assert 0 < kept < 1000


@pytest.mark.parametrize("sink", [JsonlSink, CsvSink])
def test_a_full_disk_under_an_events_file_is_one_line_naming_it(sink, tmp_path):
    path = tmp_path / "events.out"
    with pytest.raises(OSError) as caught:
        with sink(path) as s:
            s.f.close()
            s.f = FullFile()
            if sink is CsvSink:
                s.w = csv.writer(s.f)
            s.write(event(1))
    assert error_line(caught.value) == f"error: {path}: No space left on device"


def test_a_close_that_fails_is_told_unless_an_error_is_already_on_its_way(tmp_path):
    path = tmp_path / "events.jsonl"
    with pytest.raises(OSError) as caught:
        with JsonlSink(path) as s:
            s.f.close()
            s.f = FullFile()
    assert error_line(caught.value) == f"error: {path}: No space left on device"
    with pytest.raises(ValueError, match="the first"):
        with JsonlSink(path) as s:
            s.f.close()
            s.f = FullFile()
            raise ValueError("the first")


def test_image_reads_on_a_full_disk_name_their_file(tmp_path):
    with pytest.raises(OSError) as caught:
        with ImageReadsSink(tmp_path, watch_columns=False) as s:
            s.js.close()
            s.js = FullFile()
            s.write("a.jpg", [{"box": [1, 2, 3, 4], "text": "AB123", "confidence": 0.9}])
    assert error_line(caught.value) == f"error: {tmp_path / 'reads.jsonl'}: No space left on device"


def test_writing_names_the_file_an_error_left_unnamed_and_keeps_one_that_names_its_own(tmp_path):
    with pytest.raises(OSError) as caught, writing(tmp_path / "a.db"):
        raise sqlite3.OperationalError("database is locked")
    assert (caught.value.errno, caught.value.filename) == (errno.EIO, str(tmp_path / "a.db"))
    with pytest.raises(OSError) as caught, writing(tmp_path / "a.db"):
        raise FileNotFoundError(errno.ENOENT, "No such file or directory", "elsewhere")
    assert caught.value.filename == "elsewhere"


def test_a_crop_that_cannot_be_written_is_an_error_naming_it(tmp_path):
    (tmp_path / "id1.jpg").mkdir()  # cv2.imwrite fails there (as on a full disk) and says so only by returning False
    with pytest.raises(OSError) as caught:
        CropStore(tmp_path)(event(1), np.zeros((20, 60, 3), np.uint8))
    assert error_line(caught.value) == (f"error: {tmp_path / 'id1.jpg'}: the image could not be written "
                                        "(a full disk?)")


class Detect:
    """Two plates in every frame: A (grey 100) on the left, B (grey 200) on the right."""

    def detect(self, frame):
        from detection.detections import Detections

        return Detections(np.array([[10, 40, 70, 60], [90, 40, 150, 60]], np.float32), np.full(2, 0.9, np.float32))


class Read:
    """A read surely (its early event is written while the run goes on), B never surely enough to be decided (its
    event waits for the end)."""

    def probs(self, crops):
        return np.array([[int(c.max())] for c in crops], np.float32)

    def rows(self, crop):
        return 1

    def decode(self, p):
        from ocr.recognizer import PlateRead

        a = p[0] < 150  # grey 100, or near it once a clip's compression has been through
        sure = 0.99 if a else 0.9  # B's fused confidence: 0.9 ** 5 = 0.59, under decisive_conf (0.6)
        return PlateRead("AB123" if a else "XY987", sure ** 5, (sure,) * 5)


class Failing:
    """A sink on a full disk: every write fails, each saying which it was."""

    def __init__(self) -> None:
        self.tries = 0

    def write(self, e) -> None:
        self.tries += 1
        raise OSError(errno.ENOSPC, f"write {self.tries} failed", "events.db")


def two_plates() -> np.ndarray:
    image = np.zeros((120, 160, 3), np.uint8)
    image[40:60, 10:70], image[40:60, 90:150] = 100, 200
    return image


def test_a_run_whose_sink_fails_raises_that_first_failure_not_a_later_one():
    from pipeline.types import Frame

    frames = [Frame(two_plates(), i, i / 10, "cam") for i in range(6)]
    sink = Failing()
    fuser = TrackFuser(FusionConfig(decisive_reads=2, early_events=True), "cam")
    pipe = Pipeline(Detect(), PlateTracker(TrackerConfig()), Read(), fuser, [sink], crops=CropSpec(0.0),
                    stop=threading.Event())
    with pytest.raises(OSError, match="write 1 failed"):  # A's early event; B's, tried at the end, failed too
        pipe.run(iter(frames))
    assert sink.tries == 2


def test_a_video_read_onto_a_full_disk_ends_with_one_line_naming_the_file_and_status_1(tmp_path, monkeypatch, capsys):
    import cv2

    import detection
    import pipeline.app
    from run_pipeline import main

    clip = tmp_path / "gate.avi"
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (160, 120))
    for _ in range(6):
        w.write(two_plates())
    w.release()
    monkeypatch.setattr(detection, "PlateDetector", lambda cfg: Detect())
    monkeypatch.setattr(pipeline.app, "_recognizer", lambda cfg, patterns: Read())
    monkeypatch.setattr(cv2, "imwrite", lambda *a: False)  # as it answers on a full disk
    out = tmp_path / "out"
    assert main([str(clip), f"output_dir={out}", "video_out=false", "progress=false", "motion_gate=false",
                 "fusion.decisive_reads=2", "fusion.early_events=true"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and re.fullmatch(rf"error: {re.escape(str(out / 'gate' / 'crops'))}/\w+\.jpg: the image "
                                          r"could not be written \(a full disk\?\)", err[0]), err


def test_an_event_a_webhook_cannot_keep_pending_on_a_full_disk_is_one_line_naming_the_file(tmp_path):
    from pipeline.webhook import WebhookSink

    class FullPath(type(tmp_path)):
        def open(self, *args, **kwargs):
            return FullFile()

    with WebhookSink("http://gate.example/events", tmp_path / "p.jsonl", post=lambda *a: 200) as sink:
        sink.pending = FullPath(tmp_path / "p.jsonl")
        with pytest.raises(OSError) as caught:
            sink.write(event(1))
    assert error_line(caught.value) == f"error: {tmp_path / 'p.jsonl'}: No space left on device"


def test_a_webhook_whose_pending_file_cannot_be_rewritten_delivers_on_and_keeps_every_event(tmp_path, monkeypatch,
                                                                                             logged):
    """The delivery thread lives on; the pending file keeps what was appended to it (delivered events too: the next
    run sends them again, their event_id tells them apart)."""
    import json
    import pathlib

    from pipeline.webhook import WebhookSink

    got, pending, all_sent = [], tmp_path / "p.jsonl", threading.Event()

    def post(url, body, headers, timeout_s):  # the last event is not taken: it is still pending at the end
        all_sent.wait(10)  # none delivered before all five are appended: the queue never empties in between
        got.append(body)
        return 200 if json.loads(body)["event_id"] != "id4" else "connection refused"

    def full(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_text", full)

    def run():
        with WebhookSink("http://gate.example/events", pending, post=post, backoff_start_s=0.05, drain_s=0.3) as sink:
            for i in range(5):
                sink.write(event(i))
            all_sent.set()

    lines, _ = logged(run, "WARNING")
    assert [json.loads(b)["event_id"] for b in got][:5] == [f"id{i}" for i in range(5)]
    assert [json.loads(x)["event_id"] for x in pending.read_text().splitlines()] == [f"id{i}" for i in range(5)]
    told = [m for _, m in lines if m.startswith(f"webhook: {pending} not brought up to date (No space left on ")]
    assert told and lines[-1][1].startswith("webhook: 4 event(s) delivered, 1 not, kept in ")
    assert [p.name for p in tmp_path.iterdir()] == ["p.jsonl"]  # no part of a rewrite left beside it
