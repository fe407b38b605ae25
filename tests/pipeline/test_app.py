"""pipeline/app.py: the annotated video's rate, the model files checked before a run, the stages and settings each
run builds, the still images' run."""
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from common.errors import UserError
from pipeline.app import check_models, video_rate
from pipeline.settings import load_configs

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("source, fps, rate", [
    (SimpleNamespace(fps=30.0, stride=1), 12.5, 12.5),  # asked
    (SimpleNamespace(fps=30.0, stride=1), 0.5, 0.5),  # a time-lapse rate, under one frame a second
    (SimpleNamespace(fps=30.0, stride=3), 0.0, 10.0),  # a file read every third frame
    (SimpleNamespace(fps=None, stride=2), 0.0, 12.5),  # a camera that gives no rate: 25
    (SimpleNamespace(fps=20.0), 0.0, 20.0),  # a source without a stride
    (SimpleNamespace(fps=25.0, cfg=SimpleNamespace(max_fps=8.0)), 0.0, 8.0),  # a camera capped: not 25 with copies
    (SimpleNamespace(fps=0.0, cfg=SimpleNamespace(max_fps=8.0)), 0.0, 8.0),  # ... one not opened yet, too
    (SimpleNamespace(fps=5.0, cfg=SimpleNamespace(max_fps=8.0)), 0.0, 5.0),  # ... sending fewer than its cap
    (SimpleNamespace(fps=25.0, cfg=SimpleNamespace(max_fps=0.5)), 0.0, 0.5),
    (SimpleNamespace(fps=25.0, cfg=SimpleNamespace(max_fps=0.0)), 0.0, 25.0),
    (SimpleNamespace(fps=25.0, cfg=SimpleNamespace(max_fps=8.0)), 12.0, 12.0),  # asked
])
def test_the_annotated_videos_rate_is_asked_or_the_sources_over_its_stride(source, fps, rate):
    assert video_rate(source, fps) == rate


def test_model_files_are_read_once_for_the_sources_that_share_them(monkeypatch):
    from ocr.model import ModelConfig

    seen = []

    def read(path):
        seen.append(("ocr", path))
        return ModelConfig(alphabet="0123456789" if "digits" in path else "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")

    monkeypatch.setattr("ocr.recognizer.check_model_file", read)
    monkeypatch.setattr("detection.detector.check_weights", lambda cfg: seen.append(("detector", cfg.weights)))
    cfgs = load_configs(CONFIGS, [])
    assert check_models(cfgs) == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # the detector too, by default
    assert seen == [("ocr", "weights/ocr_latin.pth"), ("detector", "weights/detector.pt")]
    seen.clear()
    check_models(cfgs, detect=False)
    assert seen == [("ocr", "weights/ocr_latin.pth")]
    checked: dict = {}
    seen.clear()
    for _ in range(2):
        check_models(cfgs, checked=checked)  # two sources with the same settings
    check_models(load_configs(CONFIGS, ["ocr_ensemble=[b.pth]"]), checked=checked)
    assert seen == [("ocr", "weights/ocr_latin.pth"), ("detector", "weights/detector.pt"), ("ocr", "b.pth")]
    # what is checked against a file read already is checked for each source: its patterns, its ensemble
    assert check_models(load_configs(CONFIGS, ["ocr_weights=weights/ocr_digits.pth"]), checked=checked) == "0123456789"
    with pytest.raises(UserError, match=r"^weights/ocr_digits.pth: plate pattern 'LLLDDD' asks for letters"):
        check_models(load_configs(CONFIGS, ["ocr_weights=weights/ocr_digits.pth", "fusion.patterns=[LLLDDD]"]),
                     checked=checked)
    with pytest.raises(UserError, match=r"^OCR ensemble: weights/ocr_digits.pth has alphabet='0123456789', "
                                        r"weights/ocr_latin.pth '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ': they must"):
        check_models(load_configs(CONFIGS, ["ocr_ensemble=[weights/ocr_digits.pth]"]), checked=checked)
    assert seen[3:] == [("ocr", "weights/ocr_digits.pth")]


@pytest.mark.parametrize("overrides, drawn", [
    ([], None), (["roi=[[0, 0], [1, 0], [1, 1]]"], "roi"), (["line=[[0.5, 0], [0.5, 1]]"], "line"),
    (["roi=[[0, 0], [1, 0], [1, 1]]", "line=[[0.5, 0], [0.5, 1]]"], "both")])
def test_zones_are_made_when_a_roi_or_a_line_is_drawn(overrides, drawn):
    from pipeline.app import zones_of

    zones = zones_of(load_configs(CONFIGS, overrides).pipeline)
    assert (zones is None) == (drawn is None)
    if zones is not None:
        assert (zones.roi is not None, zones.line is not None) == (drawn in ("roi", "both"), drawn in ("line", "both"))


@pytest.mark.parametrize("patterns, given", [(("LLLDDDD", "LLLDLDD"), ("LLLDDDD", "LLLDLDD")), ((), None)])
def test_the_recognizer_is_given_the_fusions_plate_formats(monkeypatch, patterns, given):
    from pipeline.app import _recognizer

    asked = {}
    monkeypatch.setattr("ocr.ensemble.load_recognizer", lambda weights, below, **kw: asked.update(kw, weights=weights))
    _recognizer(load_configs(CONFIGS, []).pipeline, patterns)
    assert asked["weights"] == ["weights/ocr_latin.pth"] and asked["patterns"] == given


@pytest.mark.parametrize("overrides, counts", [(["roi=[[0, 0], [1, 0], [1, 1]]"], False),
                                               (["line=[[0.5, 0], [0.5, 1]]"], True)])
def test_a_video_counts_crossings_only_where_a_line_is_drawn(overrides, counts):
    from detection.region import RegionDetector
    from pipeline.app import video_stages

    detector = SimpleNamespace(detect=lambda frame: None)
    recognizer = SimpleNamespace(decode=lambda m: None)
    found, _, _, zones, fuser = video_stages(load_configs(CONFIGS, overrides), "clip", detector, recognizer)
    assert zones is not None and (fuser.direction is not None) == counts
    assert isinstance(found, RegionDetector) != counts  # a roi: the detector runs on its bounding box alone


@pytest.mark.parametrize("early", [True, False])
def test_a_watchlists_plates_are_written_early_unless_told_not_to(tmp_path, early):
    from pipeline.app import video_stages

    (tmp_path / "w.txt").write_text("XY9876,stolen\n")
    overrides = [f"watchlist={tmp_path / 'w.txt'}"] + ([] if early else ["watchlist_early=false"])
    recognizer = SimpleNamespace(decode=lambda m: None)
    *_, fuser = video_stages(load_configs(CONFIGS, overrides), "clip", SimpleNamespace(detect=None), recognizer)
    if early:
        assert fuser.urgent("XY9876").label == "stolen" and fuser.urgent("AB123CD") is None
    else:
        assert fuser.urgent is None
    *_, fuser = video_stages(load_configs(CONFIGS, []), "clip", SimpleNamespace(detect=None), recognizer)
    assert fuser.urgent is None  # no watchlist


@pytest.mark.parametrize("live, every, running", [(False, 0.0001, False), (True, 0.0, False), (True, 0.0001, True)])
def test_only_a_camera_keeps_a_running_summary_and_status_every_s_0_turns_it_off(tmp_path, monkeypatch, steady_camera,
                                                                                  live, every, running):
    """A camera's summary.json is rewritten while it runs ("running"); a file's is written once, at its end."""
    import threading

    import pipeline.app as app
    import pipeline.sources as sources
    from tests.pipeline.test_sources import one_plate_models, write_video

    spec = "rtsp://cam/7" if live else str(write_video(tmp_path / "v.avi", n=15))
    monkeypatch.setattr(sources, "open_source", lambda s, stride, cfg, stop, *window: sources.LiveSource(
        s, cfg, lambda url, c: steady_camera(0.005), max_frames=15, stop=stop) if live else sources.VideoFileSource(s))
    written, write = [], app.write_summary  # each summary's "running"
    monkeypatch.setattr(app, "write_summary", lambda *a, **kw: written.append(kw.get("running", False))
                        or write(*a, **kw))
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}", "progress=false", "sqlite=false", "video_out=false",
                                  f"status_every_s={every}"])
    app.run_video(spec, cfgs, threading.Event(), *one_plate_models())
    if running:
        assert written[-1] is False and True in written[:-1]  # the last one the end's
    else:
        assert written == [False]


@pytest.mark.parametrize("build, stills", [("still_reader", True), ("vehicle_reader", False), ("run_video", False)])
def test_video_and_stills_cut_plates_as_their_own_settings_say(tmp_path, monkeypatch, build, stills):
    """`narrow_both_ways` and `read_views` set to `stills`: on in the still reader, off in the video pipelines."""
    import threading

    import pipeline.app as app
    import pipeline.orchestrator as orchestrator
    from tests.pipeline.test_sources import one_plate_models, write_video

    made, real = [], orchestrator.Pipeline
    monkeypatch.setattr(orchestrator, "Pipeline", lambda *a, **kw: made.append(real(*a, **kw)) or made[-1])
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}", "progress=false", "sqlite=false", "video_out=false",
                                  "narrow_both_ways=stills", "read_views=stills"])
    if build == "still_reader":
        crops = app.still_reader(cfgs, *one_plate_models()).crops
    elif build == "vehicle_reader":
        crops = app.vehicle_reader(cfgs, "cam", *one_plate_models()).pipeline.crops
    else:
        app.run_video(str(write_video(tmp_path / "v.avi", n=2)), cfgs, threading.Event(), *one_plate_models())
        crops = made[0].crops
    assert (crops.both_ways, crops.views) == (stills, stills)


@pytest.mark.parametrize("crops_only, message", [
    (True, "holds videos, not plate crops: --crops reads images of plates"),
    (False, "holds videos: pass each video file as a source")])
def test_a_folder_of_videos_read_as_images_says_what_to_do(tmp_path, crops_only, message):
    import re

    from common.errors import UserError
    from pipeline.app import run_images
    from tests.pipeline.test_sources import write_video

    (tmp_path / "in").mkdir()
    write_video(tmp_path / "in" / "v.avi")
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}"])
    with pytest.raises(UserError, match=f"^{re.escape(str(tmp_path / 'in'))} {message}"):
        run_images(str(tmp_path / "in"), cfgs, crops_only, recognizer=object())


def test_one_plate_crop_given_as_a_file_is_read_and_logged(tmp_path, function_recognizer, logged):
    import cv2
    import numpy as np

    from ocr.recognizer import PlateRead
    from pipeline.app import run_images

    cv2.imwrite(str(tmp_path / "plate.png"), np.full((30, 90, 3), 128, np.uint8))
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}"])
    lines, res = logged(lambda: run_images(str(tmp_path / "plate.png"), cfgs, True, recognizer=function_recognizer(
        lambda crops: [PlateRead("AB123", 0.9, ()) for _ in crops])))
    assert res["reads"] == [("plate.png", [{"box": [0, 0, 90, 30], "text": "AB123", "confidence": 0.9}])]
    assert ("INFO", f"{'plate.png':28s} AB123 (0.90)") in lines


def test_a_stride_or_a_frame_rate_cap_given_for_images_is_said_to_be_for_videos(tmp_path, monkeypatch, logged,
                                                                                function_recognizer):
    """A folder of frames exported from a video, given stride=2 to halve the work, was read whole without a word."""
    import cv2

    from ocr.recognizer import PlateRead
    from pipeline.app import run_images

    monkeypatch.setattr("common.errors._TOLD", set())
    cv2.imwrite(str(tmp_path / "plate.png"), np.full((30, 90, 3), 128, np.uint8))
    rec = function_recognizer(lambda crops: [PlateRead("AB123", 0.9, ()) for _ in crops])
    for given, says in (([], None), (["stride=2"], "stride=2 is"), (["max_fps=0.5"], "max_fps=0.5 is"),
                        (["stride=2", "max_fps=5"], "stride=2 and max_fps=5 are")):
        cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}", *given])
        lines, res = logged(lambda: run_images(str(tmp_path / "plate.png"), cfgs, True, recognizer=rec), "WARNING")
        assert len(res["reads"]) == 1
        told = [m for _, m in lines if "for videos" in m]
        assert told == ([] if says is None else [f"{says} for videos: images are each read (a numbered sequence, "
                                                 "frames/img_%05d.jpg, is read as a video)"])


def test_a_folder_of_images_read_one_by_one_is_no_hang(tmp_path, function_recognizer, never_stuck):
    """Each image read is a sign of progress (systemd's watchdog restarts a service whose source gives none): a
    folder of thousands, or a backlog a watched folder gathered, takes long and is no hang."""
    import time

    import cv2
    import numpy as np

    from ocr.recognizer import PlateRead
    from pipeline.app import run_images

    for i in range(8):
        cv2.imwrite(str(tmp_path / f"plate{i}.png"), np.full((30, 90, 3), 128, np.uint8))
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}"])
    slow = function_recognizer(lambda crops: time.sleep(0.15) or [PlateRead("AB123", 0.9, ()) for _ in crops])
    t, longest = never_stuck(lambda: run_images(str(tmp_path), cfgs, True, recognizer=slow), 1.3, 0.35)
    t.join(10)
    assert longest == 0 and not t.is_alive()


@pytest.mark.parametrize("terminal, progress, drawn", [
    (True, True, True), (False, True, False), (True, False, False)])
def test_the_progress_bar_is_drawn_on_a_terminal_only(tmp_path, function_recognizer, monkeypatch, capsys, terminal,
                                                      progress, drawn):
    """`progress: true` draws the images' bar where stderr is a terminal; to a file, a pipe or a service's log it
    would be one line growing with every image, so it is left out there."""
    import sys

    import cv2
    import numpy as np

    from ocr.recognizer import PlateRead
    from pipeline.app import run_images

    for i in range(3):
        cv2.imwrite(str(tmp_path / f"plate{i}.png"), np.full((30, 90, 3), 128, np.uint8))
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}", f"progress={str(progress).lower()}"])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: terminal)
    run_images(str(tmp_path), cfgs, True, recognizer=function_recognizer(
        lambda crops: [PlateRead("AB123", 0.9, ()) for _ in crops]))
    assert ("0/3 [00:00<?, ?image/s]" in capsys.readouterr().err) == drawn


@pytest.mark.parametrize("live", [True, False])
def test_a_camera_whose_plates_stay_too_small_is_told_so_once(tmp_path, monkeypatch, steady_camera, logged, live):
    """Vehicles come and go, their plates 40 px wide (4 tracks; told once 2 have ended): a camera is told to be
    zoomed in (once); a recording, whose camera is not there to zoom, has the figures in its summary only."""
    import threading

    import pipeline.app as app
    import pipeline.plate_sizes as plate_sizes
    import pipeline.sources as sources
    from detection.detections import Detections
    from tests.pipeline.test_sources import one_plate_models, write_video

    monkeypatch.setattr(plate_sizes, "MIN_PLATES", 2)
    frames = [0]

    def now_and_then(frame):  # a plate in 5 frames of every 10: a vehicle each time
        frames[0] += 1
        there = (frames[0] - 1) // 5 % 2 == 0
        return Detections(np.array([[10, 20, 50, 30]] * there, np.float32).reshape(-1, 4),
                          np.array([0.9] * there, np.float32))

    detector = SimpleNamespace(detect=now_and_then)
    spec = "rtsp://cam/7" if live else str(write_video(tmp_path / "v.avi", n=40))
    monkeypatch.setattr(sources, "open_source", lambda s, stride, cfg, stop, *window: sources.LiveSource(
        s, cfg, lambda url, c: steady_camera(0.005), max_frames=40, stop=stop) if live else sources.VideoFileSource(s))
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}", "progress=false", "sqlite=false", "video_out=false",
                                  "status_every_s=0.0001", "motion_gate=false", "fusion.lost_frames=2"])
    said, summary = logged(lambda: app.run_video(spec, cfgs, threading.Event(), detector, one_plate_models()[1]),
                           "WARNING")
    assert summary["plate_width_px"] == {"plates": 4, "median": 40.0, "under_60": 1.0}
    told = [m for _, m in said if "too small to read well" in m]
    assert told == ([f"{summary['source']}: the plates are too small to read well: 100% of the 2 plates tracked were "
                     "never 60 px wide (median 40 px), and plates under 60 px wide are read about 1 in 4 (9 in 10 "
                     "from 60 px up): zoom the camera in or bring it nearer the lane"] if live else [])


def test_a_cameras_max_fps_reaches_its_source_and_a_stride_is_told_to_be_for_files(tmp_path, monkeypatch, logged,
                                                                                      steady_camera):
    import threading

    import cv2

    import pipeline.app as app
    import pipeline.sources as sources
    from tests.pipeline.test_sources import one_plate_models, write_video

    import pipeline.tracker as tracker

    given, windows = [], []

    def live(s, stride, cfg, stop, *window):
        given.append(cfg.max_fps)
        return sources.LiveSource(s, cfg, lambda url, c: steady_camera(0.005), max_frames=5, stop=stop)

    class Tracker(tracker.PlateTracker):  # the windows each run's tracker and fuser count frames by
        def __init__(self, cfg):
            super().__init__(cfg)
            windows.append(cfg.track_buffer)

    real_open = sources.open_source
    monkeypatch.setattr(sources, "open_source", live)
    monkeypatch.setattr(tracker, "PlateTracker", Tracker)
    stages = app.video_stages
    monkeypatch.setattr(app, "video_stages", lambda cfgs, *a, **k: windows.append(cfgs.fusion.lost_frames) or stages(
        cfgs, *a, **k))
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}", "progress=false", "video_out=false",
                                  "max_fps=12.5", "stride=3"])
    said, _ = logged(lambda: app.run_video("rtsp://cam/7", cfgs, threading.Event(), *one_plate_models()), "WARNING")
    assert given == [12.5]
    assert ("WARNING", "rtsp://cam/7: stride=3 is for video files; a camera's or stream's frames are read as they "
                       "come, the newest each time (max_fps= caps how many a second)") in said
    assert windows == [15, 30]  # a camera's windows as configured (it gives no rate): its stride does nothing

    class TwentyFiveFps(steady_camera):
        def get(self, prop):
            return 25.0 if prop == cv2.CAP_PROP_FPS else 0.0

    monkeypatch.setattr(sources, "open_source", lambda s, stride, cfg, stop, *window: sources.LiveSource(
        s, cfg, lambda url, c: TwentyFiveFps(0.005), max_frames=2, stop=stop))
    del windows[:]
    for cap in (12.5, 0, 1):  # capped at 12.5 of its 25 frames a second, uncapped, at 1
        app.run_video("rtsp://cam/7", replace(cfgs, pipeline=replace(cfgs.pipeline, max_fps=cap)),
                      threading.Event(), *one_plate_models())
    assert windows == [8, 15, 15, 30, 1, 2]  # a capped camera's windows in its own frames
    windows.clear()
    monkeypatch.setattr(sources, "open_source", real_open)
    clip = str(write_video(tmp_path / "v.avi", n=2))
    said, _ = logged(lambda: app.run_video(clip, cfgs, threading.Event(), *one_plate_models()), "WARNING")
    assert ("WARNING", "v.avi: max_fps=12.5 is for cameras and streams; a video file's frames are all read (stride= "
                       "reads every Nth)") in said and not any("stride=3 is for" in m for _, m in said)
    assert windows == [5, 10]  # a file run every third frame: its windows in the file's frames


def test_a_camera_opened_after_its_run_began_is_filmed_at_its_own_rate(tmp_path, monkeypatch, steady_camera):
    """A camera waited for from the start (open_retry_s=-1) had no rate when the annotated video was made: it was
    written at 25 for ever, each of a 10 fps camera's frames copied to fill them. Its rate is taken at its first
    frame, and its parts' length with it."""
    import threading

    import cv2

    import pipeline.annotate as annotate
    import pipeline.app as app
    import pipeline.sources as sources
    from tests.pipeline.test_sources import one_plate_models

    class TenFps(steady_camera):
        def get(self, prop):
            return 10.0 if prop == cv2.CAP_PROP_FPS else 0.0

    class Down:
        def isOpened(self):
            return False

        def release(self):
            pass

    tries = []

    def opener(url, cfg):
        tries.append(url)
        return Down() if len(tries) < 3 else TenFps(0.05)

    monkeypatch.setattr(sources, "open_source", lambda s, stride, cfg, stop, *window: sources.LiveSource(
        s, cfg, opener, max_frames=8, stop=stop))
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}", "progress=false", "open_retry_s=-1",
                                  "backoff_start_s=0.01", "video_segment_min=1"])
    made, real = [], annotate.VideoSink

    def remembered(*args, **kwargs):  # the sink, with the rate it was made at
        made.append(real(*args, **kwargs))
        made[-1].made_at = made[-1].fps
        return made[-1]

    monkeypatch.setattr(annotate, "VideoSink", remembered)
    app.run_video("rtsp://cam/7", cfgs, threading.Event(), *one_plate_models())
    assert len(tries) == 3 and made[0].made_at == 25.0  # not known when made...
    assert made[0].fps == 10.0 and made[0].segment_frames == 600  # ...taken at its first frame: 1 min at 10 fps
    parts = list((tmp_path / "out").rglob("annotated_*.mp4"))
    assert len(parts) == 1 and cv2.VideoCapture(str(parts[0])).get(cv2.CAP_PROP_FPS) == 10.0


@pytest.mark.parametrize("container, codecs", [("mkv", {"mp4v", "fmp4"}), ("webm", {"vp80"})])  # as FFmpeg tags them
def test_the_annotated_video_is_written_in_the_container_asked(tmp_path, container, codecs):
    import threading

    import cv2

    import pipeline.app as app
    from tests.pipeline.test_sources import one_plate_models, write_video

    clip = write_video(tmp_path / "v.avi", n=6)
    cfgs = load_configs(CONFIGS, [f"output_dir={tmp_path / 'out'}", "progress=false",
                                  f"video_container={container}"])
    app.run_video(str(clip), cfgs, threading.Event(), *one_plate_models())
    assert sorted(p.name for p in (tmp_path / "out" / "v").glob("annotated*")) == [f"annotated.{container}"]
    video = cv2.VideoCapture(str(tmp_path / "out" / "v" / f"annotated.{container}"))
    fourcc = int(video.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode()
    assert sum(1 for _ in iter(lambda: video.read()[0], False)) == 6 and fourcc.lower() in codecs
