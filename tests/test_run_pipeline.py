import json
import re
import sys
import time
from types import SimpleNamespace
from pathlib import Path

import pytest

from run_pipeline import main
from tests.bench_loader import bench_module

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_bundled_plate_crops(tmp_path):
    assert main(["--crops", str(ROOT / "samples" / "plates"), f"output_dir={tmp_path}"]) == 0
    lines = [json.loads(x) for x in (tmp_path / "plates" / "reads.jsonl").read_text().splitlines()]
    assert len(lines) == 8 and all(len(x["reads"]) == 1 for x in lines)
    right = sum(x["reads"][0]["text"] == x["source"].split("_")[0] for x in lines)
    assert right >= 4, lines  # synthetic crops of mixed layouts; see weights/README.md for accuracy figures
    assert (tmp_path / "plates" / "reads.csv").read_text(encoding="utf-8-sig").startswith(
        "source,file_time_utc,taken_utc,lat,lon,x1,y1,x2,y2,text,confidence")


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_log_file_keeps_the_messages_with_their_times(tmp_path, capsys):
    log = tmp_path / "logs" / "run.log"
    assert main(["--crops", str(ROOT / "samples" / "plates"), f"output_dir={tmp_path}", f"log_file={log}"]) == 0
    lines = log.read_text().splitlines()
    assert any(line.endswith("8 images read -> " + str(tmp_path / "plates" / "reads.jsonl") + ", reads.csv")
               for line in lines), lines
    assert all(re.match(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}Z (INFO|WARNING|ERROR) ", line) for line in lines), lines
    assert main(["--crops", str(ROOT / "samples" / "plates"), f"log_file={tmp_path / 'no' / 'x.log'}",
                 f"output_dir={tmp_path}"]) == 0  # a missing folder is made
    capsys.readouterr()
    (tmp_path / "file").write_text("")
    assert main(["--crops", str(ROOT / "samples" / "plates"), f"log_file={tmp_path / 'file' / 'x.log'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: cannot write log_file {tmp_path / 'file' / 'x.log'}: "), err


@pytest.fixture
def planned(monkeypatch):
    """`planned(argv)`: the jobs and the crops mode `main(argv)` hands `run_all`, nothing checked or run."""
    import run_pipeline

    handed = []
    monkeypatch.setattr(run_pipeline, "check_before_start", lambda spec, cfgs, crops_only, models: None)
    monkeypatch.setattr(run_pipeline, "run_all", lambda jobs, crops_only, stop: handed.append((jobs, crops_only)) or 0)

    def plan(argv: list[str]) -> tuple[list, bool]:
        handed.clear()
        assert main(argv) == 0
        (got,) = handed
        return got

    return plan


@pytest.mark.parametrize("shipped, sources, crops_only", [
    (True, ["samples/clip.mp4", "samples/stills/images"], False),  # the clip and the stills, through the detector
    (False, ["samples/plates"], True)])  # no detector yet: the plate crops, OCR only
def test_with_no_sources_the_bundled_sample_is_read(shipped, sources, crops_only, tmp_path, monkeypatch, capsys,
                                                     planned):
    import run_pipeline

    root = ROOT if shipped else tmp_path  # a checkout with the sample clip but no detector
    if not shipped:
        (tmp_path / "samples" / "plates").mkdir(parents=True)
        (tmp_path / "samples" / "clip.mp4").write_bytes(b"")
    monkeypatch.setattr(run_pipeline, "ROOT", root)
    jobs, crops = planned(["--config-dir", str(ROOT / "configs")])
    assert ([j.spec for j in jobs], crops) == ([str(root / s) for s in sources], crops_only)
    said = "no detector shipped yet: reading the bundled plate crops in samples/plates (OCR only)"
    assert (said in capsys.readouterr().err) == crops_only


def test_with_no_sources_and_no_samples_beside_the_code_one_error_line(tmp_path, monkeypatch, capsys):
    """`pip install .` copies the code alone: run with no source from elsewhere, there is no sample to read, and the
    line says why, not "no detector shipped yet"."""
    import common.paths
    import run_pipeline

    monkeypatch.setattr(run_pipeline, "ROOT", tmp_path)
    monkeypatch.setattr(common.paths, "ROOT", tmp_path)
    assert run_pipeline.main(["--config-dir", str(ROOT / "configs")]) == 2
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "error: no source given, and the bundled samples/ are not beside this install: give a video, a camera, a "
        f"stream or a folder ({common.paths.CODE_ONLY})"]


def test_a_stream_url_holding_an_equals_sign_is_a_source_and_an_override_may_hold_a_url(planned):
    """`key=value` is an override unless the part before `=` holds `://` (a stream's query string)."""
    jobs, _ = planned(["rtsp://cam/1?channel=2", "webhook=http://127.0.0.1:9/hook"])
    assert [j.spec for j in jobs] == ["rtsp://cam/1?channel=2"]
    assert jobs[0].cfgs.pipeline.webhook == "http://127.0.0.1:9/hook"


def test_a_sources_login_may_come_from_the_environment(planned, monkeypatch, capsys):
    """A camera's URL on the command line (a systemd unit's ExecStart) was taken as written, `${CAM_PASSWORD}` and
    all; a password written there in clear is shown by `ps` to every user of the machine."""
    monkeypatch.setenv("CAM_PASSWORD", "s3cret")
    jobs, _ = planned(["rtsp://admin:${CAM_PASSWORD}@cam/1", "--source", "rtsp://${CAM_PASSWORD}@cam/2",
                       "source=$${CAM_PASSWORD}"])
    assert [j.spec for j in jobs] == ["rtsp://admin:s3cret@cam/1", "${CAM_PASSWORD}", "rtsp://s3cret@cam/2"]
    monkeypatch.delenv("CAM_PASSWORD")
    assert main(["rtsp://cam/1", "fusion.min_conf=${CAM_PASSWORD}"]) == 2  # a component's key named whole
    assert capsys.readouterr().err.startswith("error: override fusion.min_conf: environment variable CAM_PASSWORD ")
    assert main(["rtsp://admin:${CAM_PASSWORD}@cam/1"]) == 2
    assert capsys.readouterr().err.strip() == ("error: source rtsp://***@cam/1: environment variable CAM_PASSWORD is "
                                               "not set (write ${CAM_PASSWORD:-default} for a default, "
                                               "$${CAM_PASSWORD} for the text itself)")
    assert main(["rtsp://admin:pw@cam/${CHANNEL}"]) == 2  # a password given in clear beside it is not shown
    assert capsys.readouterr().err.startswith("error: source rtsp://***@cam/${CHANNEL}: environment variable ")


@pytest.mark.parametrize("args, refused", [
    (["CLIPS"], "video_start_utc=2026-12-05T22:00:00+00:00 would give the 2 videos in CLIPS the same start: "
                "video_start_utc=file takes each one's own"),
    (["CLIPS", "follow=true"], "video_start_utc=2026-12-05T22:00:00+00:00 would give every clip that comes into "
                               "CLIPS the same start: video_start_utc=file takes each clip's own"),
    (["CLIPS/a.mp4", "CLIPS/cam/b.mp4"], ""),  # named one by one: two cameras' exports of one night
    (["ONE"], ""),  # a folder of one video
])
def test_a_start_given_as_a_time_is_one_videos(args, refused, tmp_path):
    import run_pipeline
    from common.errors import UserError
    from pipeline.settings import load_configs

    (tmp_path / "clips" / "cam").mkdir(parents=True)
    (tmp_path / "one").mkdir()
    for clip in (tmp_path / "clips" / "a.mp4", tmp_path / "clips" / "cam" / "b.mp4", tmp_path / "one" / "c.mp4"):
        clip.write_bytes(b"")
    folders = {"CLIPS": str(tmp_path / "clips"), "ONE": str(tmp_path / "one")}
    specs = [a.replace("CLIPS", folders["CLIPS"]).replace("ONE", folders["ONE"]) for a in args if "=" not in a]
    cfgs = load_configs(ROOT / "configs", ["video_start_utc=2026-12-05T22:00:00Z", *(a for a in args if "=" in a)])
    if refused:
        with pytest.raises(UserError) as exc:
            run_pipeline.check_given_starts(specs, cfgs, False)
        assert str(exc.value) == refused.replace("CLIPS", folders["CLIPS"])
        assert main([*specs, *(a for a in args if "=" in a), "video_start_utc=2026-12-05T22:00:00Z",
                     f"output_dir={tmp_path / 'out'}"]) == 2  # said before anything is read
        assert not (tmp_path / "out").exists()
    else:
        run_pipeline.check_given_starts(specs, cfgs, False)
    file = load_configs(ROOT / "configs", ["video_start_utc=file", *(a for a in args if "=" in a)])
    run_pipeline.check_given_starts(specs, file, False)  # each file's own: any number


@pytest.mark.parametrize("args, code", [
    (["nope.mp4"], 1),
    (["--crops", "samples/plates", "bogus_key=1"], 2),
    (["--crops", "samples/plates", "detector.confidence=0.3"], 2),
    (["--crops", "samples/plates", "stride=two"], 2),
    (["--crops", "samples/plates", "webhook=gate.local/events"], 2),
    (["0", "start_s=5"], 2),  # a camera has no window: said before any source starts
    (["samples/clip.mp4", "start_s=10", "end_s=0:05"], 2),
    (["samples/clip.mp4", "start_s=1:00:00"], 1),  # past the clip's end: that source fails
    (["0", "video_start_utc=file"], 2),  # a camera's events carry the time they are seen
    (["samples/clip.mp4", "video_start_utc=noon"], 2),
])
def test_bad_input_is_one_line_and_non_zero(args, code, tmp_path, capsys):
    assert main(args + [f"output_dir={tmp_path}"]) == code
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")


@pytest.mark.parametrize("override, hint", [
    ("conf=0.3", "'detector.conf'"),            # a key of another component, given bare
    ("min_read_conf=0.1", "'fusion.min_conf'"),  # a key that moved to fusion
    ("strid=2", "'stride'"),                     # a misspelt pipeline key
    ("fusion.min_vote=3", "'fusion.min_conf'"),  # a misspelt key of a component, named with its component
    ("detector.stride=2", "'stride'"),           # a pipeline key given under a component
])
def test_unknown_bare_key_suggests_where_it_belongs(override, hint):
    from common.config import ConfigError
    from pipeline.settings import load_configs

    with pytest.raises(ConfigError, match=f"did you mean {hint}"):
        load_configs(ROOT / "configs", [override])


def test_a_key_that_works_with_another_key_left_off_is_said_to_do_nothing(monkeypatch, logged):
    """follow_idle_s=10 without follow=true read the folder once and said nothing of the setting; said once each,
    however many sources load the settings, and never where the key it works with is on."""
    from pipeline.config import PipelineConfig
    from pipeline.settings import WORKS_WITH, load_configs

    monkeypatch.setattr("common.errors._TOLD", set())
    given = ["follow_idle_s=10", "video_out=false", "video_fps=5", "directions=[a, b]", "crops_keep=5"]
    said, _ = logged(lambda: [load_configs(ROOT / "configs", given) for _ in range(2)], "WARNING")
    assert said == [("WARNING", "follow_idle_s=10: it works with follow, which is off, so it does nothing here"),
                    ("WARNING", "video_fps=5: it works with video_out, which is off, so it does nothing here"),
                    ("WARNING", "directions=[a, b]: it works with line, which is not set, so it does nothing here")]
    on = ["follow=true", "follow_idle_s=10", "line=[[0.5, 0], [0.5, 1]]", "directions=[a, b]", "video_fps=5",
          "tracker.tracker_type=botsort", "tracker.gmc_method=orb"]
    assert logged(lambda: load_configs(ROOT / "configs", on), "WARNING")[0] == []
    said, _ = logged(lambda: load_configs(ROOT / "configs", ["tracker.gmc_method=orb"]), "WARNING")
    assert said == [("WARNING", "tracker.gmc_method=orb: it works with tracker.tracker_type=botsort, which is "
                                "bytetrack, so it does nothing here")]
    assert logged(lambda: load_configs(ROOT / "configs", ["tracker.gmc_method=none"]), "WARNING")[0] == []
    keys = {f.name for f in PipelineConfig.__dataclass_fields__.values()}
    assert set(WORKS_WITH) <= keys and set(WORKS_WITH.values()) <= keys


def test_an_unknown_key_like_no_other_says_where_the_keys_are(tmp_path):
    from common.config import ConfigError
    from pipeline.settings import load_configs

    with pytest.raises(ConfigError) as exc:
        load_configs(ROOT / "configs", ["data=x"])
    assert str(exc.value) == (f"override 'data=x': unknown key 'data' (none is close; the keys are listed in "
                              f"{ROOT / 'configs' / 'pipeline.yaml'}, given bare, and detector.yaml as "
                              f"detector.KEY=VALUE, tracker.yaml as tracker.KEY=VALUE, fusion.yaml as "
                              f"fusion.KEY=VALUE)")
    with pytest.raises(ConfigError, match=r"listed in the project's configs/pipeline\.yaml, given bare"):
        load_configs(tmp_path, ["data=x"])  # a config folder without the files (the defaults run)
    with pytest.raises(ConfigError) as exc:  # a component named: its own keys
        load_configs(ROOT / "configs", ["tracker.xyzzy=1"])
    assert str(exc.value) == ("override 'tracker.xyzzy=1': tracker has no key 'xyzzy' (none is close; tracker's keys: "
                              "box_buffer, fuse_score, gmc_method, match_thresh, new_track_thresh, track_buffer, "
                              "track_high_thresh, track_low_thresh, tracker_type)")


@pytest.mark.parametrize("override, message", [
    ("detector.conf=25", "config key 'detector.conf': 25 is out of range (0 to 1)"),  # a percentage for a fraction
    ("stride=0", "config key 'stride': 0 is out of range (at least 1)"),
    ("fusion.lost_frames=-1", "config key 'fusion.lost_frames': -1 is out of range (at least 1)"),
    ("tracker.track_buffer=x", "config key 'tracker.track_buffer': 'x' is not a valid int"),
])
def test_values_out_of_range_name_their_component(override, message):
    from common.config import ConfigError
    from pipeline.settings import load_configs

    with pytest.raises(ConfigError) as exc:
        load_configs(ROOT / "configs", [override])
    assert str(exc.value) == message


@pytest.mark.parametrize("top_k, refused", [(0, False), (1, False), (2, True)])
def test_an_ocr_ensemble_is_refused_only_with_a_posterior_vote_that_averages(top_k, refused):
    """posterior_top_k=1 averages nothing (one crop's posterior: the fusion needs two), so an ensemble runs with it."""
    from common.config import ConfigError
    from pipeline.settings import load_configs

    overrides = ["ocr_ensemble=[b.pth]", f"fusion.posterior_top_k={top_k}"]
    if refused:
        with pytest.raises(ConfigError, match="^fusion.posterior_top_k averages posteriors frame by frame"):
            load_configs(ROOT / "configs", overrides)
    else:
        assert load_configs(ROOT / "configs", overrides).fusion.posterior_top_k == top_k


def test_an_output_folder_that_cannot_be_made_is_one_line(tmp_path, capsys):
    (tmp_path / "file").write_text("")
    assert main(["--crops", str(ROOT / "samples" / "plates"), f"output_dir={tmp_path / 'file'}"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: cannot create output folder {tmp_path / 'file' / 'plates'}: Not a directory"]


def test_an_output_folder_another_run_is_writing_is_refused(tmp_path, capsys):
    """The same camera started twice: the second run says so, rather than interleaving its events with the first's."""
    import os
    from contextlib import ExitStack

    from common.errors import UserError
    from pipeline.outputs import claim_out

    held = tmp_path / "plates"
    held.mkdir()
    with ExitStack() as first:
        claim_out(held, first)
        with ExitStack() as second, pytest.raises(UserError) as exc:
            claim_out(held, second)
        assert str(exc.value) == (f"output folder {held} is being written by another run (pid {os.getpid()}): give "
                                  f"this one another output_dir (or name)")
        assert main(["--crops", str(ROOT / "samples" / "plates"), f"output_dir={tmp_path}"]) == 1
        assert capsys.readouterr().err.strip().splitlines() == [f"error: {exc.value}"]
        assert not (held / "reads.jsonl").exists()
    assert main(["--crops", str(ROOT / "samples" / "plates"), f"output_dir={tmp_path}"]) == 0  # free once it ended


def test_a_folder_in_use_is_said_before_the_models_load(tmp_path, monkeypatch):
    """The second run's refusal comes before it loads its detector and recognizer (seconds on a CPU, for nothing)."""
    from contextlib import ExitStack

    import pipeline.app as app
    from common.errors import UserError
    from pipeline.outputs import claim_out
    from pipeline.settings import load_configs

    loaded = []
    monkeypatch.setattr(app, "_recognizer", lambda *a: loaded.append("recognizer"))
    monkeypatch.setattr(app, "video_stages", lambda *a, **k: loaded.append("video stages"))
    cfgs = load_configs(ROOT / "configs", [f"output_dir={tmp_path}", "progress=false"])
    (tmp_path / "plates").mkdir()
    (tmp_path / "clip").mkdir()
    with ExitStack() as first:
        claim_out(tmp_path / "plates", first)
        claim_out(tmp_path / "clip", first)
        with pytest.raises(UserError, match="being written by another run"):
            app.run_images(str(ROOT / "samples" / "plates"), cfgs, crops_only=True)
        with pytest.raises(UserError, match="being written by another run"):
            app.run_video(str(ROOT / "samples" / "clip.mp4"), cfgs, stop=None)
        with pytest.raises(UserError, match="being written by another run"):
            app.vehicle_reader(cfgs, out=tmp_path / "clip")
    assert loaded == []


def test_a_file_system_without_locks_runs_unguarded(tmp_path, monkeypatch):
    import errno
    import fcntl
    from contextlib import ExitStack

    from pipeline.outputs import claim_out

    def no_locks(*_):
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(fcntl, "flock", no_locks)
    with ExitStack() as first, ExitStack() as second:
        claim_out(tmp_path, first)
        claim_out(tmp_path, second)  # not taken for "another run"


def test_cameras_run_side_by_side(tmp_path, monkeypatch, steady_camera):
    """Two streams never end: both must run at once (not the second after the first), each with its outputs."""
    import threading
    import time

    import detection
    import pipeline.app
    import pipeline.sources as sources
    from detection.detections import Detections
    from ocr.recognizer import PlateRead

    running, both, together = set(), threading.Event(), []

    def detect(self, frame):  # the pipelines of both cameras have a frame in hand
        running.add(threading.current_thread().name)
        if len(running) == 2:
            both.set()
        return Detections()

    def opener(spec, stride, live, stop, *window):  # each camera ends once both pipelines have had frames
        src = sources.LiveSource(spec, live, lambda url, cfg: steady_camera(0.02), stop=stop)
        threading.Thread(target=lambda: (together.append(both.wait(10)), time.sleep(0.3), src.close()),
                         daemon=True).start()
        return src

    monkeypatch.setattr(sources, "open_source", opener)
    monkeypatch.setattr(detection, "PlateDetector", lambda cfg: type("D", (), {"detect": detect})())
    monkeypatch.setattr(pipeline.app, "_recognizer", lambda cfg, patterns: type("R", (), {
        "decode": lambda s, p: PlateRead("", 0.0, ())})())
    assert main(["rtsp://cam/a", "rtsp://cam/b", f"output_dir={tmp_path}", "video_out=false"]) == 0
    assert together == [True, True]  # each camera ended only after both were running
    for cam in ("cam_a", "cam_b"):
        assert json.loads((tmp_path / cam / "summary.json").read_text())["frames"] > 0


@pytest.mark.parametrize("disk_full", [False, True])
def test_a_camera_keeps_its_summary_current_while_it_runs(disk_full, tmp_path, monkeypatch, capsys, steady_camera):
    """status_every_s: a live source's summary.json is rewritten as it runs ("running": true), then once at the end;
    a status that cannot be written is said and the camera runs on."""
    import threading

    import detection
    import pipeline.app
    import pipeline.sources as sources
    from detection.detections import Detections
    from ocr.recognizer import PlateRead

    def opener(spec, stride, live, stop, *window):  # the camera ends after 1.5 s
        src = sources.LiveSource(spec, live, lambda url, cfg: steady_camera(0.01), stop=stop)
        threading.Timer(1.5, src.close).start()
        return src

    written, write = [], pipeline.app.write_summary

    def recorded(*args, **kwargs):
        if disk_full and kwargs.get("running"):
            raise OSError(28, "No space left on device")
        written.append(write(*args, **kwargs))
        return written[-1]

    monkeypatch.setattr(pipeline.app, "write_summary", recorded)
    monkeypatch.setattr(sources, "open_source", opener)
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal: the frame counter is drawn
    monkeypatch.setattr(detection, "PlateDetector", lambda cfg: type("D", (), {"detect": lambda s, f: Detections()})())
    monkeypatch.setattr(pipeline.app, "_recognizer", lambda cfg, patterns: type("R", (), {
        "decode": lambda s, p: PlateRead("", 0.0, ())})())
    assert main(["rtsp://cam/gate", f"output_dir={tmp_path}", "video_out=false", "status_every_s=0.2"]) == 0
    running = [w for w in written if w.get("running")]
    final = json.loads((tmp_path / "cam_gate" / "summary.json").read_text())
    assert "running" not in final and final["frames"] == written[-1]["frames"] > 20
    assert final["updated_utc"].endswith("+00:00")
    err = capsys.readouterr().err
    assert "\rrtsp://cam/gate: running, " in err  # the bar cleared first (tqdm.write)
    if disk_full:
        assert not running and "rtsp://cam/gate: summary.json not updated: No space left on device" in err
    else:
        assert len(running) >= 3 and running[0]["frames"] < running[-1]["frames"] <= final["frames"]


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_one_unreadable_image_of_a_folder_is_skipped_and_said(tmp_path, capsys):
    import shutil

    photos = tmp_path / "photos"
    photos.mkdir()
    (photos / "00_broken.jpg").write_bytes(b"not a jpeg")  # first in the folder's order
    for p in sorted((ROOT / "samples" / "plates").iterdir())[:2]:
        shutil.copy(p, photos / p.name)
    assert main(["--crops", str(photos), f"output_dir={tmp_path / 'out'}"]) == 1
    errors = [x for x in capsys.readouterr().err.splitlines() if x.startswith("error: ")]
    assert len(errors) == 1 and "00_broken.jpg" in errors[0]
    lines = (tmp_path / "out" / "photos" / "reads.jsonl").read_text().splitlines()
    assert len(lines) == 2  # the readable images are still read


def test_a_folder_gives_its_images_and_each_of_its_videos(tmp_path, monkeypatch, capsys):
    import cv2
    import numpy as np

    import detection
    import pipeline.app
    from detection.detections import Detections
    from ocr.recognizer import PlateRead

    folder = tmp_path / "footage"
    folder.mkdir()
    for name in ("gate.mp4", "yard.avi"):
        w = cv2.VideoWriter(str(folder / name), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
        for i in range(5):
            w.write(np.full((48, 64, 3), 40 * i + 20, np.uint8))
        w.release()
    cv2.imwrite(str(folder / "still.jpg"), np.full((48, 64, 3), 128, np.uint8))
    monkeypatch.setattr(detection, "PlateDetector", lambda cfg: type("D", (), {"detect": lambda s, f: Detections()})())
    monkeypatch.setattr(pipeline.app, "_recognizer", lambda cfg, patterns: type("R", (), {
        "__call__": lambda s, crops: [], "decode": lambda s, p: PlateRead("", 0.0, ())})())
    out = tmp_path / "out"
    assert main([str(folder), f"output_dir={out}", "progress=false"]) == 0
    assert [json.loads(x)["source"] for x in (out / "footage" / "reads.jsonl").read_text().splitlines()] == ["still.jpg"]
    for video in ("gate", "yard"):
        assert json.loads((out / video / "summary.json").read_text())["frames"] == 5
    assert capsys.readouterr().err.rstrip().endswith("3 sources: 3 read")  # the tally under the sources' lines


def test_live_windows_are_drawn_by_the_main_thread_only(monkeypatch):
    """--show with several sources: frames come from their threads, OpenCV's windows are touched by the main
    thread alone (HighGUI is not thread-safe), one window per source, the latest frame of each."""
    import threading

    import cv2

    from pipeline.annotate import LiveWindows

    drawn = []
    monkeypatch.setattr(cv2, "imshow", lambda name, img: drawn.append((name, int(img), threading.current_thread().name)))
    waits = []
    monkeypatch.setattr(cv2, "waitKey", lambda ms: waits.append(ms) or -1)
    w = LiveWindows()
    workers = [threading.Thread(target=lambda n=n: [w.submit(f"cam{n}", k) for k in range(3)], name=f"w{n}")
               for n in range(2)]
    for t in workers:
        t.start()
    for t in workers:
        t.join()
    assert drawn == []  # nothing drawn from the workers
    w.pump()
    assert sorted(drawn) == [("plate reader: cam0", 2, "MainThread"), ("plate reader: cam1", 2, "MainThread")]
    assert waits == [1]  # one 1 ms wait for the windows to paint (0 would wait for a key)
    w.pump()
    assert waits == [1]  # nothing new: no wait
    w.submit("clip.mp4", 7)  # the main thread's own source: drawn at once
    assert drawn[-1] == ("plate reader: clip.mp4", 7, "MainThread")


def test_an_unreachable_camera_is_one_line_and_exit_1(tmp_path):
    """OpenCV's and FFmpeg's own messages would surround the error line: the entry point keeps them quiet."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, str(ROOT / "run_pipeline.py"), "rtsp://127.0.0.1:9/none", "9",
                          f"output_dir={tmp_path}", "open_timeout_s=2"], capture_output=True, text=True, timeout=120)
    assert run.returncode == 1
    assert sorted(run.stderr.strip().splitlines()) == ["2 sources: 0 read, 2 failed (see above)",
                                                       "error: cannot open camera/stream camera9",
                                                       "error: cannot open camera/stream rtsp://127.0.0.1:9/none"]


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_a_stream_piped_into_standard_input(tmp_path):
    """`... | python run_pipeline.py -`: the bundled clip's frames piped in as an MJPEG stream (JPEGs one after
    another) are read as a camera's, its events named `stdin` in its own folder; `--crops -` is one line."""
    import csv
    import subprocess

    import cv2

    cap, jpegs = cv2.VideoCapture(str(ROOT / "samples" / "clip.mp4")), []
    while (got := cap.read())[0]:
        jpegs.append(cv2.imencode(".jpg", got[1])[1].tobytes())
    cmd = [sys.executable, str(ROOT / "run_pipeline.py"), "-", f"output_dir={tmp_path}", "video_out=false"]
    run = subprocess.run(cmd, input=b"".join(jpegs), capture_output=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert re.search(rb"stdin: \d+ frames at .* -> " + re.escape(str(tmp_path / "stdin").encode()), run.stderr)
    rows = list(csv.DictReader((tmp_path / "stdin" / "events.csv").open(encoding="utf-8-sig")))
    assert rows and {r["source"] for r in rows} == {"stdin"}
    crops = subprocess.run(cmd[:2] + ["--crops"] + cmd[2:], input="", capture_output=True, text=True, timeout=120)
    assert crops.returncode == 1 and crops.stderr.strip().splitlines()[-1] == (
        "error: -: plate crops are read from image files and folders, not from a stream piped in")


def test_standard_input_given_as_two_sources_is_one_line(tmp_path, capsys):
    """Two entries of a sources file, or one and the command line, reading standard input: the second found nothing
    (`holds no video stream`) after the first had read it; one line before any source opens."""
    listed = tmp_path / "cams.yaml"
    listed.write_text('- source: "-"\n- source: "-"\n  name: b\n')
    one = tmp_path / "one.yaml"
    one.write_text('- source: "-"\n  name: pi\n')
    for argv in (["--sources", str(listed)], ["-", "--sources", str(one)]):
        capsys.readouterr()
        assert main(argv + [f"output_dir={tmp_path}"]) == 2
        assert capsys.readouterr().err.strip().splitlines() == [
            "error: standard input (-) is given as more than one source (in --sources, or there and on the command "
            "line): it is read by one"]


def test_a_camera_thread_that_crashes_makes_the_exit_status_1(monkeypatch):
    import pipeline.app

    def boom(spec, cfgs, stop, windows=None, **kw):
        raise OSError("disk full")

    monkeypatch.setattr(pipeline.app, "run_video", boom)
    monkeypatch.setattr("threading.excepthook", lambda args: None)  # the traceback is the thread's own report
    assert main(["rtsp://cam/a", "rtsp://cam/b"]) == 1


def test_files_of_one_name_in_different_folders_get_their_own_outputs(tmp_path, monkeypatch):
    import cv2
    import numpy as np

    import detection
    import pipeline.app
    from detection.detections import Detections
    from ocr.recognizer import PlateRead
    from pipeline.outputs import distinct_out_names

    for cam, n in (("cam1", 4), ("cam2", 6)):
        (tmp_path / cam).mkdir()
        w = cv2.VideoWriter(str(tmp_path / cam / "day.avi"), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (64, 48))
        for i in range(n):
            w.write(np.full((48, 64, 3), 30 * i + 20, np.uint8))
        w.release()
    monkeypatch.setattr(detection, "PlateDetector", lambda cfg: type("D", (), {"detect": lambda s, f: Detections()})())
    monkeypatch.setattr(pipeline.app, "_recognizer", lambda cfg, patterns: type("R", (), {
        "decode": lambda s, p: PlateRead("", 0.0, ())})())
    out = tmp_path / "out"
    specs = [str(tmp_path / "cam1" / "day.avi"), str(tmp_path / "cam2" / "day.avi")]
    assert main([*specs, f"output_dir={out}", "progress=false"]) == 0
    assert [json.loads((out / c / "summary.json").read_text())["frames"] for c in ("cam1_day", "cam2_day")] == [4, 6]
    assert distinct_out_names(["a/x.mp4", "b/y.mp4", "rtsp://cam/x"]) == {}  # no clash: default names
    # the parent folders' names clash too (and one name is taken by a file's own stem): numbered from 2
    specs = [f"{root}/cam/day.mp4" for root in ("a", "b", "c")] + ["cam_day.mp4", "d/cam_day.mp4"]
    assert distinct_out_names(specs) == {"a/cam/day.mp4": "cam_day_2", "b/cam/day.mp4": "cam_day_3",
                                         "c/cam/day.mp4": "cam_day_4", "cam_day.mp4": f"{Path.cwd().name}_cam_day",
                                         "d/cam_day.mp4": "d_cam_day"}


@pytest.mark.parametrize("name, folder", [
    ("rtsp://***@10.0.0.5:554/stream1", "10.0.0.5_554_stream1"),
    ("http://cam.local/video.cgi?ch=1&sub=0", "cam.local_video.cgi_ch_1_sub_0"), ("http://127.0.0.1:8765/", "127.0.0.1_8765"),
    ("http://cam:88/v.cgi?usr=***&pwd=***", "cam_88_v.cgi_usr_pwd"),  # a login in the query, redacted
    ("camera0", "camera0"), ("day.mp4", "day")])
def test_output_folder_names_are_portable(name, folder):
    from pipeline.config import PipelineConfig
    from pipeline.outputs import out_dir

    assert out_dir(PipelineConfig(output_dir="o"), name) == Path("o") / folder


def test_flags_may_come_anywhere_and_show_without_a_display_is_one_line(tmp_path, capsys, monkeypatch):
    """`clip.mp4 --show key=value` parses (flags between sources and overrides); on a machine without a
    display, --show is refused up front: OpenCV's Qt would abort the process mid-run, losing the open tracks."""
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setattr("sys.platform", "linux")
    assert main([str(ROOT / "samples" / "clip.mp4"), "--show", f"output_dir={tmp_path}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["error: show needs a display, and neither DISPLAY nor WAYLAND_DISPLAY is set (run without --show or show=true)"]


@pytest.mark.parametrize("platform, display, wayland, refused", [
    ("linux", "", "", True), ("linux", ":0", "", False), ("linux", "", "wayland-0", False),
    ("linux", ":0", "wayland-0", False), ("darwin", "", "", False), ("win32", "", "", False)])
def test_show_is_refused_only_on_linux_without_a_display(monkeypatch, platform, display, wayland, refused):
    from common.errors import UserError
    from pipeline.annotate import check_display

    monkeypatch.setattr("sys.platform", platform)
    for name, value in (("DISPLAY", display), ("WAYLAND_DISPLAY", wayland)):
        monkeypatch.delenv(name, raising=False)
        if value:
            monkeypatch.setenv(name, value)
    if refused:
        with pytest.raises(UserError, match="show needs a display"):
            check_display()
    else:
        check_display()


@pytest.fixture
def gate_clip(tmp_path, monkeypatch):
    """A 200x100 clip of 3 grey frames, and the shapes of the images a spy detector is then given (it finds no
    plate; nothing is read)."""
    import cv2
    import numpy as np

    import detection
    import pipeline.app
    from detection.detections import Detections
    from ocr.recognizer import PlateRead

    clip = tmp_path / "gate.avi"
    w = cv2.VideoWriter(str(clip), cv2.VideoWriter.fourcc(*"MJPG"), 10.0, (200, 100))
    for _ in range(3):
        w.write(np.full((100, 200, 3), 128, np.uint8))
    w.release()
    shapes: list[tuple[int, int]] = []
    monkeypatch.setattr(detection, "PlateDetector", lambda cfg: type("D", (), {
        "detect": lambda s, f: shapes.append(f.shape[:2]) or Detections()})())
    monkeypatch.setattr(pipeline.app, "_recognizer", lambda cfg, patterns: type("R", (), {
        "decode": lambda s, p: PlateRead("", 0.0, ())})())
    return clip, shapes


@pytest.mark.parametrize("crop, seen", [("true", (55, 110)), ("false", (100, 200))])
def test_with_a_roi_the_detector_sees_its_box_at_the_frames_resolution(crop, seen, tmp_path, gate_clip):
    """roi_crop: the detector is given the roi's bounding box (widened by 5 % of the frame each side) cut from the
    frame, not the whole frame."""
    clip, shapes = gate_clip
    assert main([str(clip), f"output_dir={tmp_path}", "video_out=false", "progress=false", "motion_gate=false",
                 "roi=[[0.5,0.5],[1,0.5],[1,1],[0.5,1]]", f"roi_crop={crop}"]) == 0
    assert shapes == [seen] * 3


def test_a_sources_file_runs_each_source_with_its_own_settings(tmp_path, gate_clip, capsys):
    clip, shapes = gate_clip
    cams = tmp_path / "cameras.yaml"
    cams.write_text(f"""
- source: {clip}
  name: gate-in
  roi: [[0.5, 0.5], [1, 0.5], [1, 1], [0.5, 1]]
- source: {clip}
  name: gate-out
  csv: false
""")
    assert main(["--sources", str(cams), f"output_dir={tmp_path / 'out'}", "video_out=false", "progress=false"]) == 0
    assert shapes == [(55, 110), (100, 200)]  # the first with its roi, the second whole (once each: nothing moves)
    assert (tmp_path / "out" / "gate-in" / "events.csv").exists()
    assert not (tmp_path / "out" / "gate-out" / "events.csv").exists()
    assert (tmp_path / "out" / "gate-out" / "summary.json").exists()
    assert json.loads((tmp_path / "out" / "gate-out" / "summary.json").read_text())["source"] == "gate-out"
    capsys.readouterr()
    cams.write_text(f"- source: {clip}\n- source: {clip}\n  detector.confidence: 0.3\n")
    assert main(["--sources", str(cams), f"output_dir={tmp_path / 'out'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {cams}, entry 2 ({clip}): "), err
    assert "detector has no key 'confidence'" in err[0]


def test_check_says_whether_the_settings_are_good_and_reads_nothing(tmp_path, monkeypatch, capsys):
    """Before restarting a service on an edited cameras file, whether it would start: a mistake there restarted
    stops the gate's reading (a unit restarts no mistake). `--check` goes through every check a start makes, then
    ends without opening a source (a camera in use by the running service is not opened a second time)."""
    import run_pipeline

    monkeypatch.setattr(run_pipeline, "run_all", lambda *a: pytest.fail("a source was run"))
    monkeypatch.setenv("CAM_PASSWORD", "s3cret")
    cams = tmp_path / "cameras.yaml"
    cams.write_text("- source: rtsp://admin:${CAM_PASSWORD}@10.0.0.5/1\n  name: gate-in\n"
                    "- source: rtsp://admin:${CAM_PASSWORD}@10.0.0.6/1\n  line: [[0.5, 0], [0.5, 1]]\n")
    log = tmp_path / "gate.log"
    assert main(["--sources", str(cams), "--check", f"log_file={log}"]) == 0
    assert capsys.readouterr().err.strip() == ("settings checked: 2 sources (gate-in, rtsp://***@10.0.0.6/1); none "
                                               "was opened")
    assert not log.exists()  # the running service's log is not written to
    assert main(["rtsp://admin:${CAM_PASSWORD}@10.0.0.7/1", "--check"]) == 0
    assert capsys.readouterr().err.strip() == "settings checked: 1 source (rtsp://***@10.0.0.7/1); none was opened"
    cams.write_text("- source: rtsp://admin:${CAM_PASSWORD}@10.0.0.5/1\n  line: [[0.5, 0]]\n")
    assert main(["--sources", str(cams), "--check"]) == 2
    assert capsys.readouterr().err.startswith(f"error: {cams}, entry 1 (rtsp://***@10.0.0.5/1): ")
    cams.write_text("- source: rtsp://10.0.0.5/1\n- source: rtsp://10.0.0.6/1\n  ocr_weights: weights/ocr_digits.pth\n"
                    "  fusion.patterns: [LLLDDD]\n")  # a format of letters for a model of digits: nothing fits it
    assert main(["--sources", str(cams), "--check"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {cams}, entry 2 (rtsp://10.0.0.6/1): weights/ocr_digits.pth: plate pattern 'LLLDDD' asks for "
        "letters (L), and the OCR model's alphabet '0123456789' has none: no read could fit it (a model of another "
        "alphabet, or another pattern)")
    hotlist = tmp_path / "hotlist.txt"  # the watchlist, and an ensemble, against the models' alphabet too
    hotlist.write_text("AB123CD,stolen\n")
    assert main(["rtsp://10.0.0.5/1", "--check", "ocr_weights=weights/ocr_digits.pth", f"watchlist={hotlist}"]) == 2
    assert capsys.readouterr().err.strip() == (f"error: {hotlist}, line 1: plate 'AB123CD' has 'ABCD', which the "
                                               "reader never reads")
    assert main(["rtsp://10.0.0.5/1", "--check", "ocr_ensemble=[weights/ocr_digits.pth]"]) == 2
    assert capsys.readouterr().err.strip().startswith("error: OCR ensemble: weights/ocr_digits.pth has alphabet=")
    assert main(["rtsp://10.0.0.5/1", "--check", "ocr_precision=bf16", "ocr_backend=onnx"]) == 2  # and how they run
    assert capsys.readouterr().err.strip().startswith("error: precision=bf16 runs on the torch backend, not on ONNX")


def test_a_sources_files_mistake_shows_its_cameras_url_without_the_password(tmp_path, monkeypatch, capsys):
    """The entry's source was shown as it was given, with the password the environment put in it."""
    monkeypatch.setenv("CAM_PASSWORD", "s3cret")
    cams = tmp_path / "cameras.yaml"
    cams.write_text("- source: rtsp://admin:${CAM_PASSWORD}@10.0.0.5/1\n  detector.conf: 3\n")
    assert main(["--sources", str(cams), f"output_dir={tmp_path / 'out'}"]) == 2
    assert capsys.readouterr().err.strip() == (f"error: {cams}, entry 1 (rtsp://***@10.0.0.5/1): config key "
                                               "'detector.conf': 3 is out of range (0 to 1)")


def test_a_source_may_also_be_named_as_ultralytics_names_it(tmp_path, gate_clip, capsys):
    """`--source clip` and `source=clip` run the clip as a plain argument does (neither is taken for the `--sources`
    file, nor for a config key); a video given as the sources file is one error line naming it."""
    clip, shapes = gate_clip
    common = ["video_out=false", "progress=false", "motion_gate=false"]
    assert main(["--source", str(clip), f"output_dir={tmp_path / 'a'}"] + common) == 0
    assert main([f"source={clip}", f"output_dir={tmp_path / 'b'}"] + common) == 0
    for out in ("a", "b"):
        assert json.loads((tmp_path / out / "gate" / "summary.json").read_text())["frames"] == 3
    assert len(shapes) == 6
    capsys.readouterr()
    assert main(["--sources", str(clip), f"output_dir={tmp_path / 'c'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith(f"error: {clip}: not a UTF-8 text file (expected a YAML list of "
                                               "sources; a video is given as a plain argument)"), err


def test_the_summary_gives_an_ensembles_second_share(tmp_path):
    from types import SimpleNamespace

    from pipeline.orchestrator import RunSummary
    from pipeline.outputs import write_summary

    summary = RunSummary("cam", 10, 1.0, 10.0, {}, 0, 2, False)
    cascade = SimpleNamespace(source="a.pth+b.pth", precision="int8+int8", second_share=0.25)
    assert write_summary(tmp_path, summary, None, cascade)["ocr_second_share"] == 0.25
    assert json.loads((tmp_path / "summary.json").read_text())["models"]["ocr"] == "a.pth+b.pth"
    one = SimpleNamespace(source="a.pth", precision="int8")
    assert "ocr_second_share" not in write_summary(tmp_path, summary, None, one)


def test_a_source_given_twice_is_read_once(tmp_path, monkeypatch, logged):
    """`clip.mp4 ./clip.mp4`, or a folder and a video in it: its vehicles would be written twice into one folder."""
    import run_pipeline
    from tests.pipeline.test_sources import numbered_video

    monkeypatch.chdir(tmp_path)
    (tmp_path / "card").mkdir()
    numbered_video(tmp_path / "card" / "a.mp4", 3)
    numbered_video(tmp_path / "card" / "b.mp4", 3)
    lines, got = logged(lambda: run_pipeline.given_sources(["card/a.mp4", "card", "./card/a.mp4", "0", "0"], False,
                                                            False), "WARNING")
    assert got == ["card/a.mp4", str(Path("card") / "b.mp4"), "0"]
    assert lines == [("WARNING", f"{Path('card') / 'a.mp4'} is given more than once (card/a.mp4): read once"),
                     ("WARNING", "./card/a.mp4 is given more than once (card/a.mp4): read once"),
                     ("WARNING", "0 is given more than once (0): read once")]


def test_a_file_url_is_the_path_it_names(tmp_path, monkeypatch):
    """A browser's or a file manager's address of a file (`file:///home/me/gate%20cam.mp4`) was refused as an
    unknown stream scheme; it names a file, read as the file is (a folder as the folder)."""
    import run_pipeline
    from pipeline.addresses import local_path
    from tests.pipeline.test_sources import numbered_video

    monkeypatch.chdir(tmp_path)
    (tmp_path / "my card").mkdir()
    numbered_video(tmp_path / "my card" / "gate cam.mp4", 3)
    url = (tmp_path / "my card" / "gate cam.mp4").as_uri()
    assert "%20" in url
    assert run_pipeline.given_sources([url], False, False) == [str(tmp_path / "my card" / "gate cam.mp4")]
    assert run_pipeline.given_sources([(tmp_path / "my card").as_uri()], False, False) == [
        str(tmp_path / "my card" / "gate cam.mp4")]
    assert local_path("FILE://localhost/srv/a.mp4") == "/srv/a.mp4"
    assert local_path("file://nas/share/a.mp4") == "file://nas/share/a.mp4"  # another host's: refused as it was
    assert local_path("rtsp://cam/1") == "rtsp://cam/1"
    assert local_path("file://[zz/x.mp4") == "file://[zz/x.mp4"  # not a URL urllib can take apart: as it is


def test_a_camera_that_hangs_in_the_pipeline_is_named_with_its_code_and_the_pings_stop(tmp_path, monkeypatch,
                                                                                          steady_camera, capsys):
    """The whole chain under a fake systemd: a camera's pipeline hangs in its detector for a while (a library's
    deadlock); the watchdog's pings stop, one error line names the camera and the code it hangs in, and once it goes
    on, so do the pings; the run ends as before."""
    import threading

    import detection
    import pipeline.app
    import pipeline.sources as sources
    from detection.detections import Detections
    from ocr.recognizer import PlateRead

    frames, hung = [], []

    def detect(self, frame):
        frames.append(1)
        if len(frames) == 10:
            hung.append(time.monotonic())
            threading.Event().wait(1.5)  # hangs for 1.5 s
            hung.append(time.monotonic())
        return Detections()

    def opener(spec, stride, live, stop, *window):
        src = sources.LiveSource(spec, live, lambda url, cfg: steady_camera(0.02), stop=stop)
        threading.Thread(target=lambda: (time.sleep(3.0), src.close()), daemon=True).start()
        return src

    monkeypatch.setattr(sources, "open_source", opener)
    monkeypatch.setattr(detection, "PlateDetector", lambda cfg: type("D", (), {"detect": detect})())
    monkeypatch.setattr(pipeline.app, "_recognizer", lambda cfg, patterns: type("R", (), {
        "decode": lambda s, p: PlateRead("", 0.0, ())})())
    systemd = bench_module("service_unit").Systemd(tmp_path / "notify")  # as the bench listens for a unit's messages
    monkeypatch.setenv("NOTIFY_SOCKET", str(systemd.path))
    monkeypatch.setenv("WATCHDOG_USEC", "600000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    try:
        code = main(["rtsp://cam/a", f"output_dir={tmp_path / 'out'}", "video_out=false", "motion_gate=false",
                     "status_every_s=0.5"])
        time.sleep(0.2)
    finally:
        systemd.close()
    told = [(systemd.t0 + t, m) for t, m in systemd.told]
    err = capsys.readouterr().err
    assert code == 0 and told[0][1] == "READY=1" and ("STATUS=reading rtsp://cam/a" in {m for _, m in told})
    assert "STATUS=reading rtsp://cam/a; rtsp://cam/a: 0 vehicles" in {m for _, m in told}  # its count, each minute
    stuck = [ln for ln in err.splitlines() if "no progress" in ln]
    assert len(stuck) == 1 and "rtsp://cam/a: no progress for 0." in stuck[0], err
    assert re.search(r"\(in threading\.py:\d+ wait < test_run_pipeline\.py:\d+ detect < \w+\.py:\d+ detect\)", stuck[0])
    assert "rtsp://cam/a: no longer stuck" in err
    pings = [when for when, m in told if m == "WATCHDOG=1"]
    assert [t for t in pings if hung[0] + 0.65 < t < hung[1]] == []  # stuck from 0.6 s (the period) on: silent
    assert any(t < hung[0] for t in pings) and any(t > hung[1] for t in pings)


