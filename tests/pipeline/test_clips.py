"""A watched folder's video clips (`pipeline/clips.py`): each read once, its events in the folder's outputs, its
annotated video in `clips/<name>/`, listed in `clips.jsonl`; one a stop cut short gone on with by the next run from
where it stopped; the newest clips' videos kept."""
import json
import os
import shutil
import threading
import time
from contextlib import ExitStack
from pathlib import Path

import pytest

from common.errors import UserError
from pipeline.clips import CLIPS_READ, ClipVideos, clips_read, stopped_at
from pipeline.media import watch_media
from tests.pipeline.test_follow import PLATES, Taker
from tests.pipeline.test_sources import numbered_video, one_plate_models, stopping_detector
from tests.pipeline.test_webhook import Service, free_port

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def watch(folder: Path, out: Path, detector, stop: threading.Event, until, *more: str) -> dict:
    """`run_images` watching `folder` in a thread, stopped once `until()` holds (or by `stop` from inside); `more`:
    further overrides."""
    from pipeline.app import run_images
    from pipeline.settings import load_configs

    cfgs = load_configs(CONFIGS, ["follow=true", "follow_poll_s=0.02", f"output_dir={out}", "progress=false",
                                  "sqlite=false", "motion_gate=false", "video_out=false", *more])
    result: dict = {}
    t = threading.Thread(target=lambda: result.update(run_images(str(folder), cfgs, False, detector,
                                                                 one_plate_models()[1], stop=stop)))
    t.start()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not until() and t.is_alive():
        time.sleep(0.02)
    stop.set()
    t.join(30)
    return result


def lines(path: Path) -> list[dict]:
    return [{k: v for k, v in json.loads(x).items() if k != "read_utc"} for x in path.read_text().splitlines()]


def test_a_clip_that_comes_is_read_once_its_events_written_as_a_cameras_are(tmp_path):
    drop, out = tmp_path / "uploads", tmp_path / "out"
    drop.mkdir()
    numbered_video(drop / "v.avi")
    numbered_video(drop / "w.avi", 5)  # the watch goes on after a clip
    listed = out / "uploads" / CLIPS_READ
    first = watch(drop, out, one_plate_models()[0], threading.Event(),
                  lambda: listed.exists() and len(lines(listed)) == 2)
    assert first["clips"] == 2 and lines(listed) == [{"clip": "v.avi", "frames": 20, "vehicles": 1},
                                                     {"clip": "w.avi", "frames": 5, "vehicles": 1}]
    events = [json.loads(x) for x in (out / "uploads" / "events.jsonl").read_text().splitlines()]  # the folder's
    assert [(e["source"], e["first_frame"], e["last_frame"]) for e in events] == [("v.avi", 0, 19), ("w.avi", 0, 4)]
    assert [Path(e["crop_path"]).parent for e in events] == [out / "uploads" / "crops"] * 2
    assert sorted(f.name for f in (out / "uploads" / "clips" / "v").iterdir() if f.name != ".run.lock") == [
        "summary.json"]  # video_out=false here
    polls = time.monotonic() + 0.3
    second = watch(drop, out, one_plate_models()[0], threading.Event(), lambda: time.monotonic() > polls)
    assert second["clips"] == 0 and len(lines(listed)) == 2  # read before: not again


def test_a_clip_a_stop_cut_short_is_gone_on_with_by_the_next_run(tmp_path):
    drop, out = tmp_path / "uploads", tmp_path / "out"
    drop.mkdir()
    numbered_video(drop / "v.avi")
    stop, seen = threading.Event(), []
    listed = out / "uploads" / CLIPS_READ
    first = watch(drop, out, stopping_detector(stop, 7, seen), stop, lambda: False)
    assert first["clips"] == 0 and not listed.exists()
    assert stopped_at(out / "uploads" / "clips" / "v", "v.avi") == pytest.approx(0.6)
    assert stopped_at(out / "uploads" / "clips" / "v", "v.mp4") is None  # another clip of that folder
    second = watch(drop, out, stopping_detector(stop, 7, seen), threading.Event(), listed.exists)
    assert second["clips"] == 1 and lines(listed) == [{"clip": "v.avi", "frames": 13, "vehicles": 1}]
    assert seen == list(range(20))  # each frame once
    events = [json.loads(x) for x in (out / "uploads" / "events.jsonl").read_text().splitlines()]
    assert [(e["first_frame"], e["last_frame"], e["reason"]) for e in events] == [(0, 6, "stopped"), (7, 19, "end")]


def test_a_clip_that_cannot_be_read_is_said_listed_and_not_tried_again(tmp_path, logged):
    drop, out = tmp_path / "uploads", tmp_path / "out"
    drop.mkdir()
    (drop / "bad.mp4").write_bytes(b"\x00garbage" * 100)  # never a whole MP4: taken after WHOLE_AFTER_POLLS
    listed = out / "uploads" / CLIPS_READ
    said, _ = logged(lambda: watch(drop, out, one_plate_models()[0], threading.Event(), listed.exists), "ERROR")
    message = f"cannot open video (corrupt or unsupported): {drop / 'bad.mp4'}"
    assert said == [("ERROR", f"error: {message}")] and lines(listed) == [{"clip": "bad.mp4", "error": message}]
    assert clips_read(out / "uploads") == {"bad.mp4"}


def test_a_clips_events_a_service_did_not_take_are_sent_when_it_comes_up_while_the_watch_goes_on(tmp_path):
    """The clips' events go through the watched folder's webhook: a clip's own would be closed at the clip's end with
    the events the service had not taken left in `clips/<clip>/`, a folder no run comes back to."""
    drop, out = tmp_path / "uploads", tmp_path / "out"
    drop.mkdir()
    numbered_video(drop / "v.avi")
    port, up = free_port(), []
    listed = out / "uploads" / CLIPS_READ

    def until() -> bool:
        if listed.exists() and not up:
            up.append(Service(port))  # the service comes up after the clip was read
        return bool(up) and len(up[0].bodies) >= 1

    try:
        watch(drop, out, one_plate_models()[0], threading.Event(), until, f"webhook=http://127.0.0.1:{port}/e",
              "backoff_start_s=0.05", "backoff_max_s=0.1")
        assert up and [(b["source"], b["first_frame"], b["last_frame"]) for b in up[0].bodies] == [("v.avi", 0, 19)]
    finally:
        for s in up:
            s.close()
    assert not list(out.rglob("webhook_pending.jsonl"))


def test_a_clip_whose_outputs_cannot_be_written_is_not_listed_as_unreadable(tmp_path):
    """A full disk or an output folder that cannot be made is the run's mistake, not the clip's: it ends the watch
    (its one line) and the next run reads the clip; listed, the clip would never be read."""
    from pipeline.clips import ClipReader
    from pipeline.settings import load_configs

    out = tmp_path / "out"
    out.mkdir()
    (out / "clips").write_text("")  # a file where the clips' folders go
    clip = numbered_video(tmp_path / "v.avi", 5)
    cfgs = load_configs(CONFIGS, ["progress=false", "sqlite=false", "motion_gate=false", "video_out=false"])
    detector, recognizer = one_plate_models()
    with pytest.raises(UserError, match=f"cannot create output folder {out / 'clips' / 'v'}: Not a directory"):
        ClipReader(cfgs, out, threading.Event(), recognizer, ExitStack(), detector)(clip, "v.avi")
    assert not (out / CLIPS_READ).exists()
    (out / "clips").unlink()
    empty = tmp_path / "e.avi"
    empty.write_bytes(b"")  # the clip's own mistake: listed
    assert ClipReader(cfgs, out, threading.Event(), recognizer, ExitStack(), detector)(empty, "e.avi")
    assert lines(out / CLIPS_READ) == [{"clip": "e.avi", "error": f"video is empty (0 bytes): {empty}"}]


def test_an_mp4_still_being_uploaded_is_taken_once_whole(tmp_path):
    data = numbered_video(tmp_path / "made.mp4", 10).read_bytes()
    drop = tmp_path / "uploads"
    drop.mkdir()
    (drop / "a.mp4").write_bytes(data[:len(data) // 2])  # its media half written, no movie header yet
    stop = threading.Event()
    taker = Taker(watch_media(drop, set(), stop, poll_s=0.01, videos=True))
    time.sleep(0.05)  # a few polls (fewer than WHOLE_AFTER_POLLS) with its size held
    assert taker.got == []
    (drop / "a.mp4").write_bytes(data)
    assert [(p.name, size) for p, size in taker.take(1)] == [("a.mp4", len(data))]
    stop.set()
    shutil.copy(PLATES[0], drop / "b.jpg")  # a folder watched for images only passes its videos over
    images = Taker(watch_media(drop, set(), threading.Event(), poll_s=0.01))
    assert [p.name for p, _ in images.take(1)] == ["b.jpg"]
    time.sleep(0.1)
    assert [p.name for p, _ in images.got] == ["b.jpg"]


def test_a_clip_whose_end_cannot_be_told_is_taken_once_it_has_not_grown_for_ten_polls(tmp_path):
    from pipeline.media import WHOLE_AFTER_POLLS

    numbered_video(tmp_path / "v.avi", 5)
    stop = threading.Event()
    taker = Taker(watch_media(tmp_path, set(), stop, poll_s=0.02, videos=True))
    t0 = time.monotonic()
    taker.take(1)
    assert time.monotonic() - t0 >= WHOLE_AFTER_POLLS * 0.02
    stop.set()


def test_a_clips_detector_is_the_one_a_video_file_is_read_with(tmp_path, monkeypatch):
    """Built at the first clip as `run_video` builds it: boxes down to the tracker's low threshold reach the
    tracker (it was built from the still configs, at detector.conf)."""
    import detection
    from pipeline.clips import ClipReader
    from pipeline.settings import load_configs

    made = []
    monkeypatch.setattr(detection, "PlateDetector", lambda cfg: made.append(cfg) or object())
    cfgs = load_configs(CONFIGS, ["detector.conf=0.25", "tracker.track_low_thresh=0.1"])
    reader = ClipReader(cfgs, tmp_path, threading.Event(), recognizer=None, stack=ExitStack())
    assert reader._detector() is reader._detector() and [c.conf for c in made] == [0.1]  # built once


def test_clips_read_before_and_where_a_reading_stopped(tmp_path):
    (tmp_path / CLIPS_READ).write_text('{"clip": "a.mp4", "frames": 3}\n{"clip": "cam/b.mp4", "error": "x"}\n'
                                       '{"clip": "c.mp')  # the last line a crash left unfinished
    assert clips_read(tmp_path) == {"a.mp4", "cam/b.mp4"} and clips_read(tmp_path / "none") == set()
    for summary, at in [({"stopped": True, "position_s": 12.5}, 12.5), ({"stopped": False, "position_s": 12.5}, None),
                        ({"stopped": True, "position_s": None}, None), ([], None)]:
        (tmp_path / "summary.json").write_text(json.dumps({"source": "a.mp4", **summary} if summary else summary))
        assert stopped_at(tmp_path, "a.mp4") == at
    (tmp_path / "summary.json").write_text("{")
    assert stopped_at(tmp_path, "a.mp4") is None and stopped_at(tmp_path / "none", "a.mp4") is None


def clip_outputs(root: Path, name: str, *videos: str, age_s: float = 0.0) -> Path:
    """A clip's output folder under `root` with its summary and `videos`, their times `age_s` ago."""
    folder = root / name
    folder.mkdir(parents=True)
    for f in ("summary.json", *videos):
        (folder / f).write_text("x")
        if age_s:
            os.utime(folder / f, (time.time() - age_s,) * 2)
    return folder


def kept(root: Path) -> list[str]:
    return sorted(v.relative_to(root).as_posix() for ext in ("mp4", "mkv") for v in root.glob(f"**/annotated*.{ext}"))


def test_the_newest_clips_videos_are_kept_earlier_runs_and_a_clip_gone_on_with_included(tmp_path):
    root = tmp_path / "clips"
    clip_outputs(root, "cam1/old", "annotated.mkv", age_s=60)  # an earlier run's (video_container=mkv)
    videos = ClipVideos(root, keep=2, min_free_mb=0)
    videos.added(clip_outputs(root, "a", "annotated.mp4", age_s=30))  # a stop cut it short
    assert kept(root) == ["a/annotated.mp4", "cam1/old/annotated.mkv"]
    videos.added(clip_outputs(root, "b", "annotated.mp4"))
    assert kept(root) == ["a/annotated.mp4", "b/annotated.mp4"]  # the oldest clip's video gone...
    assert (root / "cam1" / "old" / "summary.json").exists()  # ...not its summary
    (root / "a" / "annotated.prev.mp4").write_text("x")
    videos.added(root / "a")  # gone on with: now the newest
    videos.added(clip_outputs(root, "c", "annotated.mp4"))
    assert kept(root) == ["a/annotated.mp4", "a/annotated.prev.mp4", "c/annotated.mp4"]
    (root / "a" / "annotated.mp4").unlink()  # deleted by hand meanwhile
    videos.added(clip_outputs(root, "d", "annotated.mp4"))
    assert kept(root) == ["c/annotated.mp4", "d/annotated.mp4"]


def test_while_the_disk_is_short_each_clips_video_replaces_the_oldest(tmp_path, monkeypatch, logged):
    from pipeline import stores

    root, room = tmp_path / "clips", [100.0]
    monkeypatch.setattr(stores, "free_mb", lambda path: room[0])
    videos = ClipVideos(root, keep=0, min_free_mb=500)
    videos.added(clip_outputs(root, "first", "annotated.mp4"))
    assert kept(root) == ["first/annotated.mp4"]  # the only one is kept: the newest clip's video is never dropped
    (root / "first" / "annotated.mp4").unlink()
    videos, room[0] = ClipVideos(root, keep=0, min_free_mb=500), 10_000.0
    for name in "abc":
        videos.added(clip_outputs(root, name, "annotated.mp4"))
    room[0] = 100.0
    said, _ = logged(lambda: videos.added(clip_outputs(root, "d", "annotated.mp4")), "WARNING")
    assert kept(root) == ["b/annotated.mp4", "c/annotated.mp4", "d/annotated.mp4"]
    assert said == [("WARNING", f"{root}: under 500 MB free on its disk (min_free_mb): each clip's annotated video "
                                "replaces the oldest clip's; the events are still all written")]
    videos.added(clip_outputs(root, "e", "annotated.mp4"))
    assert kept(root) == ["c/annotated.mp4", "d/annotated.mp4", "e/annotated.mp4"]
    room[0] = 1_000.0
    videos.added(clip_outputs(root, "f", "annotated.mp4"))
    assert kept(root) == ["c/annotated.mp4", "d/annotated.mp4", "e/annotated.mp4", "f/annotated.mp4"]


def test_a_watch_keeps_the_annotated_videos_of_its_newest_clips(tmp_path):
    drop, out = tmp_path / "uploads", tmp_path / "out"
    drop.mkdir()
    numbered_video(drop / "v.avi", 5)
    numbered_video(drop / "w.avi", 5)
    listed = out / "uploads" / CLIPS_READ
    watch(drop, out, one_plate_models()[0], threading.Event(), lambda: listed.exists() and len(lines(listed)) == 2,
          "video_out=true", "video_keep_segments=1")
    assert kept(out / "uploads" / "clips") == ["w/annotated.mp4"]
    assert (out / "uploads" / "clips" / "v" / "summary.json").exists()


def clips_read_in_turn(made, out, *overrides):
    """The watched folder's events after a `ClipReader` (one-plate stand-in models) reads each clip of `made` in turn
    into `out`."""
    from pipeline.clips import ClipReader
    from pipeline.settings import load_configs

    cfgs = load_configs(CONFIGS, ["progress=false", "sqlite=false", "motion_gate=false", "video_out=false",
                                  *overrides])
    detector, recognizer = one_plate_models()
    with ExitStack() as stack:
        reader = ClipReader(cfgs, out, threading.Event(), recognizer, stack, detector)
        for clip in made:
            assert reader(clip, clip.name)
    return [json.loads(x) for x in (out / "events.jsonl").read_text().splitlines()]


@pytest.mark.parametrize("start, sources", [("name", ["20261205_230000.mp4"]),
                                           ("file", ["20261205_230000.mp4", "20261205_230005.mp4"])])
def test_clips_whose_names_say_when_they_were_recorded_carry_a_vehicle_across(tmp_path, start, sources):
    """Two clips (no time in their containers, a .TS recorder's) named 5 s apart, each showing AB123CD: with
    `video_start_utc=name` their names time them and the second gives no event of its own; with `file`, two."""
    clips, out = tmp_path / "uploads", tmp_path / "out"
    clips.mkdir()
    made = [numbered_video(clips / "20261205_230000.mp4", 10), numbered_video(clips / "20261205_230005.mp4", 10)]
    events = clips_read_in_turn(made, out, f"video_start_utc={start}")
    assert [e["source"] for e in events] == sources
    assert events[0]["first_seen_utc"] == ("2026-12-05T23:00:00.000Z" if start == "name" else "")


def test_a_vehicle_in_view_across_two_clips_gives_one_event_when_their_recording_times_say_so(tmp_path):
    """Each clip shows AB123CD for its 1 s; fusion.dedupe_s is 10 s. A clip recorded 5 s after the one before gives
    no second event; one 60 s after, one without a recording time, and one recorded before the clip read before it
    (an upload out of order) each give their own."""
    from tests.pipeline.test_recording import stamped_video

    clips, out, t = tmp_path / "uploads", tmp_path / "out", 1_796_000_000.0
    clips.mkdir()
    made = [stamped_video(clips / "a.mp4", t), stamped_video(clips / "b.mp4", t + 5),
            stamped_video(clips / "c.mp4", t + 60), numbered_video(clips / "d.mp4", 10),
            stamped_video(clips / "e.mp4", t + 120), stamped_video(clips / "f.mp4", t + 100)]
    events = clips_read_in_turn(made, out)
    assert [e["source"] for e in events] == ["a.mp4", "c.mp4", "d.mp4", "e.mp4", "f.mp4"]
