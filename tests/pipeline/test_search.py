import json
import os
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest

from common.errors import UserError
from pipeline.search import find, main, matcher
from pipeline.sinks import ImageReadsSink, JsonlSink, SqliteSink
from pipeline.types import Candidate, PlateEvent

ROOT = Path(__file__).resolve().parents[2]


def event(i: int, text: str, seen: str = "", alternatives: tuple[str, ...] = (), source: str = "cam") -> PlateEvent:
    return PlateEvent(f"id{i}", source, i, text, 0.9, (0.9,) * len(text),
                      tuple(Candidate(t, 1.0, 1) for t in (text, *alternatives)), 3, i, i + 2, float(i), i + 0.5, i,
                      (1.0, 2.0, 3.0, 4.0), "lost", first_seen_utc=seen, last_seen_utc=seen,
                      crop_path=f"/out/crops/id{i}.jpg")


def test_a_plate_matches_as_the_watchlist_counts_it():
    m = matcher("ab-123 cd")
    assert [m(t) for t in ("AB123CD", "AB123CO", "A8123CD", "AB123C", "")] == ["exact", "", "", "", ""]
    assert matcher("AB1O3CD")("AB103CD") == "O/0"
    near = matcher("AB123CD", max_edits=1)
    assert [near(t) for t in ("A8123CD", "AB123C", "A8123C0", "XY123CD")] == ["1 edit", "1 edit", "", ""]
    assert matcher("AB12", max_edits=2)("AB13") == "1 edit"  # a third of 4 characters: 1 edit at most
    assert matcher("AB12", max_edits=2)("XB13") == ""
    part = matcher("ab1?3*")
    assert [part(t) for t in ("AB123CD", "AB1O3", "AB12", "XAB123")] == ["pattern", "pattern", "", ""]


@pytest.mark.parametrize("query", ["AB$12", "", "--"])
def test_a_plate_that_cannot_be_read_is_one_error(query):
    with pytest.raises(UserError, match="letters and digits"):
        matcher(query)


@pytest.fixture
def runs(tmp_path):
    """A camera's folder (events.db), a video file's (events.jsonl only) and a photo folder's (two runs' reads)."""
    gate = tmp_path / "runs" / "gate"
    gate.mkdir(parents=True)
    with SqliteSink(gate / "events.db") as db:
        db.write(event(1, "AB123CD", "2026-11-30T23:59:00.000Z"))
        db.write(event(2, "AB123CO", "2026-12-01T08:00:00.000Z", alternatives=("AB123CD",)))  # runner-up
        db.write(event(3, "ZZ999ZZ", "2026-12-01T09:00:00.000Z"))
        db.write(event(4, "AB1Z3CD", "2026-12-02T10:00:00.000Z"))
    clip = tmp_path / "runs" / "clip"
    clip.mkdir()
    with JsonlSink(clip / "events.jsonl") as js:
        js.write(event(5, "AB123CD", source="clip.mp4"))
    with (clip / "events.jsonl").open("a") as f:
        f.write('{"text": "AB123CD", "unfinished')  # a crash's last line
    photos = tmp_path / "runs" / "photos"
    photos.mkdir()
    with ImageReadsSink(photos, watch_columns=False) as sink:
        sink.write("a.jpg", [{"box": [1, 2, 3, 4], "text": "AB12JCD", "confidence": 0.8}], "2026-12-01T12:00:00.000Z")
    with ImageReadsSink(photos, watch_columns=False) as sink:  # a second run: the first one's reads kept aside
        sink.write("b.jpg", [{"box": [1, 2, 3, 4], "text": "AB123CD", "confidence": 0.7}], "2026-12-02T12:00:00.000Z")
    assert (photos / "reads.prev.jsonl").is_file()
    return tmp_path / "runs"


def summary(hits):
    return [(Path(s.folder).name, s.source, s.text, s.match, s.seen_utc[:10]) for s in hits]


def test_every_run_folder_is_searched_oldest_first(runs):
    hits, untimed = find("AB123CD", [runs])
    assert summary(hits) == [("gate", "cam", "AB123CD", "exact", "2026-11-30"),
                             ("gate", "cam", "AB123CO", "runner-up AB123CD", "2026-12-01"),
                             ("photos", "b.jpg", "AB123CD", "exact", "2026-12-02"),
                             ("clip", "clip.mp4", "AB123CD", "exact", "")]  # a video file's event: no time, last
    assert untimed == 0 and hits[0].crop_path == "/out/crops/id1.jpg" and hits[-1].at == "5.0-5.5 s"
    assert hits[2].kind == "image" and hits[2].at == "box 1,2,3,4"
    near, _ = find("AB123CD", [runs], max_edits=1)
    assert [s.text for s in near if s.match == "1 edit"] == ["AB12JCD", "AB1Z3CD"]


def test_times_and_sources_narrow_the_search(runs):
    hits, untimed = find("AB123CD", [runs], max_edits=1, since="2026-12-01", until="2026-12-01")
    assert summary(hits) == [("gate", "cam", "AB123CO", "runner-up AB123CD", "2026-12-01"),
                             ("photos", "a.jpg", "AB12JCD", "1 edit", "2026-12-01")]
    assert untimed == 1  # the video file's event
    hits, _ = find("AB123CD", [runs], since="2026-12-01T08:00:00.001")
    assert summary(hits)[0][1] == "b.jpg"
    assert [s.source for s in find("AB1*", [runs], source="PHOTO")[0]] == ["a.jpg", "b.jpg"]


def test_the_command_lists_sightings_and_says_when_there_are_none(runs, capsys):
    assert main(["AB-123 CD", str(runs), "--since", "2026-12-02", "--csv", str(runs / "hits.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("2026-12-02 12:00:00 UTC  photos ") and "b.jpg box 1,2,3,4" in out[0]
    assert out[-1] == f"1 sighting of AB123CD in {runs}; 1 without a time (video files) left out by --since/--until"
    assert (runs / "hits.csv").read_bytes().startswith(b"\xef\xbb\xbfkind,seen_utc,folder,source,text,")
    assert main(["QQ111QQ", str(runs)]) == 1
    assert capsys.readouterr().out.strip() == f"0 sightings of QQ111QQ in {runs}"


@pytest.mark.parametrize("args, message", [
    (["AB123CD", "nowhere"], "error: no such folder to search: nowhere"),
    (["AB123CD", "--since", "yesterday"],
     "error: not a date or time: 'yesterday' (e.g. 2026-12-01 or 2026-12-01T18:00)"),
    (["AB123CD", "--max-edits", "-1"], "error: --max-edits must be 0 or more, not -1"),
])
def test_bad_input_is_one_error_line(runs, capsys, monkeypatch, args, message):
    monkeypatch.chdir(runs)
    assert main(args) == 2
    assert capsys.readouterr().err.strip() == message


def test_a_folder_without_run_outputs_is_said(runs, capsys):
    """A wrong folder says so, rather than "0 sightings" (which reads as: the plate was never seen)."""
    (runs / "elsewhere" / "notes").mkdir(parents=True)
    assert main(["AB123CD", str(runs / "gate"), str(runs / "elsewhere")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"error: {runs / 'elsewhere'} holds no pipeline outputs (no events.db, events.jsonl or reads.jsonl "
                   f"in it or below): give the output_dir of a run, or a folder above it")
    assert main(["AB123CD", str(runs)]) == 0  # a folder above the runs is searched


def test_a_damaged_database_is_passed_over_with_a_warning(runs, capsys):
    """With no events.jsonl beside it, its events are lost to the search; with one (the pipeline writes both), they
    are read from there."""
    (runs / "gate" / "events.db").write_bytes(b"not a database at all" * 100)
    hits, _ = find("AB123CD", [runs])
    assert [s.source for s in hits] == ["b.jpg", "clip.mp4"]
    assert main(["AB123CD", str(runs)]) == 0
    assert "events.db: cannot be read (file is not a database); its events are not searched" in capsys.readouterr().out
    with JsonlSink(runs / "gate" / "events.jsonl") as js:
        js.write(event(1, "AB123CD", "2026-11-30T23:59:00.000Z"))
        js.write(event(3, "ZZ999ZZ", "2026-12-01T09:00:00.000Z"))
    hits, _ = find("AB123CD", [runs])
    assert summary(hits)[0] == ("gate", "cam", "AB123CD", "exact", "2026-11-30")
    assert [s.source for s in hits] == ["cam", "b.jpg", "clip.mp4"]
    assert main(["AB123CD", str(runs)]) == 0
    assert ("events.db: cannot be read (file is not a database); its events are read from events.jsonl instead"
            in capsys.readouterr().out)


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_still_images_are_timed_by_their_files(tmp_path):
    """A camera's upload is read with the time its file was written: the search finds it on that day."""
    from run_pipeline import main as run

    photos = tmp_path / "uploads"
    photos.mkdir()
    shutil.copy(ROOT / "samples" / "plates" / "RXP7820_0.jpg", photos / "snap.jpg")
    when = datetime(2026, 12, 1, 10, 0, tzinfo=timezone.utc).timestamp()
    os.utime(photos / "snap.jpg", (when, when))
    assert run(["--crops", str(photos), f"output_dir={tmp_path / 'out'}"]) == 0
    (line,) = (tmp_path / "out" / "uploads" / "reads.jsonl").read_text().splitlines()
    assert json.loads(line)["file_time_utc"] == "2026-12-01T10:00:00.000Z"
    hits, _ = find("*", [tmp_path / "out"], since="2026-12-01", until="2026-12-01")
    assert [(s.source, s.seen_utc) for s in hits] == [("snap.jpg", "2026-12-01T10:00:00.000Z")]


def test_a_watchlist_is_searched_back(runs, tmp_path, capsys):
    hot = tmp_path / "hot.csv"
    hot.write_text("# stolen this month\nAB-123 CD,stolen\nZZ999ZZ\nQQ111QQ,unseen\n")
    hits, _ = find([("AB123CD", "stolen"), ("ZZ999ZZ", ""), ("QQ111QQ", "unseen")], [runs])
    assert [(s.text, s.match) for s in hits] == [("AB123CD", "exact: AB123CD (stolen)"),
                                                ("AB123CO", "runner-up AB123CD: AB123CD (stolen)"),
                                                ("ZZ999ZZ", "exact: ZZ999ZZ"),
                                                ("AB123CD", "exact: AB123CD (stolen)"),
                                                ("AB123CD", "exact: AB123CD (stolen)")]
    assert main(["--watchlist", str(hot), str(runs), "--since", "2026-12-01T08:30"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[-1] == f"2 sightings of the 3 plates of {hot} in {runs}; 1 without a time (video files) left out by " \
                      "--since/--until"
    assert main([]) == 2 and capsys.readouterr().err.strip() == "error: give a plate to search for, or --watchlist FILE"


def test_a_sighting_keeps_its_direction_watch_label_and_files_and_the_command_shows_them(tmp_path, capsys):
    from dataclasses import replace

    gate, photos = tmp_path / "gate", tmp_path / "photos"
    gate.mkdir()
    with JsonlSink(gate / "events.jsonl") as js:
        js.write(replace(event(1, "AB123CD", "2026-12-01T08:00:00.000Z"), direction="in", watch="AB123CD",
                         watch_label="stolen", frame_path="/out/frames/id1.jpg"))
        js.write(replace(event(2, "AB123CD", "2026-12-01T09:00:00.000Z"), crop_path="",
                         frame_path="/out/frames/id2.jpg"))
        js.write(event(3, "AB123CD", source="clip.mp4"))
    photos.mkdir()
    with ImageReadsSink(photos, watch_columns=True) as sink:  # an image without a file time
        sink.write("c.jpg", [{"box": [1.4, 2, 3, 4.6], "text": "AB123CD", "confidence": 0.6, "watch": "AB123CD",
                              "watch_label": "stolen"}])
    hits, _ = find("AB123CD", [tmp_path])
    assert [(s.direction, s.watch_label, s.crop_path, s.frame_path) for s in hits] == [
        ("in", "stolen", "/out/crops/id1.jpg", "/out/frames/id1.jpg"), ("", "", "", "/out/frames/id2.jpg"),
        ("", "", "/out/crops/id3.jpg", ""), ("", "stolen", "", "")]
    assert main(["AB123CD", str(tmp_path)]) == 0
    lines = [" ".join(line.split()) for line in capsys.readouterr().out.splitlines()]
    assert lines[:4] == [
        "2026-12-01 08:00:00 UTC gate AB123CD 0.90 exact cam 1.0-1.5 s in watchlist: stolen /out/crops/id1.jpg",
        "2026-12-01 09:00:00 UTC gate AB123CD 0.90 exact cam 2.0-2.5 s /out/frames/id2.jpg",  # no crop: the frame
        "(video file) gate AB123CD 0.90 exact clip.mp4 3.0-3.5 s /out/crops/id3.jpg",
        "(no time) photos AB123CD 0.60 exact c.jpg box 1,2,3,5 watchlist: stolen"]


def test_the_period_s_bounds_are_in_it_and_a_time_with_an_offset_is_taken_as_utc(runs):
    from pipeline.search import utc_time

    hits, _ = find("AB123CD", [runs], max_edits=1, since="2026-11-30T23:59:00Z", until="2026-12-02T10:00")
    assert [s.seen_utc[:16] for s in hits] == ["2026-11-30T23:59", "2026-12-01T08:00", "2026-12-01T12:00",
                                                "2026-12-02T10:00"]
    assert utc_time("2026-12-01T18:00+02:00") == "2026-12-01T16:00:00.000Z"
    assert utc_time("2026-12-01 18:00") == "2026-12-01T18:00:00.000Z" == utc_time("2026-12-01T18:00:00Z")


def test_a_near_read_is_its_own_match_before_a_near_runner_up(tmp_path):
    """A read one character off is said as such, not as a runner-up that is as far off; a runner-up that reads the
    plate itself is said before a near read."""
    (tmp_path / "cam").mkdir()
    with JsonlSink(tmp_path / "cam" / "events.jsonl") as js:
        js.write(event(1, "AB123CX", alternatives=("AB123XD",)))
        js.write(event(2, "AB123CX", alternatives=("AB123XD", "AB123CD")))
        js.write(event(3, "QQ111QQ", alternatives=("AB123XD",)))
    hits, _ = find("AB123CD", [tmp_path], max_edits=1)
    assert [(s.text, s.match) for s in hits] == [("AB123CX", "1 edit"), ("AB123CX", "runner-up AB123CD"),
                                                 ("QQ111QQ", "runner-up AB123XD")]


def test_crops_frames_and_hidden_folders_are_not_searched(runs):
    from pipeline.search import output_folders

    for name in ("crops", "frames", ".trash"):
        (runs / "gate" / name).mkdir()
        shutil.copy(runs / "clip" / "events.jsonl", runs / "gate" / name / "events.jsonl")
    assert [p.name for p in output_folders([runs])] == ["clip", "gate", "photos"]


@pytest.mark.parametrize("max_edits", [0, 1, 2])
def test_a_long_watchlist_searched_back_matches_as_each_plate_tried_in_turn(max_edits):
    """A read is tried only against the listed plates it may match (a hotlist's 100,000 plates were each tried for
    every event's read and runner-up): the same answer as each tried in listed order, the first that matches."""
    import random

    from pipeline.search import any_of, matcher

    rng = random.Random(max_edits)
    listed = [("".join(rng.choice("AB0O18") for _ in range(rng.randint(3, 8))), f"l{n}") for n in range(300)]
    listed += [("AB*", "partial"), ("?1?8", "")]
    each = [(matcher(q, max_edits), q + f" ({label})" * bool(label)) for q, label in listed]

    def in_turn(text):
        return next((f"{m(text)}: {name}" for m, name in each if m(text)), "")

    match = any_of(listed, max_edits)
    reads = ["".join(rng.choice("AB0O18") for _ in range(rng.randint(3, 9))) for _ in range(400)]
    assert [match(r) for r in reads] == [in_turn(r) for r in reads]
    assert sum(bool(match(r)) for r in reads) > 20  # exact, O/0, patterns and edits among them
