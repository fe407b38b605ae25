import csv
import json
import sqlite3

import numpy as np
import pytest

from common.errors import UserError
from pipeline.crops import CropSpec
from pipeline.fusion import FusionConfig, TrackFuser
from pipeline.orchestrator import Pipeline
from pipeline.sinks import CsvSink, JsonlSink, SqliteSink
from pipeline.tracker import PlateTracker, TrackerConfig
from pipeline.watchlist import WatchEntry, Watchlist

LATIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def write(tmp_path, text: str):
    path = tmp_path / "watch.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_normalises_plates_keeps_labels_and_skips_comments(tmp_path):
    path = write(tmp_path, "# plate,label\nab-123 cd, stolen\n\nXY9876\nKMH 306,expired, since May\n")
    wl = Watchlist.load(path, alphabet=LATIN)
    assert wl.entries == (WatchEntry("AB123CD", "stolen"), WatchEntry("XY9876"),
                          WatchEntry("KMH306", "expired, since May"))
    assert str(wl.entries[0]) == "AB123CD (stolen)" and str(wl.entries[1]) == "XY9876"


@pytest.mark.parametrize("text", [
    "plate;label\nAB 123CD;stolen; since May\nKMH306;\n",   # Excel's CSV where the comma is decimal (Europe)
    "plate\tlabel\nAB 123CD\tstolen; since May\nKMH306\n",  # tab-separated text, a spreadsheet's cells pasted
    '"plate";"label"\n"AB 123CD";"stolen; since May"\n"KMH306"\n',
])
def test_a_spreadsheets_semicolons_and_tabs_end_the_plate_as_a_comma_does(tmp_path, text):
    """A tab is a separator inside a plate's text: `AB123CD<TAB>stolen` was listed as the plate AB123CDSTOLEN, which
    no vehicle reads; a semicolon was an error line."""
    wl = Watchlist.load(write(tmp_path, text), alphabet=LATIN)
    assert wl.entries == (WatchEntry("AB123CD", "stolen; since May"), WatchEntry("KMH306"))


def test_a_plate_typed_on_a_cyrillic_keyboard_is_the_latin_plate_the_reader_reads(tmp_path):
    wl = Watchlist.load(write(tmp_path, "а123вс,stolen\n"), alphabet=LATIN)
    assert wl.match("A123BC") == WatchEntry("A123BC", "stolen")
    cyrillic = Watchlist.load(write(tmp_path, "а123вс,stolen\n"), alphabet="0123456789АВС")  # a reader of Cyrillic
    assert cyrillic.match("А123ВС") == WatchEntry("А123ВС", "stolen")


@pytest.mark.parametrize("head", ["plate,label", "Plate", "License Plate,Reason", '"plate","label"'])
def test_a_spreadsheet_header_line_is_no_plate(tmp_path, head):
    wl = Watchlist.load(write(tmp_path, f"{head}\n\"AB 123CD\",stolen\nPLATE\n"), alphabet=LATIN)
    assert wl.entries == (WatchEntry("AB123CD", "stolen"), WatchEntry("PLATE"))


def test_a_capitalised_header_word_first_is_a_plate(tmp_path):
    assert Watchlist.load(write(tmp_path, "PLATE\nAB123CD\n")).entries == (WatchEntry("PLATE"), WatchEntry("AB123CD"))


@pytest.mark.parametrize("text, max_edits, hit", [
    ("AB123CD", 0, "AB123CD"),
    ("A8123CD", 0, None),        # one character off: no match without edits
    ("A8123CD", 1, "AB123CD"),
    ("A8I23CD", 1, None),        # two off
    ("A8I23CD", 2, "AB123CD"),
    ("XY987", 1, "XY9876"),      # a dropped character is one edit
    ("XY98", 2, None),           # at most a third of the characters may differ: 6 // 3 = 2, but 4 // 3 = 1
    ("KMH3O6", 0, "KMH306"),     # the letter O reads as the digit 0
    ("", 1, None),
])
def test_match(tmp_path, text, max_edits, hit):
    wl = Watchlist.load(write(tmp_path, "AB123CD,stolen\nXY9876\nKMH306\n"), max_edits)
    got = wl.match(text)
    assert (got.plate if got else None) == hit


@pytest.mark.parametrize("max_edits", [1, 2])
def test_a_long_hotlist_matches_as_every_plate_compared_in_turn(max_edits):
    """The plates near a read are looked up in an index (a 100,000-plate hotlist took 1.2 s a new read with
    watchlist_max_edits=1, comparing each): the same plate as the comparison of each, the first listed of the
    nearest."""
    import random

    from ocr.metrics import edit_budget, edit_distance

    rng = random.Random(max_edits)
    entries = [WatchEntry("".join(rng.choice("AB018") for _ in range(rng.randint(3, 8)))) for _ in range(400)]
    wl = Watchlist(entries, max_edits)

    def compared(text):
        exact = next((e for e in entries if e.plate == text), None)
        best = None
        for e in entries:
            d = edit_distance(e.plate, text)
            if d <= edit_budget(e.plate, text, max_edits) and (best is None or d < best[0]):
                best = (d, e)
        return exact or (best[1] if best else None)

    reads = ["".join(rng.choice("AB018") for _ in range(rng.randint(3, 9))) for _ in range(400)]
    assert [wl.match(r) for r in reads] == [compared(r) for r in reads]
    assert sum(wl.match(r) is not None for r in reads) > 100  # many near plates: the ties and the budgets met


def test_the_closest_listed_plate_wins(tmp_path):
    wl = Watchlist.load(write(tmp_path, "AB123CE\nAB123CD\n"), max_edits=2)
    assert wl.match("AB123CD").plate == "AB123CD"
    assert wl.match("AB123XD").plate == "AB123CD"  # one edit from it, two from the other
    assert wl.match("AB123CX").plate == "AB123CE"  # one edit from both: the first listed


@pytest.mark.parametrize("text, hit", [
    ("AB123CD", "AB123CD"),      # a listed plate before a pattern listed first
    ("AB1X9", "AB1*"),           # a partial plate, as a witness gives it
    ("AB1", "AB1*"),             # * is any run, none too
    ("XB1", None),
    ("ZB123CQ", "?B123C?"),      # ? one character
    ("B123C", None),             # ... never none
    ("KMH3O6", "KMH3?6"),        # O read as 0 in a pattern too
    ("AB1234", "AB1*"),          # the first listed pattern of two it matches
])
def test_a_partial_plate_is_a_pattern(tmp_path, text, hit):
    wl = Watchlist.load(write(tmp_path, "AB1*,witness\n?B123C?\nAB123CD,stolen\nKMH3?6\n*1234\n"), 1,
                        alphabet=LATIN)
    got = wl.match(text)
    assert (got.plate if got else None) == hit
    assert wl.match("A81X9") is None  # a character off the pattern AB1*: patterns match as written, edits or not
    short = Watchlist.load(write(tmp_path, "7\nB8*\n"), alphabet=LATIN)  # a one-character plate; a pattern naming 2
    assert (short.match("7").plate, short.match("B8Z").plate, short.match("77")) == ("7", "B8*", None)


@pytest.mark.parametrize("text, message", [
    ("AB123CD\nÄB12\n", r"watch\.csv, line 2: plate 'ÄB12' has 'Ä'"),
    ("# nothing\n\n", "lists no plate"),
    ("AB1*\n*\n", r"watch\.csv, line 2: partial plate '\*' names 0 characters: it would match nearly every vehicle "
                   r"\(name at least 2\)"),
    ("?1*\n", r"line 1: partial plate '\?1\*' names 1 character: "),
    ("AB1[2]*\n", r"line 1: plate 'AB1\[2\]\*' has '\[\]', which the reader never reads"),
])
def test_bad_watchlists_are_one_clear_error(tmp_path, text, message):
    with pytest.raises(UserError, match=message):
        Watchlist.load(write(tmp_path, text), alphabet=LATIN)


def test_missing_and_binary_watchlists(tmp_path):
    with pytest.raises(UserError, match="watchlist not found: .*nope.csv"):
        Watchlist.load(tmp_path / "nope.csv")
    (tmp_path / "bin.csv").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x81AB")  # a picture given for the list
    with pytest.raises(UserError, match="not a UTF-8 text file"):
        Watchlist.load(tmp_path / "bin.csv")
    (tmp_path / "u16.csv").write_bytes("AB123CD\r\nKMH306\r\n".encode("utf-16"))  # Notepad's "Unicode"
    assert Watchlist.load(tmp_path / "u16.csv", alphabet=LATIN).match("KMH306") is not None


def test_pipeline_flags_and_writes_the_listed_vehicle(tmp_path):
    """The two-vehicle clip of test_orchestrator: the listed vehicle's event carries the entry in every sink,
    the other's is empty."""
    from tests.pipeline.test_orchestrator import FakeDetector, FakeRecognizer, clip

    frames, boxes = clip()
    wl = Watchlist.load(write(tmp_path, "XY-9876,stolen\n"), alphabet=LATIN)
    with SqliteSink(tmp_path / "e.db") as db, JsonlSink(tmp_path / "e.jsonl") as js, CsvSink(tmp_path / "e.csv") as cs:
        Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
                 TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99), "s"), [db, js, cs], crops=CropSpec(0.0),
                 watchlist=wl).run(iter(frames))
    rows = sqlite3.connect(tmp_path / "e.db").execute("SELECT text, watch, watch_label FROM events ORDER BY text").fetchall()
    assert rows == [("AB123CD", "", ""), ("XY9876", "XY9876", "stolen")]
    js_rows = sorted((r["text"], r["watch"], r["watch_label"]) for r in map(json.loads, (tmp_path / "e.jsonl").open()))
    cs_rows = sorted((r["text"], r["watch"], r["watch_label"])
                     for r in csv.DictReader((tmp_path / "e.csv").open(encoding="utf-8-sig")))
    assert js_rows == cs_rows == rows


def test_a_listed_vehicle_is_alerted_while_it_is_in_view(tmp_path, logged):
    """The listed vehicle's event (its alert, its webhook) is written once its track is decided, not when it leaves;
    the other vehicle's when its track ends."""
    from tests.pipeline.test_orchestrator import FakeDetector, FakeRecognizer, Into, clip

    frames, boxes = clip()
    wl = Watchlist.load(write(tmp_path, "XY-9876,stolen\n"), alphabet=LATIN)
    out: list = []
    written_at: list = []  # for each event, the frame asked for next once it was written
    seen = iter(frames)

    def source():
        for frame in seen:
            written_at.extend([frame.index] * (len(out) - len(written_at)))
            yield frame

    def run():
        Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
                 TrackFuser(FusionConfig(lost_frames=3, decisive_reads=3, decisive_conf=0.3), "s", urgent=wl.match),
                 [Into(out)],
                 crops=CropSpec(0.0), watchlist=wl).run(source())

    lines, _ = logged(run, "WARNING")
    by_text = {e.text: e for e in out}
    assert (by_text["XY9876"].reason, by_text["XY9876"].watch, by_text["XY9876"].watch_label) == (
        "early", "XY9876", "stolen")
    assert by_text["XY9876"].last_frame < 10 and written_at[[e.text for e in out].index("XY9876")] <= 10  # B: 5-19
    assert by_text["AB123CD"].reason != "early" and by_text["AB123CD"].watch == ""
    assert [m for _, m in lines if m.startswith("watchlist: XY9876")]


def test_image_reads_carry_the_watch_fields(tmp_path, function_recognizer):
    from ocr.recognizer import PlateRead
    from pipeline.app import run_images
    from pipeline.settings import load_configs

    img_dir = tmp_path / "photos"
    img_dir.mkdir()
    import cv2

    for name, grey in (("a.png", 100), ("b.png", 200)):
        cv2.imwrite(str(img_dir / name), np.full((40, 120, 3), grey, np.uint8))
    texts = {100: "AB123CD", 200: "XY9876"}

    rec = function_recognizer(lambda crops: [PlateRead(texts[int(c.max())], 0.9, (0.9,) * 7) for c in crops])
    watch = write(tmp_path, "AB123CD,stolen\n")
    cfgs = load_configs("configs", [f"output_dir={tmp_path / 'out'}", f"watchlist={watch}"])
    res = run_images(str(img_dir), cfgs, crops_only=True, recognizer=rec)
    reads = {name: r[0] for name, r in res["reads"]}
    assert (reads["a.png"]["watch"], reads["a.png"]["watch_label"]) == ("AB123CD", "stolen")
    assert (reads["b.png"]["watch"], reads["b.png"]["watch_label"]) == ("", "")
    rows = list(csv.DictReader((tmp_path / "out" / "photos" / "reads.csv").open(encoding="utf-8-sig")))
    assert [(r["source"], r["watch"]) for r in rows] == [("a.png", "AB123CD"), ("b.png", "")]


def test_run_pipeline_refuses_a_missing_watchlist_before_any_source(tmp_path, capsys):
    from run_pipeline import main

    assert main(["--crops", "samples/plates", f"output_dir={tmp_path}", f"watchlist={tmp_path / 'nope.csv'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: watchlist not found: {tmp_path / 'nope.csv'}"]


def test_watched_tracks_are_drawn_in_red():
    from pipeline.annotate import draw
    from pipeline.types import Tracks

    tracks = Tracks(np.array([[10, 60, 50, 90], [60, 60, 95, 90]], np.float32), np.array([0.9, 0.9], np.float32),
                    np.array([3, 4]))
    out = draw(np.zeros((100, 100, 3), np.uint8), tracks, {3: "AB123CD", 4: "XY9876"}, frozenset({3}))
    assert tuple(out[90, 30]) == (0, 0, 255) and tuple(out[90, 80]) == (0, 220, 0)  # bottom edges of the boxes


def test_a_watchlist_matches_exactly_unless_asked_for_edits(tmp_path):
    entries = [WatchEntry("AB123", "stolen")]
    assert Watchlist(entries).match("AB124") is None
    assert Watchlist.load(write(tmp_path, "AB123,stolen\n")).match("AB124") is None
    assert Watchlist(entries, max_edits=1).match("AB124") == entries[0]


def test_an_alert_is_logged_for_a_hit_only(logged):
    w = Watchlist([WatchEntry("AB123", "stolen")])
    said, alerts = logged(lambda: [w.alert("AB123", "at gate, frame 7"), w.alert("XY999", "at gate, frame 8")], "DEBUG")
    assert alerts == [WatchEntry("AB123", "stolen"), None]
    assert said == [("WARNING", "watchlist: AB123 matches AB123 (stolen) at gate, frame 7")]


def test_the_reads_a_watchlist_remembers_stay_bounded():
    w = Watchlist([WatchEntry("AB123")])
    for i in range(10_000):
        w.match(f"X{i}")
    assert len(w._seen) <= 4096
    assert w.match("AB123") == WatchEntry("AB123")


def test_a_watchlist_file_that_changes_is_read_again(tmp_path, monkeypatch, logged):
    """A camera runs for months and its hotlist is updated each day: the file is read again when it changes (looked at
    every RECHECK_S); an edit that makes it no list, or the file gone for a moment, keeps the plates it had."""
    import pipeline.watchlist as watchlist

    path = write(tmp_path, "AB123CD,stolen\n")
    w = Watchlist.load(path, alphabet=LATIN)
    monkeypatch.setattr(watchlist, "RECHECK_S", 3600.0)
    path.write_text("AB123CD,stolen\nXY9876,expired permit\n")
    assert w.match("XY9876") is None  # not looked at again yet
    monkeypatch.setattr(watchlist, "RECHECK_S", 0.0)

    def steps():
        got = [w.match("XY9876"), w.match("AB123CD")]
        path.write_text("XY9876\nAB#123\n")  # a plate the reader never reads: not taken
        got += [w.match("XY9876"), w.match("AB123CD")]
        path.unlink()
        got += [w.match("XY9876")]
        path.write_text("QQ11\n")
        got += [w.match("QQ11"), w.match("XY9876"), len(w)]
        return got

    lines, got = logged(steps)
    assert got == [WatchEntry("XY9876", "expired permit"), WatchEntry("AB123CD", "stolen"),
                   WatchEntry("XY9876", "expired permit"), WatchEntry("AB123CD", "stolen"), WatchEntry(
                       "XY9876", "expired permit"), WatchEntry("QQ11"), None, 1]
    assert [m for _, m in lines] == [
        f"watchlist {path} read again: 2 plates (1 added, 0 removed)",
        f"watchlist {path} changed but was not read again ({path}, line 2: plate 'AB#123' has '#', which the reader "
        "never reads): its 2 plates are kept",
        f"watchlist {path} is not there (being replaced?): its 2 plates are kept until it is back",
        f"watchlist {path} read again: 1 plates (1 added, 2 removed)"]
    assert Watchlist([WatchEntry("AB123")]).path is None  # a list given in code follows no file


def test_a_running_pipeline_alerts_on_a_plate_listed_while_it_runs(tmp_path, monkeypatch):
    """The two-vehicle clip with a watchlist that lists XY9876 only from frame 10 on: its event is flagged."""
    import pipeline.watchlist as watchlist
    from tests.pipeline.test_orchestrator import FakeDetector, FakeRecognizer, Into, clip

    monkeypatch.setattr(watchlist, "RECHECK_S", 0.0)
    frames, boxes = clip()
    path = write(tmp_path, "ZZ999\n")
    wl = Watchlist.load(path, alphabet=LATIN)

    def source():
        for frame in frames:
            if frame.index == 10:
                path.write_text("ZZ999\nXY-9876,stolen today\n")
            yield frame

    out: list = []
    Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
             TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99), "s"), [Into(out)], crops=CropSpec(0.0),
             watchlist=wl).run(source())
    assert sorted((e.text, e.watch, e.watch_label) for e in out) == [("AB123CD", "", ""),
                                                                     ("XY9876", "XY9876", "stolen today")]
