import json
import re
import struct
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import pytest

from common.errors import UserError
from pipeline.recording import (MP4_EPOCH, check_start, container_start, cut_off_movie, given_start, movie_whole,
                                name_offset, recording_clock)

CONFIGS = Path(__file__).resolve().parents[2] / "configs"
NIGHT = datetime(2026, 12, 5, 22, 0, tzinfo=timezone.utc).timestamp()


def box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I4s", 8 + len(payload), kind) + payload


def mvhd(epoch: float, version: int = 0) -> bytes:
    stamp = int(epoch) + MP4_EPOCH if epoch else 0
    times = struct.pack(">QQ", stamp, stamp) if version else struct.pack(">II", stamp, stamp)
    return box(b"mvhd", bytes([version, 0, 0, 0]) + times + bytes(80))


def big_box(kind: bytes, payload: bytes) -> bytes:
    """A box with a 64-bit size, as files over 4 GB have their media."""
    return struct.pack(">I4sQ", 1, kind, 16 + len(payload)) + payload


def mp4(path: Path, epoch: float, version: int = 0, big_mdat: bool = False, moov_size: str = "") -> Path:
    """An MP4's boxes as a camera lays them out: ftyp, the media, then the movie header (its time) inside moov (its
    size written as 64 bits with `moov_size="big"`, as 0, "to the end of the file", with "end")."""
    media = bytes(1000)
    mdat = big_box(b"mdat", media) if big_mdat else box(b"mdat", media)
    inside = box(b"trak", bytes(20)) + mvhd(epoch, version)
    moov = {"": box, "big": big_box}.get(moov_size, lambda k, b: struct.pack(">I4s", 0, k) + b)(b"moov", inside)
    path.write_bytes(box(b"ftyp", b"isom" + bytes(4)) + mdat + moov)
    return path


@pytest.mark.parametrize("value, epoch", [
    ("2026-12-05T22:00:00Z", NIGHT), ("2026-12-05T23:00:00+01:00", NIGHT), ("2026-12-05 22:00", NIGHT),  # no offset:
    ("2026-12-05T22:00:00.5", NIGHT + 0.5), ("2026-12-05", NIGHT - 22 * 3600),  # UTC, as the key says
    ("", None), ("file", None), (" file ", None),
])
def test_a_given_start_is_an_iso_time(value, epoch):
    assert given_start(value) == epoch


@pytest.mark.parametrize("value", ["yesterday", "22:00", "2026-13-01"])
def test_a_start_that_is_no_time_is_one_line(value):
    with pytest.raises(UserError) as exc:
        given_start(value)
    assert str(exc.value) == (f"config key 'video_start_utc': {value!r} is not a time (e.g. 2026-12-05T22:00:00Z, or "
                              "file: the time the file's container holds, or name: the time in its name, name+01:00 "
                              "where the names are in that offset's local time)")


@pytest.mark.parametrize("name, local", [
    ("2026_1205_230000_001F.TS", True), ("20261205_230000_NF.mp4", True), ("ch01_20261205230000.avi", True),
    ("2026-12-05.23.00.00-23.15.00[M][0@0][0].dav", True), ("REC 2026-12-05 23.00.00.mkv", True),
    ("NO20261205-230000-000123F.MP4", True), ("cam_20261345_120000_20261205_230000.mts", True),  # not a date: the next
    ("GH010123.MP4", False), ("2026_12_05.avi", False), ("120261205230000.ts", False),
])
def test_the_recording_time_in_a_files_name_is_read_in_the_offset_given(tmp_path, name, local, logged):
    """Dash cams', NVRs' and Dahua's names; `name+01:00`: written at +01:00, so 23:00 there is 22:00 UTC."""
    (tmp_path / name).write_bytes(b"")
    assert given_start("name+01:00") is None and given_start("NAME") is None  # each file's own
    lines, clock = logged(lambda: recording_clock(tmp_path / name, "name+01:00"), "WARNING")
    assert clock == (NIGHT if local else None)
    assert lines == ([] if local else [("WARNING", f"{name}: its name holds no date and time (video_start_utc="
                                                   "name+01:00: e.g. 20261206_123000); its events carry positions in "
                                                   "the video only")])
    if local:
        assert recording_clock(tmp_path / name, "name") == NIGHT + 3600  # no offset: UTC
        assert recording_clock(tmp_path / name, "name-0530") == NIGHT + 6.5 * 3600


@pytest.mark.parametrize("value, hours", [("name+14:00", 14), ("name-12:00", -12), ("name+05:59", 5 + 59 / 60),
                                         ("name+1", 1), ("NAME-0330", -3.5)])
def test_offsets_from_minus_12_to_plus_14_are_clocks(value, hours):
    assert name_offset(value).total_seconds() == hours * 3600


@pytest.mark.parametrize("value", ["name+15:00", "name-14:30", "name+01:60", "name+14:01", "name-12:01"])
def test_an_offset_no_clock_has_is_one_line(value):
    with pytest.raises(UserError, match=re.escape(f"config key 'video_start_utc': {value!r}: ") +
                       r"[+-]\d\d:\d\d is no offset from UTC \(-12:00 to \+14:00\)$"):
        given_start(value)


@pytest.mark.parametrize("value, hours", [("+01:00", 1), ("-0530", -5.5), (" +14:00 ", 14), ("", None), ("-5", -5),
                                         ("+05", 5), ("-03:30", -3.5), ("+5:30", 5.5)])
def test_a_cameras_clock_offset_is_read(value, hours):
    from pipeline.recording import utc_offset

    got = utc_offset(value, "photo_utc_offset")
    assert (got.total_seconds() / 3600 if got is not None else None) == hours


@pytest.mark.parametrize("value, says", [("1", "is not an offset from UTC (+01:00, -05:00, -5)"),
                                         ("CET", "is not an offset from UTC (+01:00, -05:00, -5)"),
                                         ("+5:3", "is not an offset from UTC (+01:00, -05:00, -5)"),
                                         ("+15:00", "+15:00 is no offset from UTC (-12:00 to +14:00)"),
                                         ("+15", "+15:00 is no offset from UTC (-12:00 to +14:00)")])
def test_an_offset_that_is_none_is_one_line(value, says):
    from pipeline.recording import utc_offset

    with pytest.raises(UserError, match=re.escape(f"config key 'photo_utc_offset': {value!r}: {says}")
                       if "no offset" in says else re.escape(f"config key 'photo_utc_offset': {value!r} {says}")):
        utc_offset(value, "photo_utc_offset")


@pytest.mark.parametrize("version, big_mdat, moov_size", [(0, False, ""), (1, False, ""), (0, True, ""),
                                                         (0, False, "big"), (1, False, "end")])
def test_the_containers_recording_time_is_read_from_its_movie_header(tmp_path, version, big_mdat, moov_size):
    assert container_start(mp4(tmp_path / "a.mp4", NIGHT, version, big_mdat, moov_size)) == NIGHT


def test_a_file_cut_short_after_its_movie_header_keeps_its_time(tmp_path):
    whole = mp4(tmp_path / "a.mp4", NIGHT).read_bytes()
    at = whole.index(b"mvhd") + 4 + 12  # its version, flags and times kept, the rest of it lost
    (tmp_path / "a.mp4").write_bytes(whole[:at])
    assert container_start(tmp_path / "a.mp4") == NIGHT
    (tmp_path / "a.mp4").write_bytes(whole[:at - 1])  # its time cut
    assert container_start(tmp_path / "a.mp4") is None


@pytest.mark.parametrize("when, read", [("1971-01-01T00:00:01Z", True), ("1970-12-31T23:59:59Z", False)])
def test_a_recording_time_in_1970_is_a_clock_never_set(tmp_path, when, read):
    epoch = datetime.fromisoformat(when.replace("Z", "+00:00")).timestamp()
    assert container_start(mp4(tmp_path / "a.mp4", epoch)) == (epoch if read else None)


@pytest.mark.parametrize("make", [
    lambda p: mp4(p, 0),  # never set (OpenCV's writer leaves it 0)
    lambda p: mp4(p, 3600),  # 1970: a camera whose clock was never set
    lambda p: p.write_bytes(mp4(p, NIGHT).read_bytes()[:1050]),  # cut short before its movie header
    lambda p: p.write_bytes(b"RIFF" + bytes(200)),  # not an MP4 (an AVI's header)
    lambda p: p.write_bytes(b""),
])
def test_a_file_without_a_recording_time_has_none(tmp_path, make):
    make(tmp_path / "a.mp4")
    assert container_start(tmp_path / "a.mp4") is None


def test_an_mp4_is_whole_with_its_movie_header_and_no_box_past_its_end(tmp_path):
    whole = mp4(tmp_path / "a.mp4", NIGHT).read_bytes()
    assert movie_whole(tmp_path / "a.mp4")
    (tmp_path / "a.mp4").write_bytes(whole[:-1])  # its last box cut short
    assert not movie_whole(tmp_path / "a.mp4")
    (tmp_path / "a.mp4").write_bytes(whole[:whole.index(b"moov") - 4])  # the media whole, the header not yet written
    assert not movie_whole(tmp_path / "a.mp4") and not movie_whole(tmp_path / "none.mp4")


def test_a_movie_cut_off_before_its_header_was_written_is_told_from_one_that_is_no_movie(tmp_path):
    whole = mp4(tmp_path / "a.mp4", NIGHT).read_bytes()
    media_only = whole[:whole.index(b"moov") - 4]
    for name, data, cut in [("whole.mp4", whole, False), ("cut.mp4", media_only, True),
                            ("cut_short.mp4", media_only[:-10], True),  # its media cut short too
                            ("qt.mov", struct.pack(">I4s", 8, b"wide") + media_only[16:], True),  # QuickTime's start
                            ("ftyp_only.mp4", media_only[:16], False),  # no frames: not a recording cut off
                            ("notes.mp4", b"\x00garbage" * 100, False), ("empty.mp4", b"", False)]:
        (tmp_path / name).write_bytes(data)
        assert cut_off_movie(tmp_path / name) is cut, name
    assert not cut_off_movie(tmp_path / "none.mp4")


def test_file_on_a_video_without_a_time_says_so_and_gives_positions_only(tmp_path, logged):
    lines, clock = logged(lambda: recording_clock(mp4(tmp_path / "a.mp4", 0), "file"), "WARNING")
    assert clock is None and lines == [("WARNING", "a.mp4: its container holds no recording time (video_start_utc="
                                                   "file); its events carry positions in the video only")]
    assert recording_clock(tmp_path / "a.mp4", "2026-12-05T22:00:00Z") == NIGHT  # a time given: the file not read


def test_a_recorders_playback_takes_the_time_its_window_begins():
    check_start("rtsp://nvr/Streaming/tracks/101?starttime=20261206T120000Z&endtime=20261206T130000Z",
                "2026-12-06T12:00:00+01:00")  # no error: its events from 11:00 UTC on


@pytest.mark.parametrize("spec, value, message", [
    ("0", "file", "video_start_utc is for video files, not 0 (a camera's events carry the time they are seen)"),
    ("rtsp://u:p@cam/1", "2026-12-05", "video_start_utc is for video files, not rtsp://***@cam/1 (a camera's events "
                                       "carry the time they are seen)"),
    ("clip.mp4", "noon", "config key 'video_start_utc': 'noon' is not a time (e.g. 2026-12-05T22:00:00Z, or file: the "
                         "time the file's container holds, or name: the time in its name, name+01:00 where the names "
                         "are in that offset's local time)"),
    ("rtsp://nvr/cam/playback?channel=1&starttime=2026_12_06_12_00_00&endtime=2026_12_06_13_00_00", "file",
     "video_start_utc=file is for video files: a recorder's playback rtsp://nvr/cam/playback?channel=1&starttime="
     "2026_12_06_12_00_00&endtime=2026_12_06_13_00_00 takes the time its window begins (video_start_utc="
     "2026-12-05T22:00:00+01:00)"),
    ("https://nvr/export/gate%20in.mp4?sig=1", "file",
     "video_start_utc=file reads a file's container on disk, not gate in.mp4's on a web server: give its start "
     "(video_start_utc=2026-12-05T22:00:00Z)"),
])
def test_a_start_a_source_cannot_have_is_refused(spec, value, message):
    with pytest.raises(UserError) as exc:
        check_start(spec, value)
    assert str(exc.value) == message
    check_start(spec, "")  # none: any source


def stamped_video(path: Path, epoch: float) -> Path:
    """10 frames at 10 fps written by OpenCV as MP4, its movie header then given `epoch` (OpenCV leaves it 0)."""
    from tests.pipeline.test_sources import numbered_video

    data = bytearray(numbered_video(path, 10).read_bytes())
    at = data.index(b"mvhd") + 4  # the header's version byte
    assert data[at] == 0
    data[at + 4:at + 8] = struct.pack(">I", int(epoch) + MP4_EPOCH)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("args", [["video_start_utc=file"], ["video_start_utc=2026-12-05T23:00:00+01:00"]])
def test_a_recorded_files_events_carry_utc_times_from_its_start(tmp_path, args):
    """One vehicle in every frame of a 10-frame file read from 0.3 s: seen 22:00:00.300 to 22:00:00.900 UTC."""
    from pipeline.app import run_video
    from pipeline.settings import load_configs
    from tests.pipeline.test_sources import one_plate_models

    clip = stamped_video(tmp_path / "v.mp4", NIGHT)
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path}", "progress=false", "sqlite=false", "motion_gate=false",
                                  "video_out=false", "start_s=0.3", *args])
    run_video(str(clip), cfgs, threading.Event(), *one_plate_models())
    (event,) = [json.loads(x) for x in (tmp_path / "v" / "events.jsonl").read_text().splitlines()]
    assert (event["first_seen_utc"], event["last_seen_utc"]) == ("2026-12-05T22:00:00.300Z", "2026-12-05T22:00:00.900Z")
    from pipeline.search import find

    hits, untimed = find("AB123CD", [tmp_path], since="2026-12-05T21:00", until="2026-12-05T23:00")
    assert [(h.at, h.seen_utc) for h in hits] == [("0.3-0.9 s", "2026-12-05T22:00:00.300Z")] and untimed == 0


def test_a_recorders_playback_read_once_carries_times_from_its_windows_start(tmp_path, monkeypatch):
    """An NVR's RTSP playback (a recording's window) given its start: one event, timed from it (not from when it was
    read), and the run ends with the window."""
    import cv2

    import pipeline.sources as sources
    from pipeline.app import run_video
    from pipeline.settings import load_configs
    from tests.pipeline.test_sources import one_plate_models

    clip = stamped_video(tmp_path / "v.mp4", NIGHT)
    real, now = sources.LiveSource, time.time

    def open_source(spec, *args, **kw):  # the playback's RTSP stream: the clip, read as a stream is
        assert sources.is_playback(spec)
        src = real(spec, sources.LiveConfig(), lambda url, cfg: cv2.VideoCapture(str(clip)), once=True)
        monkeypatch.setattr(time, "time", lambda: now() + 3600.0)  # the system clock set as it plays: its times stay
        return src

    monkeypatch.setattr(sources, "open_source", open_source)
    url = "rtsp://nvr/Streaming/tracks/101?starttime=20261205T220000Z&endtime=20261205T221000Z"
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path}", "progress=false", "sqlite=false", "motion_gate=false",
                                  "video_out=false", "video_start_utc=2026-12-05T22:00:00Z"])
    run_video(url, cfgs, threading.Event(), *one_plate_models())
    (out,) = [p for p in tmp_path.iterdir() if (p / "events.jsonl").is_file()]
    (event,) = [json.loads(x) for x in (out / "events.jsonl").read_text().splitlines()]
    assert event["first_seen_utc"].startswith("2026-12-05T22:00:0") and event["text"] == "AB123CD"


def test_two_gates_recordings_given_their_starts_give_the_stay_between_them(tmp_path):
    """A car park's entry and exit cameras recorded apart, each file read with its start: the vehicle's stay."""
    from pipeline.app import run_video
    from pipeline.settings import load_configs
    from pipeline.stays import stays
    from tests.pipeline.test_sources import numbered_video, one_plate_models

    for gate, start in (("gate-in", "2026-12-05T22:00:00Z"), ("gate-out", "2026-12-05T23:30:00Z")):
        cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path}", "progress=false", "motion_gate=false",
                                      "video_out=false", f"video_start_utc={start}"])
        run_video(str(numbered_video(tmp_path / f"{gate}.avi", 5)), cfgs, threading.Event(), *one_plate_models())
    (stay,), untimed = stays([tmp_path], entry="gate-in", exit_="gate-out")
    assert (stay.plate, stay.entry_utc, stay.exit_utc, stay.minutes, stay.status, untimed) == (
        "AB123CD", "2026-12-05T22:00:00.000Z", "2026-12-05T23:30:00.000Z", 90.0, "stayed", 0)
