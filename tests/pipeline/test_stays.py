from dataclasses import replace

import pytest

from common.errors import UserError
from pipeline.sinks import JsonlSink, SqliteSink
from pipeline.stays import main, stays
from pipeline.types import PlateEvent


def event(i: int, text: str, seen: str, direction: str = "", source: str = "cam") -> PlateEvent:
    return PlateEvent(f"id{i}", source, i, text, 0.9, (0.9,) * len(text), (), 3, i, i + 2, float(i), i + 0.5, i,
                      (1.0, 2.0, 3.0, 4.0), "lost", direction=direction, first_seen_utc=seen, last_seen_utc=seen)


def day(hh_mm: str) -> str:
    return f"2026-12-01T{hh_mm}:00.000Z"


def rows(found):
    return [(s.plate, s.entry_utc[11:16], s.exit_utc[11:16], s.minutes, s.status, s.exit_plate) for s in found]


@pytest.fixture
def car_park(tmp_path):
    """A camera at each gate: gate-in and gate-out (no counting line)."""
    for name, moves in (("gate-in", [("AB123CD", "08:00"), ("XY999ZZ", "08:30"), ("Q0Q111", "09:00"),
                                      ("XY999ZZ", "12:00"), ("KMH306", "13:00")]),
                        ("gate-out", [("AB123CD", "10:15"), ("QOQ111", "09:45"), ("LATE1", "07:00"),
                                      ("XY999Z2", "12:30"), ("KMH806", "13:30")])):
        (tmp_path / name).mkdir()
        with SqliteSink(tmp_path / name / "events.db") as db:
            for i, (text, hh_mm) in enumerate(moves):
                db.write(event(i, text, day(hh_mm), source=f"rtsp://{name}"))
    return tmp_path


def test_each_exit_closes_its_plates_entry(car_park):
    found, untimed = stays([car_park], "gate-in", "gate-out")
    assert rows(found) == [("LATE1", "", "07:00", None, "no entry seen", ""),  # came in before the period
                           ("AB123CD", "08:00", "10:15", 135.0, "stayed", ""),
                           ("XY999ZZ", "08:30", "", None, "no exit seen", ""),  # in again at 12:00, never out
                           ("Q0Q111", "09:00", "09:45", 45.0, "stayed", "QOQ111"),  # O and 0 one character
                           ("XY999ZZ", "12:00", "", None, "inside", ""),
                           ("XY999Z2", "", "12:30", None, "no entry seen", ""),  # read a character off
                           ("KMH306", "13:00", "", None, "inside", ""),
                           ("KMH806", "", "13:30", None, "no entry seen", "")]
    assert untimed == 0


def test_an_exit_read_a_character_off_is_matched_with_max_edits(car_park):
    found, _ = stays([car_park], "gate-in", "gate-out", max_edits=1)
    assert rows(found) == [("LATE1", "", "07:00", None, "no entry seen", ""),
                           ("AB123CD", "08:00", "10:15", 135.0, "stayed", ""),
                           ("XY999ZZ", "08:30", "", None, "no exit seen", ""),
                           ("Q0Q111", "09:00", "09:45", 45.0, "stayed", "QOQ111"),
                           ("XY999ZZ", "12:00", "12:30", 30.0, "stayed", "XY999Z2"),
                           ("KMH306", "13:00", "13:30", 30.0, "stayed", "KMH806")]


def test_one_camera_with_a_counting_line_and_the_command(tmp_path, capsys):
    (tmp_path / "gate").mkdir()
    with JsonlSink(tmp_path / "gate" / "events.jsonl") as js:  # no database: the JSON lines are read
        js.write(event(1, "AB123CD", day("08:00"), "in"))
        js.write(event(2, "ZZ11", day("08:10"), ""))  # did not cross the line: neither
        js.write(event(3, "AB123CD", day("09:30"), "out"))
        js.write(event(4, "CD456EF", day("09:40"), "in"))
        js.write(event(5, "EF789GH", "", "in", source="clip.mp4"))  # a video file's: no time
    assert main([str(tmp_path), "--csv", str(tmp_path / "stays.csv")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["AB123CD", "2026-12-01", "08:00:00", "2026-12-01", "09:30:00", "90.0", "min", "stayed"]
    assert out[1].split()[-1] == "inside"
    assert out[-1] == ("1 stays, median 90.0 min; 1 inside; 0 with no exit seen, 0 with no entry seen; 1 entry/exit "
                       "events without a time (video files) left out")
    assert (tmp_path / "stays.csv").read_text(encoding="utf-8-sig").splitlines()[0] == (
        "plate,entry_utc,exit_utc,minutes,status,exit_plate,entry_confidence,exit_confidence")


def test_entry_and_exit_must_differ(tmp_path):
    with pytest.raises(UserError, match=r"^--entry and --exit must differ \(both 'in'\)$"):
        stays([tmp_path], "in", "in")


def test_events_that_are_neither_entries_nor_exits_are_said(tmp_path, capsys):
    """Vehicles read with no direction (no counting line) and no gate names: one error line, not "0 stays"."""
    (tmp_path / "cam").mkdir()
    with JsonlSink(tmp_path / "cam" / "events.jsonl") as js:
        js.write(event(1, "AB123CD", day("08:00"), ""))
        js.write(event(2, "CD456EF", day("08:10"), ""))
    assert main([str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: none of the 2 vehicles read under {tmp_path} is an entry ('in') or an exit ('out')")
    assert main([str(tmp_path), "--entry", "cam", "--exit", "gate-out"]) == 0  # the camera named as the entry
    assert capsys.readouterr().out.splitlines()[-1].startswith("0 stays; 2 inside")


def test_since_and_until_keep_the_moves_of_the_period_their_bounds_included(car_park):
    """A move at the very minute of --since or --until is in the period; one a minute outside is not."""
    found, _ = stays([car_park], "gate-in", "gate-out", since="2026-12-01 08:30", until="2026-12-01 12:00")
    assert rows(found) == [("XY999ZZ", "08:30", "", None, "no exit seen", ""),
                           ("Q0Q111", "09:00", "09:45", 45.0, "stayed", "QOQ111"),
                           ("AB123CD", "", "10:15", None, "no entry seen", ""),  # its 08:00 entry is before --since
                           ("XY999ZZ", "12:00", "", None, "inside", "")]
    later, _ = stays([car_park], "gate-in", "gate-out", since="2026-12-01 08:31", until="2026-12-01 11:59")
    assert [r[:3] for r in rows(later)] == [("Q0Q111", "09:00", "09:45"), ("AB123CD", "", "10:15")]
    whole_day, _ = stays([car_park], "gate-in", "gate-out", until="2026-12-01")  # a bare date: to its end
    assert len(whole_day) == 8


def test_an_exit_a_character_off_closes_the_nearest_entry_then_the_longest_open(tmp_path):
    """With --max-edits 2 an exit closes the nearest open entry (one edit off) before a farther one (two) that
    entered earlier, and of two as near the one that entered first. The stays keep both sides' confidences;
    minutes are rounded to a tenth."""
    (tmp_path / "gate").mkdir()
    with JsonlSink(tmp_path / "gate" / "events.jsonl") as js:
        moves = [("AB12", "08:00:00", "in", 0.5), ("AB123D", "08:10:00", "in", 0.6), ("AB123C", "08:20:00", "in", 0.7),
                 ("AB123X", "09:00:20", "out", 0.8), ("AB123Y", "09:30:00", "out", 0.95)]
        for i, (text, hh_mm_ss, way, conf) in enumerate(moves):
            js.write(replace(event(i, text, f"2026-12-01T{hh_mm_ss}.000Z", way), confidence=conf))
    found, _ = stays([tmp_path], max_edits=2)
    assert [(s.plate, s.exit_plate, s.minutes, s.status, s.entry_confidence, s.exit_confidence) for s in found] == [
        ("AB12", "", None, "inside", 0.5, None),  # two edits from both exits: nearer entries go first
        ("AB123D", "AB123X", 50.3, "stayed", 0.6, 0.8),  # as near as AB123C, entered before it
        ("AB123C", "AB123Y", 70.0, "stayed", 0.7, 0.95)]


def test_a_gate_named_by_its_source_or_direction(tmp_path):
    """An entry or exit is told by its direction, its output folder, or its source (a camera's address)."""
    (tmp_path / "run").mkdir()
    with JsonlSink(tmp_path / "run" / "events.jsonl") as js:
        js.write(event(1, "AB123CD", day("08:00"), source="rtsp://gate-in"))
        js.write(event(2, "AB123CD", day("08:05"), source="rtsp://gate-out"))
        js.write(event(3, "CD456EF", day("08:06"), direction="in", source="rtsp://gate-out"))  # direction first
    found, _ = stays([tmp_path], "rtsp://gate-in", "rtsp://gate-out")
    assert [(s.plate, s.minutes, s.status) for s in found] == [("AB123CD", 5.0, "stayed"),
                                                               ("CD456EF", None, "no entry seen")]
    found, _ = stays([tmp_path], "in", "rtsp://gate-out")
    assert [(s.plate, s.status) for s in found] == [("AB123CD", "no entry seen"), ("CD456EF", "inside")]
