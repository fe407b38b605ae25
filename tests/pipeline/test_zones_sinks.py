import csv
import json
import sqlite3

import cv2
import numpy as np
import pytest

from common.errors import UserError
from pipeline.sinks import CsvSink, JsonlSink, SqliteSink, csv_safe
from pipeline.stores import CropStore
from pipeline.types import Candidate, PlateEvent
from pipeline.zones import ZoneConfig, Zones


@pytest.mark.parametrize("path, direction", [
    ([(10, 50), (90, 50)], "in"),       # left to right across a vertical line at x = 50
    ([(90, 50), (10, 50)], "out"),
    ([(10, 50), (40, 50)], ""),         # never crossed
    ([(10, 50), (90, 50), (10, 60)], ""),  # crossed and came back: no net crossing
    ([(10, 50)], ""),
])
def test_line_direction(path, direction):
    z = Zones(ZoneConfig(line=((0.5, 0.0), (0.5, 1.0)), directions=("out", "in")), 100, 100)
    assert z.direction(path) == direction


def test_roi_filter_and_resize():
    z = Zones(ZoneConfig(roi=((0, 0.5), (1, 0.5), (1, 1), (0, 1))), 100, 100)  # bottom half
    boxes = np.array([[10, 10, 20, 20], [10, 70, 30, 80], [0, 45, 10, 58]], np.float32)
    assert z.keep(boxes).tolist() == [False, True, True]
    z.resize(200, 200)
    assert z.keep(boxes).tolist() == [False, False, False]
    assert Zones(ZoneConfig(), 10, 10).keep(boxes).tolist() == [True, True, True]



@pytest.mark.parametrize("path, direction", [
    ([(50, 49.5), (50, 50.5)], "in"),   # just across a shallow line, near its middle: from above to below
    ([(50, 50.5), (50, 49.5)], "out"),
    ([(50, 49.5), (50, 49.9)], ""),      # up to it, not across
])
def test_line_direction_of_a_sloping_line_in_pixels(path, direction):
    """[0] is the side the line's direction turned 90 degrees clockwise on screen points to: below a line drawn
    left to right."""
    z = Zones(ZoneConfig(line=((10.0, 40.0), (90.0, 60.0)), normalized=False), 640, 480)
    assert z.direction(path) == direction


def test_roi_in_pixels_keeps_boxes_by_their_centre():
    z = Zones(ZoneConfig(roi=((100, 100), (200, 100), (200, 200), (100, 200)), normalized=False), 400, 400)
    inside, outside = [90, 90, 230, 230], [150, 150, 290, 290]  # centres (160, 160) and (220, 220)
    assert z.keep(np.array([inside, outside], np.float32)).tolist() == [True, False]
    assert z.keep(np.array([outside], np.float32)).tolist() == [False]
    assert z.keep(np.zeros((0, 4), np.float32)).tolist() == []

@pytest.mark.parametrize("cfg, message", [
    (ZoneConfig(roi=((0, 0), (1, 1))), "at least 3 points"),
    (ZoneConfig(line=((0, 0),)), "exactly 2 points"),
    (ZoneConfig(roi=((0, 0), (1, 1), (1, 0), (0, 1))), "not a valid polygon"),
    (ZoneConfig(roi=((0, 0), (2, 0), (1, 1))), "roi point [2, 0] is outside the frame: points are fractions"),
    (ZoneConfig(line=((0.5, 0), (0.5, 1, 0))), "line point [0.5, 1, 0] is not [x, y]"),
    (ZoneConfig(line=((0.5, 0), (0.5, 1)), directions=("a",)), "directions needs two different names, got ['a']"),
    (ZoneConfig(line=((0.5, 0), (0.5, 1)), directions=("in", "in")),
     "directions needs two different names, got ['in', 'in']"),
    (ZoneConfig(line=((0.5, 0.2), (0.5, 0.2))), "line's two points are the same, [0.5, 0.2]: it has no length"),
    (ZoneConfig(roi=((0, 0), (0.5, 0.5), (1, 1))), "roi encloses no area: its points [[0, 0], [0.5, 0.5], [1, 1]] lie"),
])
def test_bad_zones(cfg, message):
    with pytest.raises(UserError) as exc:
        Zones(cfg, 100, 100)
    assert message in str(exc.value)


def event(i: int, text: str = "AB123") -> PlateEvent:
    return PlateEvent(f"id{i}", "clip.mp4", i, text, 0.9, (0.9,) * len(text), (Candidate(text, 1.8, 2),), 2, 0, 5,
                      0.0, 0.2, 3, (1.0, 2.0, 3.0, 4.0), "lost")


def test_sinks_hold_the_same_events(tmp_path):
    events = [event(1), event(2, "=HYPERLINK(1)"), event(3, "-X1")]
    with SqliteSink(tmp_path / "e.db") as db, JsonlSink(tmp_path / "e.jsonl") as js, CsvSink(tmp_path / "e.csv") as cs:
        for e in events + [events[0]]:  # a replayed event is not duplicated in the database
            db.write(e)
        for e in events:
            js.write(e)
            cs.write(e)
    con = sqlite3.connect(tmp_path / "e.db")
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    db_rows = con.execute("SELECT event_id, text, box, alternatives FROM events ORDER BY event_id").fetchall()
    assert db_rows == [("id1", "AB123", "[1.0, 2.0, 3.0, 4.0]", '[{"text": "AB123", "votes": 1.8, "reads": 2}]'),
                       ("id2", "=HYPERLINK(1)", "[1.0, 2.0, 3.0, 4.0]", '[{"text": "=HYPERLINK(1)", "votes": 1.8, "reads": 2}]'),
                       ("id3", "-X1", "[1.0, 2.0, 3.0, 4.0]", '[{"text": "-X1", "votes": 1.8, "reads": 2}]')]
    js_rows = [json.loads(x) for x in (tmp_path / "e.jsonl").read_text().splitlines()]
    assert [(r["event_id"], r["text"]) for r in js_rows] == [(r[0], r[1]) for r in db_rows]
    cs_rows = list(csv.DictReader((tmp_path / "e.csv").open(encoding="utf-8-sig")))
    assert [r["event_id"] for r in cs_rows] == ["id1", "id2", "id3"]
    assert [r["text"] for r in cs_rows] == ["AB123", "'=HYPERLINK(1)", "'-X1"]


@pytest.mark.parametrize("value, safe", [("=1+1", "'=1+1"), ("+A", "'+A"), ("@x", "'@x"), ("-5", "'-5"),
                                         ("AB12", "AB12"), (3, 3)])
def test_csv_safe(value, safe):
    assert csv_safe(value) == safe


def test_crop_store_keeps_the_newest_crops(tmp_path):
    store = CropStore(tmp_path / "crops", keep=2)
    path = store(event(1), np.zeros((10, 30, 3), np.uint8))
    assert path.endswith("id1.jpg") and (tmp_path / "crops" / "id1.jpg").is_file()
    for i in (2, 3):
        store(event(i), np.zeros((10, 30, 3), np.uint8))
    assert sorted(f.name for f in (tmp_path / "crops").iterdir()) == ["id2.jpg", "id3.jpg"]
    (tmp_path / "crops" / "id2.jpg").unlink()  # removed by hand meanwhile: its turn to go passes quietly
    store(event(4), np.zeros((10, 30, 3), np.uint8))
    assert sorted(f.name for f in (tmp_path / "crops").iterdir()) == ["id3.jpg", "id4.jpg"]
    one = CropStore(tmp_path / "one", keep=1)
    for i in (5, 6):
        one(event(i), np.zeros((10, 30, 3), np.uint8))
    assert [f.name for f in (tmp_path / "one").iterdir()] == ["id6.jpg"]
    every = CropStore(tmp_path / "every")  # keep 0: no limit
    for i in (7, 8, 9):
        every(event(i), np.zeros((10, 30, 3), np.uint8))
    assert sorted(f.name for f in (tmp_path / "every").iterdir()) == ["id7.jpg", "id8.jpg", "id9.jpg"]


def test_image_reads_gain_their_watchlist_fields_when_a_watchlist_is_given():
    from pipeline.sinks import with_watch

    rows = [{"text": "AB123", "box": [1, 2, 3, 4]}]
    assert with_watch(rows, "a.jpg", None) is rows
    said = []

    def watch(text, where):
        said.append((text, where))
        return {"watch": text, "watch_label": "stolen"}

    assert with_watch(rows, "a.jpg", watch) == [{"text": "AB123", "box": [1, 2, 3, 4], "watch": "AB123",
                                                 "watch_label": "stolen"}]
    assert said == [("AB123", "a.jpg, box [1, 2, 3, 4]")]


def test_outputs_of_an_earlier_version_gain_the_new_columns_and_lose_nothing(tmp_path):
    """events.db and events.csv written before the UTC columns existed: the database gains them (old rows
    kept, empty there), the old CSV is kept aside and a new one started with this version's header."""
    from pipeline.sinks import FIELDS

    old_fields = [f for f in FIELDS if not f.endswith("_utc")]
    con = sqlite3.connect(tmp_path / "events.db")
    con.execute(f"CREATE TABLE events ({', '.join(old_fields)})")
    con.execute("INSERT INTO events (event_id, text) VALUES ('old1', 'OLD123')")
    con.commit()
    con.close()
    (tmp_path / "events.csv").write_text(",".join(old_fields) + "\nold1,clip.mp4\n")
    new = PlateEvent(**{**event(1).__dict__, "first_seen_utc": "2026-11-30T18:00:00.000Z",
                        "last_seen_utc": "2026-11-30T18:00:02.500Z"})
    with SqliteSink(tmp_path / "events.db") as db, CsvSink(tmp_path / "events.csv") as cs:
        db.write(new)
        cs.write(new)
    rows = sqlite3.connect(tmp_path / "events.db").execute(
        "SELECT event_id, text, first_seen_utc FROM events ORDER BY event_id").fetchall()
    assert rows == [("id1", "AB123", "2026-11-30T18:00:00.000Z"), ("old1", "OLD123", None)]
    assert (tmp_path / "events.prev.csv").read_text(encoding="utf-8-sig").startswith("event_id,source,track_id")
    (row,) = csv.DictReader((tmp_path / "events.csv").open(encoding="utf-8-sig"))
    assert (row["event_id"], row["last_seen_utc"]) == ("id1", "2026-11-30T18:00:02.500Z")


def test_a_line_an_interrupted_run_left_unfinished_is_cut_off_and_the_events_kept(tmp_path, logged):
    def runs() -> None:
        with JsonlSink(tmp_path / "e.jsonl") as js, CsvSink(tmp_path / "e.csv") as cs:
            js.write(event(1))
            cs.write(event(1))
        with (tmp_path / "e.jsonl").open("a") as f:  # a crash (or a full disk) in the middle of a line
            f.write('{"event_id": "id9", "te')
        with (tmp_path / "e.csv").open("a") as f:
            f.write('id9,cam,3,"AB1')  # an open quote: a CSV reader would take the next rows into this cell
        with JsonlSink(tmp_path / "e.jsonl") as js, CsvSink(tmp_path / "e.csv") as cs:
            js.write(event(2))
            cs.write(event(2))

    said = [message for _, message in logged(runs, "DEBUG")[0]]
    assert [json.loads(x)["event_id"] for x in (tmp_path / "e.jsonl").read_text().splitlines()] == ["id1", "id2"]
    assert [r["event_id"] for r in csv.DictReader((tmp_path / "e.csv").open(encoding="utf-8-sig"))] == ["id1", "id2"]
    assert said == [f"{tmp_path / 'e.jsonl'}: an unfinished last line (23 bytes, from an interrupted run) cut off",
                    f"{tmp_path / 'e.csv'}: an unfinished last line (14 bytes, from an interrupted run) cut off"]


def test_a_csv_table_begins_with_its_byte_order_mark_once_for_excel(tmp_path):
    """Excel reads a CSV without the UTF-8 mark in the machine's own code page: a camera named `Entrée` showed as
    `EntrÃ©e`. A new table begins with the mark, once (runs append after it); a table Excel saved again as "CSV UTF-8"
    (its mark, CRLF) keeps its rows and is appended to: it was moved aside as a table of other columns."""
    named = PlateEvent(**{**event(1).__dict__, "source": "Entr\u00e9e"})
    for _ in range(2):
        with CsvSink(tmp_path / "e.csv") as cs:
            cs.write(named)
    data = (tmp_path / "e.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbfevent_id,source,") and data.count(b"\xef\xbb\xbf") == 1
    assert "Entr\u00e9e" in data.decode("utf-8-sig")
    excel = data.decode("utf-8-sig").replace("\r\n", "\n").replace("\n", "\r\n")
    (tmp_path / "x.csv").write_bytes(b"\xef\xbb\xbf" + excel.encode())
    with CsvSink(tmp_path / "x.csv") as cs:
        cs.write(event(2))
    assert not (tmp_path / "x.prev.csv").exists()
    assert [r["event_id"] for r in csv.DictReader((tmp_path / "x.csv").open(encoding="utf-8-sig"))] == ["id1"] * 2 + [
        "id2"]


def test_an_events_csv_re_saved_in_another_encoding_is_appended_to(tmp_path):
    with CsvSink(tmp_path / "e.csv") as cs:
        cs.write(event(1))
    with (tmp_path / "e.csv").open("ab") as f:  # a spreadsheet's own row, in its own encoding (cp1252: "Peña")
        f.write(b"note," + "Pe\u00f1a".encode("cp1252") + b"\r\n")
    with CsvSink(tmp_path / "e.csv") as cs:
        cs.write(event(2))
    assert not (tmp_path / "e.prev.csv").exists()  # the same columns: appended, not moved aside
    ids = [r["event_id"] for r in csv.DictReader((tmp_path / "e.csv").open(encoding="utf-8-sig", errors="replace"))]
    assert ids == ["id1", "note", "id2"]


def test_a_damaged_events_db_is_kept_aside_and_a_new_one_started(tmp_path):
    (tmp_path / "events.db").write_bytes(b"not a database, whatever it was" * 100)
    with SqliteSink(tmp_path / "events.db") as db:
        db.write(event(1))
    assert sqlite3.connect(tmp_path / "events.db").execute("SELECT event_id FROM events").fetchall() == [("id1",)]
    assert (tmp_path / "events.damaged.db").read_bytes() == b"not a database, whatever it was" * 100


def test_frame_store_boxes_the_plate_and_keeps_the_newest_images(tmp_path):
    import os

    from pipeline.stores import FrameStore

    old = tmp_path / "frames" / "old.jpg"  # from an earlier run: the oldest, the first to go
    old.parent.mkdir()
    old.write_bytes(b"jpg")
    os.utime(old, (1, 1))
    store = FrameStore(tmp_path / "frames", keep=2)
    paths = [store(event(i), np.zeros((60, 80, 3), np.uint8)) for i in (1, 2, 3)]
    assert sorted(p.name for p in (tmp_path / "frames").iterdir()) == ["id2.jpg", "id3.jpg"]
    img = cv2.imread(paths[-1])
    assert img.shape == (60, 80, 3) and img[4, 2, 2] > 200 and img[4, 2, 1] < 60  # box (1, 2, 3, 4) in red


def test_an_earlier_runs_file_is_kept_aside_not_overwritten(tmp_path):
    from pipeline.annotate import VideoSink
    from pipeline.sinks import keep_previous

    assert keep_previous(tmp_path / "reads.jsonl") is None
    (tmp_path / "reads.jsonl").write_text("run 1\n")
    assert keep_previous(tmp_path / "reads.jsonl") == tmp_path / "reads.prev.jsonl"
    (tmp_path / "reads.jsonl").write_text("run 2\n")
    assert keep_previous(tmp_path / "reads.jsonl") == tmp_path / "reads.prev1.jsonl"
    (tmp_path / "reads.jsonl").write_text("run 3\n")
    assert keep_previous(tmp_path / "reads.jsonl") == tmp_path / "reads.prev2.jsonl"
    assert [(tmp_path / n).read_text() for n in ("reads.prev.jsonl", "reads.prev1.jsonl", "reads.prev2.jsonl")] == [
        "run 1\n", "run 2\n", "run 3\n"]
    assert not (tmp_path / "reads.jsonl").exists()

    frame = np.zeros((48, 64, 3), np.uint8)
    for shade in (0, 255):  # two runs into one folder: the first run's video survives the second
        with VideoSink(tmp_path / "annotated.mp4", 5) as v:
            for _ in range(3):
                v.write(frame + shade)
    first = cv2.VideoCapture(str(tmp_path / "annotated.prev.mp4"))
    ok, img = first.read()
    assert ok and img.mean() < 30
    ok, img = cv2.VideoCapture(str(tmp_path / "annotated.mp4")).read()
    assert ok and img.mean() > 220


def test_a_video_is_retimed_only_before_its_first_frame(tmp_path):
    from pipeline.annotate import VideoSink

    with VideoSink(tmp_path / "annotated.mp4", 25, segment_frames=1500) as v:
        v.retime(0, 600)
        assert (v.fps, v.segment_frames) == (25.0, 600)  # no rate known: 25
        v.retime(0.5, 30)
        assert v.fps == 0.5  # a time-lapse camera's
        v.retime(10, 600)
        v.write(np.zeros((48, 64, 3), np.uint8), 0.0)
        v.retime(30, 1800)  # a frame is in: the video goes on at its rate
        assert (v.fps, v.segment_frames) == (10.0, 600)


def test_the_roi_and_the_line_are_drawn_with_the_tracks():
    from pipeline.annotate import draw
    from pipeline.types import Tracks

    z = Zones(ZoneConfig(roi=((0.1, 0.5), (0.9, 0.5), (0.9, 0.9), (0.1, 0.9)), line=((0.5, 0.0), (0.5, 0.4))), 200, 100)
    blank = np.zeros((100, 200, 3), np.uint8)
    none = Tracks()
    out = draw(blank, none, {}, zones=z)
    assert out[50, 100].tolist() == [0, 220, 255] and out[90, 20].tolist() == [0, 220, 255]  # the roi's edges
    assert out[20, 100].tolist() == [255, 128, 0]  # the line
    assert out[70, 100].tolist() == [0, 0, 0] and not draw(blank, none, {}).any()  # inside it, and without zones
    assert out[70, 20].tolist() == [0, 220, 255]  # the roi is closed: its last corner joined to its first


@pytest.mark.parametrize("width, roi_px, line_px", [(959, 1, 3), (1920, 3, 5)])
def test_the_zone_lines_thicken_with_the_frame(width, roi_px, line_px):
    """Below 960 px wide the roi is drawn 1 px thick and the counting line 3 px; a 1920 px frame gets 3 and 5."""
    from pipeline.annotate import draw
    from pipeline.types import Tracks

    roi = ((0.1, 0.5), (0.9, 0.5), (0.9, 0.9), (0.1, 0.9))
    z = Zones(ZoneConfig(roi=roi, line=((0.5, 0.0), (0.5, 0.4))), width, 400)
    out = draw(np.zeros((400, width, 3), np.uint8), Tracks(), {}, zones=z)
    assert (out[:, width // 3, 2] == 255).sum() == 2 * roi_px  # the roi's top and bottom edges
    assert (out[100, :, 0] == 255).sum() == line_px


def test_a_track_s_label_is_its_id_and_text_in_black_on_a_bar_of_its_colour():
    """The box in 3 px lines; above it a bar from the box's left edge, as wide as the label `#7 AB123` (OpenCV's
    simplex font at 0.6, 2 px) plus 6 px and as tall plus 8 px; the label in black, 3 px in, its baseline 5 px up."""
    from pipeline.annotate import draw
    from pipeline.types import Tracks

    tracks = Tracks(np.array([[40, 100, 200, 140]], np.float32), np.array([0.9], np.float32), np.array([7]))
    out = draw(np.zeros((200, 300, 3), np.uint8), tracks, {7: "AB123"})
    (tw, th), _ = cv2.getTextSize("#7 AB123", cv2.FONT_HERSHEY_SIMPLEX, 0.6, 2)
    green = (out == [0, 220, 0]).all(axis=2)
    assert green[120, 36:45].tolist() == [False] * 3 + [True] * 3 + [False] * 3  # the box's left edge at x=40
    top, right = 100 - th - 8, 40 + tw + 6
    ys, xs = np.nonzero(out.any(axis=2)[:99])  # above the box's top edge: only the bar
    assert (ys.min(), xs.min(), xs.max()) == (top, 40, right)
    bar = out[top:100, 40:right + 1]
    text_ys, text_xs = np.nonzero(bar[:, :, 1] < 110)  # dark: the text (OpenCV 5 smooths its edges)
    assert (bar == 0).all(axis=2).sum() > 100 and not bar[~green[top:100, 40:right + 1]][:, [0, 2]].any()  # black
    assert 43 <= text_xs.min() + 40 <= 45 and 93 <= text_ys.max() + top <= 95  # 3 px in, the baseline at y1 - 5
    assert right - 8 <= text_xs.max() + 40 <= right - 4  # the label fills the bar (at its size, within the bar)


def test_image_reads_are_appended_to_a_watched_folders_and_kept_aside_otherwise(tmp_path):
    from pipeline.sinks import ImageReadsSink

    read = {"box": [1, 2, 3, 4], "text": "AB123", "confidence": 0.9}
    with ImageReadsSink(tmp_path, watch_columns=False) as sink:
        sink.write("a.jpg", [read], "2026-12-03T14:20:00.000Z")
    with ImageReadsSink(tmp_path, watch_columns=False, append=True) as sink:
        assert sink.read_before() == {"a.jpg"}
        sink.write("b.jpg", [])
    assert (tmp_path / "reads.csv").read_text(encoding="utf-8-sig").splitlines() == [
        "source,file_time_utc,taken_utc,lat,lon,x1,y1,x2,y2,text,confidence",
        "a.jpg,2026-12-03T14:20:00.000Z,,,,1,2,3,4,AB123,0.9"]
    with ImageReadsSink(tmp_path, watch_columns=True, append=True) as sink:  # a watchlist now: other columns
        assert sink.read_before() == {"a.jpg", "b.jpg"}
        sink.write("c.jpg", [{**read, "watch": "AB123", "watch_label": "stolen"}])
    assert (tmp_path / "reads.prev.csv").read_text(encoding="utf-8-sig").count("\n") == 2  # the earlier table, whole
    assert (tmp_path / "reads.csv").read_text(encoding="utf-8-sig").splitlines()[1] == (
        "c.jpg,,,,,1,2,3,4,AB123,0.9,AB123,stolen")
    with ImageReadsSink(tmp_path, watch_columns=False) as sink:  # a run that does not append starts anew
        assert sink.read_before() == set()
    assert (tmp_path / "reads.prev.jsonl").read_text().count("\n") == 3
