"""pipeline/runner.py: sources run one after the other or side by side, their summary lines, a camera started again
after a failure once it ran, and what systemd is told (ready, status, a hang)."""
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]


def test_only_cameras_streams_and_watched_folders_run_in_threads_of_their_own(tmp_path, monkeypatch, logged):
    """Files and image folders one after the other in the main thread, with their progress bars; each endless source
    in a daemon thread (a stop ends the process without waiting on a camera), its bar off; the tally counts all."""
    import threading

    from pipeline import runner
    from pipeline.settings import load_configs

    cfgs = load_configs(ROOT / "configs", [f"output_dir={tmp_path}"])
    watched = load_configs(ROOT / "configs", [f"output_dir={tmp_path}", "follow=true"])
    (tmp_path / "photos").mkdir()
    jobs = [runner.Job(str(tmp_path / "photos"), cfgs), runner.Job("clip.mp4", cfgs),
            runner.Job("rtsp://cam/1", cfgs), runner.Job(str(tmp_path / "photos"), watched, "drop"),
            runner.Job("clip.mp4", watched, "followed file")]
    ran = {}

    def run_one(spec, c, crops_only, stop, windows, out_name="", on_status=None):
        t = threading.current_thread()
        ran[out_name or spec] = (t is threading.main_thread(), t.daemon, c.pipeline.progress)
        return True

    monkeypatch.setattr(runner, "run_one", run_one)
    lines, code = logged(lambda: runner.run_all(jobs, False, threading.Event()))
    assert code == 0 and ran == {str(tmp_path / "photos"): (True, False, True), "clip.mp4": (True, False, True),
                                 "rtsp://cam/1": (False, True, False), "drop": (False, True, False),
                                 "followed file": (True, False, True)}
    assert ("INFO", "5 sources: 5 read") in lines


@pytest.mark.parametrize("stop_at, tally", [(2, "2 sources: 2 read, stopped before the rest"),
                                            (3, "3 sources: 3 read")])
def test_the_tally_says_a_stop_only_when_sources_were_left(stop_at, tally, monkeypatch, logged):
    import threading

    from pipeline import runner
    from pipeline.settings import load_configs

    cfgs = load_configs(ROOT / "configs", [])
    n = []

    def run_one(spec, c, crops_only, stop, windows, out_name="", on_status=None):
        n.append(spec)
        if len(n) == stop_at:
            stop.set()  # Ctrl-C while this source runs
        return True

    monkeypatch.setattr(runner, "run_one", run_one)
    jobs = [runner.Job(f"{i}.mp4", cfgs) for i in range(3)]
    lines, code = logged(lambda: runner.run_all(jobs, False, threading.Event()))
    assert code == 0 and len(n) == stop_at and ("INFO", tally) in lines


@pytest.mark.parametrize("counts, notes", [
    ({}, ""),
    ({"dropped_frames": 3}, ", 3 stale frames dropped, 0 outages"),  # a camera read slower than it sends
    ({"outages": 1, "unreadable_frames": 2}, ", 0 stale frames dropped, 1 outages, 2 undecodable frames skipped"),
    ({"detected_frames": 40}, ", detector on 40 (60 unmoved)")])  # the motion gate skipped 60 frames
def test_a_videos_summary_line_says_what_was_lost_or_skipped(counts, notes, tmp_path, monkeypatch, logged):
    import threading

    import pipeline.app
    from pipeline import runner
    from pipeline.settings import load_configs

    res = {"source": "cam", "frames": 100, "fps": 12.5, "dropped_frames": 0, "outages": 0, "unreadable_frames": 0,
           "detected_frames": 100, "events": 2, "outputs": "out/cam", **counts}
    monkeypatch.setattr(pipeline.app, "run_video", lambda spec, cfgs, stop, windows, out_name, on_status: res)
    cfgs = load_configs(ROOT / "configs", ["sqlite=false", "save_crops=true", "save_frames=false"])
    lines, ok = logged(lambda: runner.run_one("rtsp://cam", cfgs, False, threading.Event(), None))
    assert ok and lines == [("INFO", f"cam: 100 frames at 12.5 fps{notes}, 2 vehicles -> out/cam/ (events.jsonl, "
                                     f"events.csv, crops/, annotated_*.mp4)")]  # in parts named by their start
    lines, ok = logged(lambda: runner.run_one("day.mp4", cfgs, False, threading.Event(), None))
    assert lines[0][1].endswith(" (events.jsonl, events.csv, crops/, annotated.mp4)")  # a file's: one video


def test_numbered_images_are_read_as_a_video_and_an_image_as_a_still(tmp_path, monkeypatch):
    import threading

    import pipeline.app
    from pipeline import runner
    from pipeline.settings import load_configs

    went = []
    monkeypatch.setattr(pipeline.app, "run_video", lambda spec, cfgs, stop, windows, out_name, on_status: went.append(
        ("video", spec)) or {"source": "s", "frames": 1, "fps": 1.0, "dropped_frames": 0, "outages": 0,
                             "unreadable_frames": 0, "events": 0, "outputs": "o"})
    monkeypatch.setattr(pipeline.app, "run_images", lambda spec, cfgs, crops_only, out_name, stop: went.append(
        ("stills", spec)) or {"images": 1, "skipped": [], "stopped": False, "outputs": "o"})
    cfgs = load_configs(ROOT / "configs", [])
    for spec in ("burst/img_%05d.jpg", "burst/img_00001.jpg", "cam/track0091[%02d].png"):
        runner.run_one(spec, cfgs, False, threading.Event(), None)
    assert went == [("video", "burst/img_%05d.jpg"), ("stills", "burst/img_00001.jpg"),
                    ("video", "cam/track0091[%02d].png")]


@pytest.mark.parametrize("spec, stopped, window, note", [
    ("clip.mp4", True, [], ": 100 frames at 12.5 fps, stopped at 0:01:05.250 (go on with start_s=65.251)"),
    ("clip.mp4", False, [], ": 100 frames at 12.5 fps"),
    ("rtsp://cam", True, [], ": 100 frames at 12.5 fps"),  # a camera goes on from now, not from where it stopped
    ("clip.mp4", False, ["start_s=1:02:30", "end_s=3750.25"],
     " from 1:02:30.000 to 1:02:30.250: 100 frames at 12.5 fps"),
    ("clip.mp4", False, ["start_s=30"], " from 0:00:30.000: 100 frames at 12.5 fps"),
    ("clip.mp4", False, ["end_s=30"], " to 0:00:30.000: 100 frames at 12.5 fps"),
    ("clip.mp4", True, ["start_s=60", "end_s=1:30"],  # the window's end kept in the line that goes on
     " from 0:01:00.000 to 0:01:30.000: 100 frames at 12.5 fps, stopped at 0:01:05.250 (go on with start_s=65.251 "
     "end_s=90)"),
])
def test_a_files_summary_line_names_its_window_and_where_a_stop_goes_on(spec, stopped, window, note, monkeypatch,
                                                                        logged):
    import threading

    import pipeline.app
    from pipeline import runner
    from pipeline.settings import load_configs

    res = {"source": "clip.mp4", "frames": 100, "fps": 12.5, "dropped_frames": 0, "outages": 0,
           "unreadable_frames": 0, "detected_frames": 100, "events": 2, "outputs": "out/clip", "stopped": stopped,
           "position_s": 65.25}
    monkeypatch.setattr(pipeline.app, "run_video", lambda spec, cfgs, stop, windows, out_name, on_status: res)
    cfgs = load_configs(ROOT / "configs", ["sqlite=false", "save_crops=false", "save_frames=false", "video_out=false",
                                           *window])
    lines, ok = logged(lambda: runner.run_one(spec, cfgs, False, threading.Event(), None))
    assert ok and lines == [("INFO", f"clip.mp4{note}, 2 vehicles -> out/clip/ (events.jsonl, events.csv)")]


def test_under_systemd_a_run_says_it_is_ready_which_sources_run_and_which_hangs(monkeypatch, logged):
    """A `Type=notify` unit is told READY=1 once the settings are checked; `systemctl status` then says how many
    cameras run and which stopped (none said so: the service looked well with a camera gone); and a camera whose
    work hangs is named by the watchdog, which is then told nothing more (systemd restarts the service)."""
    import threading

    import common.systemd
    from pipeline import runner
    from common.liveness import doing
    from pipeline.settings import load_configs

    told: list[str] = []
    times: list[float] = []
    monkeypatch.setattr(common.systemd, "notify", lambda m="READY=1": told.append(m) or times.append(time.monotonic())
                        or True)
    monkeypatch.setenv("NOTIFY_SOCKET", "/run/systemd/notify")
    monkeypatch.setenv("WATCHDOG_USEC", "400000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    release = threading.Event()

    def run_one(spec, c, crops_only, stop, windows, out_name="", on_status=None):
        if out_name == "gate-in":
            on_status(SimpleNamespace(events=1))  # its count so far, as run_video hands it every status_every_s
            doing("reconnecting (stalled)")  # as its LiveSource says
            release.wait(30)  # hangs: no frame, no sign of progress
            return True
        return False  # its one error line said already

    monkeypatch.setattr(runner, "run_one", run_one)
    cfgs = load_configs(ROOT / "configs", [])
    jobs = [runner.Job("rtsp://admin:pw@cam/1", cfgs, "gate-in"), runner.Job("rtsp://admin:pw@cam/2", cfgs)]
    threading.Timer(1.5, release.set).start()
    start = time.monotonic()
    lines, code = logged(lambda: runner.run_all(jobs, False, threading.Event()))
    assert code == 1 and told[0] == "READY=1" and "pw" not in "".join(told)
    assert ("STATUS=1 of 2 cameras, streams or watched folders running (rtsp://***@cam/2 stopped on an error); "
            "gate-in: 1 vehicle, reconnecting (stalled)") in told
    errors = [m for level, m in lines if level == "ERROR"]
    assert len(errors) == 1 and errors[0].startswith("gate-in: no progress for 0.") and "run_one" in errors[0]
    pings = [when - start for m, when in zip(told, times) if m == "WATCHDOG=1"]
    assert pings[0] < 0.2 and [t for t in pings if 0.6 < t < 1.5] == []  # none while it hung (from 0.4 s on)


@pytest.mark.parametrize("threads", [False, True])
def test_a_camera_that_fails_once_it_has_run_is_started_again_and_one_that_fails_at_its_start_is_not(
        threads, monkeypatch, logged):
    """A camera's run that failed after hours (a full disk freed again since, a fault of ours) left that camera
    unread for good while the process, and the cameras beside it, ran on. It is now started again after the
    back-off; a run that fails at its start (a camera not opened, its folder in use) is told once, as before."""
    import threading

    from pipeline import runner
    from pipeline.settings import load_configs

    monkeypatch.setattr(runner, "RESTART_AFTER_S", 0.2)
    calls: dict[str, int] = {}
    stop = threading.Event()

    def run_one(spec, c, crops_only, stop_, windows, out_name="", on_status=None):
        calls[spec] = calls.get(spec, 0) + 1
        if spec.endswith("/late") and calls[spec] == 1:
            time.sleep(0.3)  # it ran, then its outputs failed: its one error line said
            return False
        if spec.endswith("/late") and calls[spec] == 2:
            time.sleep(0.3)
            raise RuntimeError("a fault of ours")
        if spec.endswith("/late"):
            stop.wait(30)  # runs until the stop
            return True
        if spec.endswith("/start"):
            return False  # cannot be opened
        stop.wait(30)
        return True

    monkeypatch.setattr(runner, "run_one", run_one)
    monkeypatch.setattr("threading.excepthook", lambda args: pytest.fail("a thread died of its exception"))
    cfgs = load_configs(ROOT / "configs", ["backoff_max_s=0.05"])
    jobs = [runner.Job("rtsp://cam/late", cfgs)] + [runner.Job("rtsp://cam/start", cfgs)] * threads
    threading.Timer(1.5, stop.set).start()
    lines, code = logged(lambda: runner.run_all(jobs, False, stop))
    assert calls == {"rtsp://cam/late": 3, **({"rtsp://cam/start": 1} if threads else {})}
    assert code == (1 if threads else 0)  # the camera that never ran failed; the one started again ran to the stop
    again = [m for level, m in lines if level == "WARNING"]
    assert again == ["rtsp://cam/late: failed after running for 0 min; started again in 0.05 s"] * 2
    assert ("ERROR", "rtsp://cam/late: the run failed") in lines


def test_a_fault_in_a_cameras_run_is_logged_with_its_traceback_and_a_stop_while_it_waits_is_no_failure(
        monkeypatch):
    """A fault's traceback goes to the log (the journal, a log_file), not to a thread's stderr alone; a stop that comes
    while the camera waits to start again ends the run as a stop does (exit 0), not as a failure."""
    import threading

    from loguru import logger

    from pipeline import runner
    from pipeline.settings import load_configs

    monkeypatch.setattr(runner, "RESTART_AFTER_S", 0.1)
    stop = threading.Event()

    def run_one(spec, c, crops_only, stop_, windows, out_name="", on_status=None):
        time.sleep(0.15)
        threading.Timer(0.2, stop.set).start()  # during the back-off of 5 s
        raise RuntimeError("a fault of ours")

    monkeypatch.setattr(runner, "run_one", run_one)
    records = []
    sink = logger.add(lambda m: records.append(m.record), level="ERROR")
    try:
        code = runner.run_all([runner.Job("rtsp://cam/1", load_configs(ROOT / "configs", [
            "backoff_max_s=5"]))], False, stop)
    finally:
        logger.remove(sink)
    assert code == 0 and [r["message"] for r in records] == ["rtsp://cam/1: the run failed"]
    assert records[0]["exception"].type is RuntimeError and "a fault of ours" in str(records[0]["exception"].value)


@pytest.mark.parametrize("timeout_s, warned", [(10.0, True), (9.9, False)])
def test_a_cameras_open_timeout_as_long_as_the_watchdogs_period_is_warned_of(timeout_s, warned, monkeypatch, logged):
    """A camera's first opening blocks for up to `open_timeout_s` on the camera's own thread, giving no sign of
    progress: at half the watchdog's period or more, a camera slow to open would be taken for a hang and the service
    restarted, again and again. Said at the start (a file's or a folder's opening is no camera's)."""
    import threading

    from pipeline import runner
    from pipeline.settings import load_configs

    monkeypatch.setenv("WATCHDOG_USEC", "20000000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.setattr(runner, "run_one", lambda *a, **kw: True)
    cfgs = load_configs(ROOT / "configs", [f"open_timeout_s={timeout_s}"])
    jobs = [runner.Job("rtsp://admin:pw@cam/1", cfgs, "gate-in"), runner.Job("clip.mp4", cfgs)]
    lines, code = logged(lambda: runner.run_all(jobs, False, threading.Event()), "WARNING")
    said = (f"gate-in: open_timeout_s={timeout_s:g} is at least half the watchdog's period (20 s, WatchdogSec=): a "
            "camera slow to open would be taken for a hang; raise WatchdogSec")
    assert code == 0 and lines == ([("WARNING", said)] if warned else [])
