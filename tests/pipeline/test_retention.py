"""keep_days: an output folder's events, reads, images and videos older than it removed, the rest kept."""
import csv
import json
import os
import sqlite3
import time
from pathlib import Path

import pytest

from pipeline.retention import Keeper, Pruned, prune_folder
from pipeline.sinks import FIELDS, CsvSink, ImageReadsSink, JsonlSink, SqliteSink
from pipeline.types import PlateEvent, utc_iso

NOW = time.time()
DAY = 86400


def event(i: int, days_ago: float | None) -> PlateEvent:
    """Event `id<i>` last seen `days_ago` (None: no UTC time, as a video file of unknown recording time gives)."""
    when = utc_iso(NOW - days_ago * DAY) if days_ago is not None else ""
    return PlateEvent(f"id{i}", "gate", i, f"AB{i}CD", 0.9, (0.9,) * 5, (), 3, 0, 10, 0.0, 1.0, 5,
                      (1.0, 2.0, 3.0, 4.0), "lost", first_seen_utc=when, last_seen_utc=when)


def touch(path: Path, days_ago: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")
    os.utime(path, (NOW - days_ago * DAY, NOW - days_ago * DAY))
    return path


@pytest.fixture
def folder(tmp_path):
    """A camera's output folder: events 40 and 2 days old and one without a time (a video of unknown recording
    time), in all three outputs; reads of stills; crops, frames and video parts written 40 and 2 days ago."""
    out = tmp_path / "gate"
    events = [event(0, 40), event(1, 2), event(2, None)]
    for sink in (SqliteSink(out / "events.db"), JsonlSink(out / "events.jsonl"), CsvSink(out / "events.csv")):
        with sink:
            for e in events:
                sink.write(e)
    with ImageReadsSink(out, watch_columns=False) as reads:
        reads.write("old.jpg", [{"box": [1, 2, 3, 4], "text": "OLD1", "confidence": 0.9}], utc_iso(NOW - 31 * DAY))
        reads.write("new.jpg", [{"box": [1, 2, 3, 4], "text": "NEW1", "confidence": 0.9}], utc_iso(NOW - 29 * DAY))
    (out / "reads.prev.jsonl").write_text(json.dumps({"source": "a.jpg", "file_time_utc": utc_iso(NOW - 99 * DAY),
                                                      "reads": []}) + "\nnot json\n")
    (out / "webhook_pending.jsonl").write_text(json.dumps({"event_id": "id0", "last_seen_utc": "2000-01-01"}) + "\n")
    for days in (40, 2):
        touch(out / "crops" / f"c{days}.jpg", days)
        touch(out / "frames" / f"f{days}.jpg", days)
        touch(out / f"annotated_{days}.mp4", days)
        touch(out / f"annotated_{days}.mkv", days)  # video_container=mkv
        touch(out / "clips" / f"clip{days}" / "annotated.mp4", days)
        touch(out / "clips" / f"mkv{days}" / "annotated.mkv", days)
    touch(out / "summary.json", 40)
    (out / "reads.prev1.jsonl").write_text("")  # empty: nothing to count
    (out / "reads.prev1.csv").write_text("")
    (out / "zones.csv").write_text("a,b\n1,2\n")  # no time column: not ours to prune
    return out


def test_what_is_older_than_keep_days_goes_and_the_rest_stays(folder):
    assert prune_folder(folder, 30, now=NOW) == Pruned(rows=6, files=6)  # the event in 3 files
    ids = [json.loads(line)["event_id"] for line in (folder / "events.jsonl").read_text().splitlines()]
    assert ids == ["id1", "id2"]
    rows = list(csv.DictReader((folder / "events.csv").open(newline="", encoding="utf-8-sig")))
    assert [r["event_id"] for r in rows] == ["id1", "id2"] and list(rows[0]) == list(FIELDS)
    assert (folder / "events.csv").read_bytes().startswith(b"\xef\xbb\xbfevent_id,")  # rewritten for Excel still
    assert not (folder / "events.jsonl").read_bytes().startswith(b"\xef")  # JSON Lines: no mark
    db = sqlite3.connect(folder / "events.db")
    assert [r[0] for r in db.execute("SELECT event_id FROM events ORDER BY event_id")] == ["id1", "id2"]
    db.close()
    assert b"AB0CD" not in (folder / "events.db").read_bytes()  # nor in its free pages (secure_delete, which some
    # builds of SQLite leave off)
    assert [json.loads(line)["source"] for line in (folder / "reads.jsonl").read_text().splitlines()] == ["new.jpg"]
    assert [r["text"] for r in csv.DictReader((folder / "reads.csv").open(newline="", encoding="utf-8-sig"))
            ] == ["NEW1"]
    assert (folder / "reads.prev.jsonl").read_text() == "not json\n"  # a line that is no JSON object is kept
    left = sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())
    assert left == ["annotated_2.mkv", "annotated_2.mp4", "clips/clip2/annotated.mp4", "clips/mkv2/annotated.mkv",
                    "crops/c2.jpg", "events.csv", "events.db",
                    "events.jsonl", "frames/f2.jpg", "reads.csv", "reads.jsonl", "reads.prev.jsonl",
                    "reads.prev1.csv", "reads.prev1.jsonl", "summary.json", "webhook_pending.jsonl", "zones.csv"]
    inodes = {p.name: p.stat().st_ino for p in folder.iterdir() if p.is_file()}
    assert prune_folder(folder, 30, now=NOW) == Pruned()  # nothing more, and no file rewritten
    assert {p.name: p.stat().st_ino for p in folder.iterdir() if p.is_file()} == inodes
    assert (folder / "zones.csv").read_text() == "a,b\n1,2\n"
    (folder / "events.db").unlink()  # a folder of still images' reads: no database
    (folder / "reads.jsonl").write_text(json.dumps({"source": "x", "file_time_utc": utc_iso(NOW - 99 * DAY)}) + "\n")
    assert prune_folder(folder, 30, now=NOW) == Pruned(rows=1)


def test_a_file_that_cannot_be_rewritten_is_kept_and_said_and_the_rest_pruned(folder, monkeypatch, logged):
    import pipeline.retention as retention

    real = retention.written_whole

    def full(path, write):
        if path.name == "events.jsonl":
            raise OSError(28, "No space left on device", str(path))
        return real(path, write)

    monkeypatch.setattr(retention, "written_whole", full)
    before = (folder / "events.jsonl").read_text()
    lines, pruned = logged(lambda: prune_folder(folder, 30, now=NOW))
    assert pruned == Pruned(rows=5, files=6) and (folder / "events.jsonl").read_text() == before
    assert [m for level, m in lines if level == "WARNING"] == [
        f"{folder / 'events.jsonl'}: not pruned this time (No space left on device)"]


def test_a_damaged_database_is_left_as_it_is_and_the_rest_pruned(folder, logged):
    (folder / "events.db").write_bytes(b"not a database, " * 100)
    lines, pruned = logged(lambda: prune_folder(folder, 30, now=NOW))
    assert pruned == Pruned(rows=5, files=6) and (folder / "events.db").read_bytes() == b"not a database, " * 100
    assert [m for level, m in lines if level == "WARNING"] == [
        f"{folder / 'events.db'}: not pruned (file is not a database)"]


def test_keep_days_0_keeps_everything(folder):
    before = {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()}
    assert prune_folder(folder, 0) == Pruned()
    assert {p: p.read_bytes() for p in folder.rglob("*") if p.is_file()} == before


def test_the_open_sinks_write_on_into_the_pruned_files(folder, logged):
    keeper = Keeper(folder, 30, every_s=3600)
    with JsonlSink(folder / "events.jsonl") as js, CsvSink(folder / "events.csv") as cs, \
            ImageReadsSink(folder, False, append=True) as rs:
        before = time.time()  # (NOW is the module's import, minutes earlier in a full run: another hour perhaps)
        lines, pruned = logged(lambda: keeper([js, cs, rs]))
        after = time.time()
        assert pruned.rows == 6
        js.write(event(9, 99))
        assert keeper([js, cs, rs]) == Pruned()  # not due again within the hour: the old event stays till then
        js.write(event(3, 0))
        cs.write(event(3, 0))
        rs.write("now.jpg", [], utc_iso(NOW))
    ids = [json.loads(line)["event_id"] for line in (folder / "events.jsonl").read_text().splitlines()]
    assert ids == ["id1", "id2", "id9", "id3"]
    assert [r["event_id"] for r in csv.DictReader((folder / "events.csv").open(newline="", encoding="utf-8-sig"))
            ] == ["id1", "id2", "id3"]
    assert [json.loads(x)["source"] for x in (folder / "reads.jsonl").read_text().splitlines()] == ["new.jpg",
                                                                                                   "now.jpg"]
    said = f"{folder}: 6 rows of events and reads (each file's) and 6 images or videos from before "
    assert len(lines) == 1 and lines[0][1].startswith(said), lines
    cutoff = lines[0][1][len(said):len(said) + 16]
    assert utc_iso(before - 30 * DAY)[:16] <= cutoff <= utc_iso(after - 30 * DAY)[:16], cutoff


def test_a_csv_cell_with_a_newline_or_quote_survives_the_rewrite(tmp_path):
    path = tmp_path / "events.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["event_id", "text", "last_seen_utc"])
        w.writerow(["a", 'two\nlines, "quoted"', utc_iso(NOW - 50 * DAY)])
        w.writerow(["b", 'two\nlines, "quoted"', utc_iso(NOW)])
        w.writerow(["c", "a row a spreadsheet cut short"])
    prune_folder(tmp_path, 30, now=NOW)
    assert list(csv.reader(path.open(newline="", encoding="utf-8-sig"))) == [["event_id", "text", "last_seen_utc"],
                                                        ["b", 'two\nlines, "quoted"', utc_iso(NOW)],
                                                        ["c", "a row a spreadsheet cut short"]]


def test_a_video_run_prunes_its_folder_before_it_writes(tmp_path):
    from pipeline.app import run_video
    from pipeline.settings import load_configs
    from tests.pipeline.test_sources import numbered_video, one_plate_models

    out = tmp_path / "out"
    (out / "v").mkdir(parents=True)
    (out / "v" / "events.jsonl").write_text(
        json.dumps({"event_id": "old", "last_seen_utc": utc_iso(NOW - 9 * DAY)}) + "\n"
        + json.dumps({"event_id": "recent", "last_seen_utc": utc_iso(NOW - 1 * DAY)}) + "\n")
    cfgs = load_configs(Path(__file__).resolve().parents[2] / "configs",
                        [f"output_dir={out}", "progress=false", "video_out=false", "keep_days=7"])
    import threading
    run_video(str(numbered_video(tmp_path / "v.avi", 5)), cfgs, threading.Event(), *one_plate_models())
    ids = [json.loads(line)["event_id"] for line in (out / "v" / "events.jsonl").read_text().splitlines()]
    assert ids[0] == "recent" and "old" not in ids and len(ids) == 2  # and the run's own event after it


def test_the_service_prunes_before_it_writes_a_read(tmp_path):
    from pipeline.serve import PlateService
    from tests.pipeline.test_serve import FakeReader, png

    (tmp_path / "reads.jsonl").write_text(json.dumps({"source": "x", "file_time_utc": utc_iso(NOW - 9 * DAY)}) + "\n")
    with ImageReadsSink(tmp_path, False, append=True) as sink:
        service = PlateService(FakeReader(), sink, keep=Keeper(tmp_path, 7))
        try:
            service.read(png(), "gate.png")
        finally:
            service.close()
    assert [json.loads(x)["source"] for x in (tmp_path / "reads.jsonl").read_text().splitlines()] == ["gate.png"]


def test_a_camera_s_folder_is_pruned_as_it_runs_and_its_sinks_write_on(tmp_path, monkeypatch, steady_camera, logged):
    """keep_days of one second, pruned every 0.3 s: a row one second old at the start is gone while the camera runs,
    and the run's own event is written after the pruning into each output."""
    import threading

    import pipeline.app as app
    import pipeline.retention as retention
    import pipeline.sources as sources
    from pipeline.settings import load_configs
    from tests.pipeline.test_sources import one_plate_models

    monkeypatch.setattr(retention, "EVERY_S", 0.3)
    monkeypatch.setattr(sources, "open_source", lambda s, stride, cfg, stop, *window: sources.LiveSource(
        s, cfg, lambda url, c: steady_camera(0.01), stop=stop))
    out = tmp_path / "out"
    cam = out / "cam_7"
    cam.mkdir(parents=True)
    (cam / "events.jsonl").write_text(json.dumps({"event_id": "earlier", "last_seen_utc": utc_iso(time.time())}) + "\n")
    cfgs = load_configs(Path(__file__).resolve().parents[2] / "configs",
                        [f"output_dir={out}", "progress=false", "video_out=false", "status_every_s=0",
                         f"keep_days={1 / 86400}"])
    stop = threading.Event()
    timer = threading.Timer(2.5, stop.set)
    timer.start()
    try:
        lines, _ = logged(lambda: app.run_video("rtsp://cam/7", cfgs, stop, *one_plate_models()))
    finally:
        timer.cancel()
    assert any("1 rows of events and reads" in m for _, m in lines)
    events = [json.loads(x) for x in (cam / "events.jsonl").read_text().splitlines()]
    assert [e["text"] for e in events] == ["AB123CD"]  # "earlier" gone, the camera's vehicle written after it
    assert [r["text"] for r in csv.DictReader((cam / "events.csv").open(newline="", encoding="utf-8-sig"))
            ] == ["AB123CD"]


def test_a_watched_folder_is_pruned_as_its_images_come(tmp_path, monkeypatch, logged):
    import threading

    import cv2
    import numpy as np

    import pipeline.retention as retention
    from pipeline.app import run_images
    from pipeline.settings import load_configs
    from tests.pipeline.test_sources import one_plate_models

    monkeypatch.setattr(retention, "EVERY_S", 0.3)
    drop, out = tmp_path / "uploads", tmp_path / "out"
    drop.mkdir()
    (out / "uploads").mkdir(parents=True)
    reads = out / "uploads" / "reads.jsonl"
    reads.write_text(json.dumps({"source": "earlier.jpg", "file_time_utc": utc_iso(time.time()), "reads": []}) + "\n")
    cfgs = load_configs(Path(__file__).resolve().parents[2] / "configs",
                        ["follow=true", "follow_poll_s=0.05", f"output_dir={out}", "progress=false",
                         f"keep_days={1 / 86400}"])
    stop = threading.Event()
    logged_lines = []

    def watch():
        logged_lines.extend(logged(lambda: run_images(str(drop), cfgs, True, recognizer=one_plate_models()[1],
                                                      stop=stop))[0])

    t = threading.Thread(target=watch)
    t.start()
    time.sleep(1.5)  # "earlier.jpg"'s read is now over a second old
    cv2.imwrite(str(tmp_path / "old.jpg"), np.full((20, 60, 3), 128, np.uint8))
    os.utime(tmp_path / "old.jpg", (time.time() - 1.5, time.time() - 1.5))  # written before the days kept: not read
    (tmp_path / "old.jpg").rename(drop / "old.jpg")
    cv2.imwrite(str(drop / "gate.jpg"), np.full((20, 60, 3), 128, np.uint8))
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and "gate.jpg" not in reads.read_text():
        time.sleep(0.05)
    stop.set()
    t.join(20)
    assert [json.loads(x)["source"] for x in reads.read_text().splitlines()] == ["gate.jpg"]
    assert [m for level, m in logged_lines if level == "WARNING"] == [
        f"{drop}: files written before the days kept (keep_days={1 / 86400:g}) are not read, e.g. old.jpg (written "
        f"{utc_iso((drop / 'old.jpg').stat().st_mtime)})"]


def test_a_months_events_are_pruned_without_holding_the_file_in_memory(tmp_path):
    """A busy camera's month of events (tens of MB) is read and rewritten as it goes, hourly, on an edge box."""
    import tracemalloc

    path = tmp_path / "events.jsonl"
    line = {"event_id": "", "plate_text": "AB123CD", "padding": "x" * 200}
    with path.open("w") as f:
        for i in range(60_000):
            when = utc_iso(NOW - (40 if i % 2 else 1) * DAY)
            f.write(json.dumps({**line, "event_id": f"id{i}", "last_seen_utc": when}) + "\n")
    size = path.stat().st_size
    tracemalloc.start()
    try:
        assert prune_folder(tmp_path, 30, now=NOW) == Pruned(rows=30_000)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert size > 15e6 and peak < size / 10, (size, peak)
    ids = [json.loads(x)["event_id"] for x in path.read_text().splitlines()]
    assert len(ids) == 30_000 and ids[:2] == ["id0", "id2"]


def test_a_file_saved_in_another_encoding_is_left_as_it_is_and_said(folder, logged):
    (folder / "reads.csv").write_bytes("source,text,time_utc\ncaf\xe9.jpg,AB1,2000-01-01T00:00:00Z\n".encode("cp1252"))
    before = (folder / "reads.csv").read_bytes()
    lines, pruned = logged(lambda: prune_folder(folder, 30, now=NOW))
    assert pruned == Pruned(rows=5, files=6) and (folder / "reads.csv").read_bytes() == before
    assert [m for level, m in lines if level == "WARNING"] == [
        f"{folder / 'reads.csv'}: not a UTF-8 text file (byte 0xe9); not pruned"]


def test_a_long_pruning_is_no_hang(tmp_path, monkeypatch, never_stuck):
    """A month of a busy camera's crops removed from an SD card takes minutes, on the camera's own thread: each file
    is a sign of progress, or systemd's watchdog (WatchdogSec=) would take the pruning for a hang, restart the
    service, and the pruning at its start would hang it again."""
    crops = tmp_path / "crops"
    crops.mkdir()
    old = time.time() - 10 * 86400
    for i in range(12):
        (crops / f"{i}.jpg").write_bytes(b"x")
        os.utime(crops / f"{i}.jpg", (old, old))
    unlink = Path.unlink

    def slow_unlink(self, *args, **kw):
        time.sleep(0.1)  # a slow card
        return unlink(self, *args, **kw)

    monkeypatch.setattr(Path, "unlink", slow_unlink)
    done = []
    t, longest = never_stuck(lambda: done.append(prune_folder(tmp_path, 7)), 1.4, 0.35)
    t.join(10)
    assert longest == 0 and done == [Pruned(0, 12)]
