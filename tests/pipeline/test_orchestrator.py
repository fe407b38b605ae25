import threading
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pytest

from detection.detections import Detections
from ocr.recognizer import PlateRead
from pipeline.crops import CropSpec
from pipeline.fusion import FusionConfig, TrackFuser
from pipeline.orchestrator import ImageRead, Pipeline, read_image
from pipeline.tracker import PlateTracker, TrackerConfig
from pipeline.types import Frame, SourceEvent
from pipeline.zones import ZoneConfig, Zones

CONFIGS = Path(__file__).resolve().parents[2] / "configs"

# two vehicles: grey level of the plate -> its text; vehicle A misread once
TEXTS = {100: "AB123CD", 200: "XY9876"}


def clip(n=20):
    """Frames with plate A (grey 100) in frames 0-9 moving right, plate B (grey 200) in 5-19 moving left."""
    frames, boxes = [], []
    for i in range(n):
        img = np.zeros((240, 320, 3), np.uint8)
        fb = []
        if i < 10:
            x = 20 + 6 * i
            img[100:120, x:x + 60] = 100
            fb.append([x, 100, x + 60, 120])
        if i >= 5:
            x = 240 - 5 * (i - 5)
            img[180:196, x:x + 50] = 200
            fb.append([x, 180, x + 50, 196])
        frames.append(Frame(img, i, i / 10, "synthetic"))
        boxes.append(np.array(fb, np.float32).reshape(-1, 4))
    return frames, boxes


class FakeDetector:
    def __init__(self, boxes):
        self.boxes, self.i = boxes, 0

    def detect(self, frame):
        b = self.boxes[self.i]
        self.i += 1
        return Detections(b, np.full(len(b), 0.9, np.float32))


class FakeRecognizer:
    """Reads a crop by its brightest grey level; frame 3's read of A is wrong."""

    def __init__(self):
        self.calls, self.n = [], 0

    def probs(self, crops):
        self.calls.append(len(crops))
        return np.array([[int(c.max())] for c in crops], np.float32)

    def rows(self, crop):
        return 1

    def decode(self, p):
        self.n += 1
        text = TEXTS.get(int(p[0]), "")
        if self.n == 4:
            text = "A8123CD"
        return PlateRead(text, 0.9, (0.9,) * len(text))


class Into:
    """A sink that keeps each event in the list `out`."""

    def __init__(self, out: list) -> None:
        self.out = out

    def write(self, e) -> None:
        self.out.append(e)


def run(fusion: FusionConfig, zones=None, stop_after=None):
    frames, boxes = clip()
    out = []

    stop = threading.Event()
    pipe = Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(), TrackFuser(fusion, "synthetic"),
                    [Into(out)], zones=zones, crops=CropSpec(0.0), stop=stop)

    def source():
        for f in frames:
            if stop_after is not None and f.index == stop_after:
                stop.set()
            yield f

    summary = pipe.run(source())
    return out, summary, pipe


def test_one_event_per_vehicle_with_the_voted_text():
    events, summary, _ = run(FusionConfig(lost_frames=3, decisive_reads=99))
    assert sorted(e.text for e in events) == ["AB123CD", "XY9876"]
    a = next(e for e in events if e.text == "AB123CD")
    assert (a.reason, a.first_frame, a.last_frame) == ("lost", 0, 9)
    assert [c.text for c in a.alternatives] == ["AB123CD", "A8123CD"]
    b = next(e for e in events if e.text == "XY9876")
    assert b.reason == "end" and b.last_frame == 19
    assert summary.frames == 20 and summary.events == 2 and set(summary.stage_ms) >= {"detect", "track", "ocr"}


def test_each_event_is_one_log_line_for_a_log_file_not_the_console(capsys, logged):
    from common.cli import setup_logging

    setup_logging()  # the console, as every entry point sets it
    # a log file, as run_pipeline.py log_file= adds, takes every level
    said, (events, _, _) = logged(lambda: run(FusionConfig(lost_frames=3, decisive_reads=99)), "DEBUG")
    lines = [message for _, message in said]
    assert sorted(lines) == sorted(f"{e.source}: {e.text} ({e.confidence:.2f}) {e.first_time_s:.1f}-{e.last_time_s:.1f}"
                                   f" s, event {e.event_id}" for e in events) and len(lines) == 2
    assert "AB123CD" not in capsys.readouterr().err


def test_a_run_reports_its_status_as_it_goes():
    """`on_status` gets the run so far every `status_every_s` (0 here: after every frame); the end is unchanged."""
    frames, boxes = clip()
    seen = []
    pipe = Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
                    TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99), "synthetic"), [], crops=CropSpec(0.0),
                    on_status=lambda s: seen.append((s.frames, s.events, s.stopped)), status_every_s=0.0)
    summary = pipe.run(iter(frames))
    assert seen == [(n, 0, False) for n in range(1, 21)]  # both vehicles' tracks are still open at every status
    assert (summary.frames, summary.events, summary.source_down) == (20, 2, False)


def test_confident_tracks_are_not_read_again():
    events, _, pipe = run(FusionConfig(lost_frames=3, decisive_reads=3, decisive_share=0.6, decisive_conf=0.3))
    assert sorted(e.text for e in events) == ["AB123CD", "XY9876"]
    assert sum(pipe.recognizer.calls) < 25  # 10 + 15 track-frames, most skipped once decisive


def test_stop_flushes_open_tracks():
    events, summary, _ = run(FusionConfig(lost_frames=3, decisive_reads=99), stop_after=8)
    assert summary.stopped and summary.frames == 8
    assert sorted((e.text, e.reason) for e in events) == [("AB123CD", "stopped"), ("XY9876", "stopped")]


def test_roi_and_direction():
    zones = Zones(ZoneConfig(roi=((0, 0.6), (1, 0.6), (1, 1), (0, 1)), line=((0.7, 0), (0.7, 1))), 320, 240)
    frames, boxes = clip()
    out = []
    fuser = TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99), "s", direction=zones.direction)
    Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(), fuser,
             [Into(out)], zones=zones,
             crops=CropSpec(0.0)).run(iter(frames))
    assert [(e.text, e.direction) for e in out] == [("XY9876", "in")]  # A is outside the ROI; B moves left


def test_read_image(function_recognizer):
    img = np.zeros((100, 200, 3), np.uint8)
    img[10:30, 10:70] = 200
    det = type("D", (), {"detect": lambda self, f: Detections(np.array([[10, 10, 70, 30]], np.float32), np.array([0.8], np.float32))})()
    rec = function_recognizer(lambda crops: [PlateRead(TEXTS[int(c.max())], 0.75, (0.75,) * 6) for c in crops])
    tight = CropSpec(margin=0.0)
    (r,) = read_image(img, det, rec, tight)
    assert (r.box, r.text, r.confidence) == ((10.0, 10.0, 70.0, 30.0), "XY9876", 0.75)
    assert read_image(img, det, rec, tight, min_chars=6) == [r]
    assert read_image(img, det, rec, tight, min_chars=7) == []  # too short to be a plate read
    assert read_image(img, det, rec, tight, min_conf=0.75) == [r]
    assert read_image(img, det, rec, tight, min_conf=0.8) == []  # not confident enough to report
    assert read_image(img, det, rec, CropSpec(margin=0.0, min_height=21)) == []  # the 20 px plate: too low to read
    box = np.array([[10.26, 10.04, 69.96, 30.5]], np.float32)
    det.detect = lambda f: Detections(box, np.array([0.8], np.float32))
    empty = function_recognizer(lambda crops: [PlateRead("", 0.123456, ()) for c in crops])
    assert read_image(img, det, empty, tight) == [ImageRead((10.3, 10.0, 70.0, 30.5), "", 0.1235)]  # by default, kept


class ReconnectingSource:
    """A live source stand-in: frames 0-9 at 320x240, then the stream drops and comes back at 640x480."""

    name = "cam"

    def __init__(self, frames):
        self.frames = frames

    def __iter__(self):
        for f in self.frames:
            if f.index == 10:
                yield SourceEvent("lost", 1.0, "read failed")
                yield SourceEvent("reconnected", 2.0)
            yield f


def test_resolution_change_after_reconnect():
    """ROI and line are recomputed for the new size; tracks open at the drop are closed with a reason."""
    frames, boxes = [], []
    for i in range(20):
        s = 1 if i < 10 else 2
        img = np.zeros((240 * s, 320 * s, 3), np.uint8)
        b = []
        x = 240 - 5 * i
        img[180 * s:196 * s, x * s:(x + 50) * s] = 200  # B: lower part (inside the ROI), moving left
        b.append([x * s, 180 * s, (x + 50) * s, 196 * s])
        if i >= 10:  # A appears after the reconnect at y 0.42-0.5 of the frame: outside the ROI at any size,
            img[100 * s:120 * s, 60 * s:120 * s] = 100  # but inside it if the old 320x240 pixel ROI were kept
            b.append([60 * s, 100 * s, 120 * s, 120 * s])
        frames.append(Frame(img, i, i / 10, "cam"))
        boxes.append(np.array(b, np.float32))
    zones = Zones(ZoneConfig(roi=((0, 0.6), (1, 0.6), (1, 1), (0, 1)), line=((0.6, 0), (0.6, 1))), 320, 240)
    out = []
    fuser = TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99, dedupe_s=0), "cam", direction=zones.direction)
    Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(), fuser,
             [Into(out)], zones=zones,
             crops=CropSpec(0.0)).run(ReconnectingSource(frames))
    assert [(e.text, e.reason) for e in out] == [("XY9876", "source_lost"), ("XY9876", "end")]
    # B's centre moves 430 -> 340 px: it crosses x = 0.6 of the new width (384 px), not of the old (192 px)
    assert out[1].direction == "in" and out[0].direction == ""
    assert out[1].box[1] == 360  # boxes in the new frame's pixels


def test_a_progress_wrapper_keeps_the_source_s_name_and_events():
    frames, boxes = clip()
    src = ReconnectingSource(frames)
    wrapped = []
    out = []
    summary = Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
                       TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99), "cam"),
                       [Into(out)], crops=CropSpec(0.0)).run(
        src, progress=lambda it: wrapped.append(1) or (f for f in it))
    assert wrapped == [1] and summary.source == "cam" and summary.frames == 20
    assert any(e.reason == "source_lost" for e in out)  # the source's events are seen through the wrapper


def test_open_tracks_are_written_as_soon_as_the_stream_is_lost():
    """Not when it comes back (that may be hours later): the events are on disk during the outage."""
    frames, boxes = clip()
    out, checked = [], []

    def source():
        yield from frames[:8]
        yield SourceEvent("lost", 0.8, "read failed")
        checked.append(sorted((e.text, e.reason) for e in out))
        yield SourceEvent("reconnected", 5.0)
        yield from frames[8:]

    fuser = TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99, dedupe_s=0), "cam")
    summary = Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(), fuser,
                       [Into(out)], crops=CropSpec(0.0)).run(source())
    assert checked == [[("AB123CD", "source_lost"), ("XY9876", "source_lost")]]
    assert summary.frames == 20 and summary.outages == 1  # events are not frames


def test_a_plate_scoring_low_for_a_while_stays_one_vehicle():
    """Video hands the tracker boxes down to its low threshold (ByteTrack's second stage): a plate whose score
    drops below detector.conf for longer than fusion.lost_frames (blur, glare) keeps its track and gives one
    event. Cut at detector.conf, the same plate gives two."""
    from pipeline.settings import load_configs, video_configs

    def events(floor):
        frames, dets = [], []
        for i in range(40):
            img = np.zeros((240, 320, 3), np.uint8)
            x = 20 + 5 * i
            img[100:120, x:x + 60] = 100
            frames.append(Frame(img, i, i / 10, "synthetic"))
            dets.append((np.array([[x, 100, x + 60, 120]], np.float32), 0.15 if 8 <= i < 30 else 0.9))

        class Detector:  # scores as given, cut at the floor
            i = 0

            def detect(self, frame):
                box, score = dets[self.i]
                self.i += 1
                return Detections(box, np.array([score], np.float32)).filter(np.array([score >= floor]))

        out = []
        sink = Into(out)
        Pipeline(Detector(), PlateTracker(cfgs.tracker), FakeRecognizer(),
                 TrackFuser(FusionConfig(lost_frames=15, dedupe_s=0), "synthetic"), [sink],
                 crops=CropSpec(0.0)).run(frames)
        return [(e.first_frame, e.last_frame) for e in out]

    cfgs = video_configs(load_configs(CONFIGS, ["tracker.track_low_thresh=0.1", "detector.conf=0.25"]))
    assert (cfgs.detector.conf, cfgs.tracker.new_track_thresh, cfgs.tracker.track_high_thresh) == (0.1, 0.25, 0.25)
    assert events(cfgs.detector.conf) == [(0, 39)]
    assert events(0.25) == [(0, 7), (30, 39)]


def test_video_configs_keep_detector_conf_for_new_tracks():
    from pipeline.settings import load_configs, video_configs

    cfgs = video_configs(load_configs(CONFIGS, ["detector.conf=0.5", "tracker.track_low_thresh=0.1"]))
    assert cfgs.detector.conf == 0.1
    assert cfgs.tracker.new_track_thresh == cfgs.tracker.track_high_thresh == 0.5
    low = video_configs(load_configs(CONFIGS, ["detector.conf=0.05"]))
    assert low.detector.conf == 0.05


def test_a_strided_files_windows_count_the_files_frames():
    from pipeline.settings import load_configs, strided

    cfgs = load_configs(CONFIGS, ["fusion.lost_frames=15", "tracker.track_buffer=30"])
    assert strided(cfgs, 1) is cfgs
    two, three = strided(cfgs, 2), strided(cfgs, 3)
    assert (two.fusion.lost_frames, two.tracker.track_buffer) == (8, 15)  # rounded up: never less time than asked
    assert (three.fusion.lost_frames, three.tracker.track_buffer) == (5, 10)
    capped = strided(cfgs, 25 / 8)  # a 25 fps camera capped at 8: 15 and 30 of its frames are 4.8 and 9.6 run
    assert (capped.fusion.lost_frames, capped.tracker.track_buffer) == (5, 10)
    assert strided(load_configs(CONFIGS, ["fusion.lost_frames=1", "tracker.track_buffer=1"]), 4).fusion.lost_frames == 1


def test_each_event_saves_the_whole_frame_of_its_best_read(tmp_path):
    import cv2

    from pipeline.stores import FrameStore

    frames, boxes = clip()
    out = []
    fuser = TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99), "s", save_frame=FrameStore(tmp_path / "frames"))
    Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(), fuser,
             [Into(out)], crops=CropSpec(0.0)).run(iter(frames))
    assert len(out) == 2
    for e in out:
        img = cv2.imread(e.frame_path)
        assert e.frame_path.endswith(f"frames/{e.event_id}.jpg") and img.shape == (240, 320, 3)
        x1, y1, x2, y2 = (int(v) for v in e.box)
        assert img[y2, (x1 + x2) // 2, 2] > 200 > img[y2, (x1 + x2) // 2, 1]  # the plate boxed in red
        plate = frames[e.best_frame].image[y1 + 2:y2 - 2, x1 + 2:x2 - 2]  # the best read's own frame, not drawn on
        assert np.abs(img[y1 + 2:y2 - 2, x1 + 2:x2 - 2].astype(int) - plate).mean() < 8 and plate.max() in (100, 200)


def event_texts(frames, boxes, recognizer, crops: CropSpec) -> list[str]:
    """The texts of the events a run over `frames` gives, the fake detector finding `boxes`."""
    out = []
    Pipeline(FakeDetector(list(boxes)), PlateTracker(TrackerConfig()), recognizer,
             TrackFuser(FusionConfig(lost_frames=3, min_chars=1, min_conf=0.0), "s"),
             [Into(out)], crops=crops).run(iter(frames))
    return [e.text for e in out]


def test_video_reads_a_narrow_crop_both_ways_and_keeps_the_surer():
    frames, boxes = [], []
    for i in range(8):
        img = np.zeros((240, 320, 3), np.uint8)
        img[100:140, 40 + 5 * i:90 + 5 * i] = 150  # 50 x 40: narrower than 1.5 x its height
        frames.append(Frame(img, i, i / 10, "synthetic"))
        boxes.append(np.array([[40 + 5 * i, 100, 90 + 5 * i, 140]], np.float32))

    class NarrowRecognizer:  # a crop read as two rows gives "TWO" (0.4); widened to one row, "ONEROW" (0.8)
        def rows(self, crop):
            return 2 if crop.shape[1] < 1.5 * crop.shape[0] else 1

        def probs(self, crops):
            return np.array([[self.rows(c)] for c in crops], np.float32)

        def decode(self, p):
            return PlateRead("ONEROW", 0.8, (0.8,) * 6) if p[0] == 1 else PlateRead("TWO", 0.4, (0.4,) * 3)

    for both, expected in ((True, "ONEROW"), (False, "TWO")):
        assert event_texts(frames, boxes, NarrowRecognizer(), CropSpec(0.0, both_ways=both)) == [expected]


def test_video_reads_an_interlaced_plate_from_one_field_too_and_keeps_the_surer():
    from detection.interlace import comb_score
    from ocr.augment import comb

    frames, boxes = [], []
    for i in range(8):
        img = np.full((240, 320, 3), 60, np.uint8)
        x = 40 + 5 * i
        img[100:140, x:x + 160] = 230
        for k in range(6):  # dark strokes: the comb shows on their edges
            img[106:134, x + 12 + 25 * k:x + 22 + 25 * k] = 20
        frames.append(Frame(comb(img, 5, 1), i, i / 10, "synthetic"))  # the odd rows 5 px along
        boxes.append(np.array([[x, 100, x + 160, 140]], np.float32))

    class CombRecognizer:  # a combed crop reads "COMB" (0.4), one without a comb "FIELD" (0.8)
        def rows(self, crop):
            return 1

        def probs(self, crops):
            return np.array([[comb_score(c)] for c in crops], np.float32)

        def decode(self, p):
            return PlateRead("COMB", 0.4, (0.4,) * 4) if p[0] > 1 else PlateRead("FIELD", 0.8, (0.8,) * 5)

    for above, expected in ((1.0, "FIELD"), (0.0, "COMB")):
        assert event_texts(frames, boxes, CombRecognizer(), CropSpec(0.0, deinterlace_above=above)) == [expected]


def test_the_run_summary_counts_a_sources_undecodable_frames():
    frames, boxes = clip(8)

    class Damaged(list):  # a video file source that skipped two frames it could not decode
        name, unreadable = "damaged.mp4", 2

    summary = Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
                       TrackFuser(FusionConfig()), []).run(Damaged(frames))
    assert (summary.source, summary.frames, summary.unreadable_frames) == ("damaged.mp4", 8, 2)


def test_the_video_and_the_trace_get_every_frame_with_each_track_s_current_text_and_the_watched_tracks():
    """The annotated video is given each frame drawn by `annotate` (the tracks, their fused texts so far and the ids
    the watchlist matches) at its time; the trace gets the same texts; events the watchlist lists are flagged."""
    from pipeline.watchlist import WatchEntry, Watchlist

    frames, boxes = clip()
    video, drawn, trace, out = [], [], [], []

    def annotate(image, tracks, texts, watched):
        drawn.append((sorted(int(i) for i in tracks.ids), dict(texts), watched))
        return image + 1

    pipe = Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
                    TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99), "synthetic"),
                    [Into(out)], crops=CropSpec(0.0),
                    video=type("V", (), {"write": lambda self, image, t: video.append((int(image.max()), t))})(),
                    annotate=annotate, trace=trace, watchlist=Watchlist([WatchEntry("XY9876", "stolen")]))
    pipe.run(iter(frames))
    a, b, both = {1: "AB123CD"}, {2: "XY9876"}, {1: "AB123CD", 2: "XY9876"}
    texts = [a] * 6 + [both] * 4 + [b] * 10  # B's track is confirmed on its second frame, A's ends with frame 9
    assert drawn == [(sorted(t), t, frozenset({2} if 2 in t else ())) for t in texts]
    assert trace == list(enumerate(texts))
    assert video == [(201 if i >= 5 else 101, i / 10) for i in range(20)]  # drawn on: every grey level + 1
    flags = sorted((e.text, e.watch, e.watch_label) for e in out)
    assert flags == [("AB123CD", "", ""), ("XY9876", "XY9876", "stolen")]
    frames, boxes = clip()
    video.clear()
    Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(), TrackFuser(FusionConfig()), [],
             video=type("V", (), {"write": lambda self, image, t: video.append(image)})()).run(iter(frames))
    assert len(video) == 20 and all(v is f.image for v, f in zip(video, frames))  # no annotate: the frames as read


def test_the_run_summary_times_each_stage_and_counts_the_source_s_losses():
    """Stage times are medians in ms per frame; a loss the source never came back from counts too; frames per
    second are frames over seconds; a source that drops no frames and has no undecodable ones reports 0 of each."""
    frames, boxes = clip(10)

    class SlowDetector(FakeDetector):
        def detect(self, frame):
            time.sleep(0.03)
            return super().detect(frame)

    def source():
        yield from frames[:4]
        yield SourceEvent("lost", 0.4, "read failed")
        yield SourceEvent("down", 0.6)  # still lost: a status only once status_every_s has passed
        yield SourceEvent("reconnected", 1.0)
        yield from frames[4:]
        yield SourceEvent("lost", 2.0, "stalled")  # the run ends while the stream is down

    seen = []
    summary = Pipeline(SlowDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
                       TrackFuser(FusionConfig()), [], on_status=seen.append, status_every_s=3600).run(source())
    assert set(summary.stage_ms) == {"detect", "track", "ocr", "fuse+write", "video"}
    assert 30 <= summary.stage_ms["detect"] < 1000 and summary.stage_ms["video"] < 30
    assert summary.fps == pytest.approx(10 / summary.seconds, rel=0.02) and 0.3 <= summary.seconds < 10
    assert (summary.frames, summary.detected_frames, summary.outages) == (10, 10, 2)
    assert (summary.dropped_frames, summary.unreadable_frames, summary.stopped) == (0, 0, False)
    assert [(s.frames, s.outages, s.source_down) for s in seen] == [(4, 1, True), (4, 1, False), (10, 2, True)]
    assert summary.source_down  # it ended down; at each loss and return a status, none else before an hour


def test_a_source_down_for_long_keeps_its_status_current(logged):
    """A camera lost for hours gives no frame to time its status by: its summary.json went stale, and a monitor could
    not tell a process that died from a camera that is down. The source's `down` events, every few seconds while it
    is lost, give the status every `status_every_s` as frames would; nothing is logged or told of them."""
    frames, boxes = clip(4)
    told = []

    def source():
        yield from frames
        yield SourceEvent("lost", 0.4, "stalled")
        for k in range(3):
            time.sleep(0.11)  # more than status_every_s: each gives a status
            yield SourceEvent("down", 0.5 + k)

    seen = []
    lines, _ = logged(lambda: Pipeline(
        FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(), TrackFuser(FusionConfig()), [],
        on_status=seen.append, status_every_s=0.1, on_source=lambda ev, name: told.append(ev.kind)).run(source()))
    assert [(s.frames, s.source_down) for s in seen if s.outages] == [(4, True)] * 4  # the loss, then each down
    assert told == ["lost"] and not [m for _, m in lines if "down" in m]


def test_read_crops_keeps_each_crop_s_surer_read_in_its_own_place():
    """Of three crops, the narrow ones are also read widened (as one row) and the second has a field cut too; each
    crop keeps the surest of its reads with the layout it was read in, in the crops' order."""
    from pipeline.orchestrator import read_crops

    class Rec:  # a crop's read: its grey level, and W when widened or F for a field; wider and field reads surer
        cfg = type("C", (), {"two_row_aspect": 1.5})()

        def rows(self, crop):
            return 2 if crop.shape[1] < 1.5 * crop.shape[0] else 1

        def probs(self, crops):
            return np.array([[c.max(), c.shape[1], c.shape[0]] for c in crops], np.float32)

        def decode(self, p):
            grey, w, h = (int(v) for v in p)
            kind = "F" if h == 5 else "W" if w > 3 * h else ""
            sure = {40: {"": 0.5, "W": 0.5, "F": 0.5}, 50: {"": 0.9, "W": 0.7}}.get(grey, {"F": 0.9, "W": 0.7, "": 0.5})
            return PlateRead(f"{grey}{kind}", sure[kind], ())

    def crop(grey, h, w):
        return np.full((h, w, 3), grey, np.uint8)

    crops = [crop(10, 20, 50), crop(20, 20, 20), crop(30, 20, 20)]  # wide; narrow; narrow
    fields = [None, crop(20, 5, 6), None]  # the field cut: as narrow, read as two rows
    reads = read_crops(Rec(), crops, both_ways=True, fields=fields)
    assert [(r.read.text, r.rows, r.probs[0]) for r in reads] == [("10", 1, 10), ("20F", 2, 20), ("30W", 1, 30)]
    reads = read_crops(Rec(), crops, both_ways=True)
    assert [(r.read.text, r.rows) for r in reads] == [("10", 1), ("20W", 1), ("30W", 1)]
    assert [(r.read.text, r.rows) for r in read_crops(Rec(), crops)] == [("10", 1), ("20", 2), ("30", 2)]
    assert read_crops(Rec(), []) == []
    (tie,) = read_crops(Rec(), [crop(40, 20, 20)], both_ways=True, fields=[crop(40, 5, 6)])
    assert (tie.read.text, tie.rows) == ("40", 2)  # as sure widened and in a field: the crop's own read is kept
    reads = read_crops(Rec(), [crops[0], crop(50, 20, 20)], both_ways=True)
    assert [(r.read.text, r.rows) for r in reads] == [("10", 1), ("50", 2)]  # its own read surer than widened


def test_after_a_loss_or_a_finish_the_detector_looks_afresh_at_an_unmoved_frame():
    """The motion gate lets the detector rest on frames that have not moved once two looks found the same boxes; a
    stream that was lost (the camera may point elsewhere now) and a reader's `finish` both end that rest."""
    from pipeline.motion import MotionGate

    class Counting(FakeDetector):
        calls = 0

        def detect(self, frame):
            self.calls += 1
            return Detections(np.array([[100, 100, 160, 120]], np.float32), np.array([0.9], np.float32))

    image = np.zeros((240, 320, 3), np.uint8)
    image[100:120, 100:160] = 100
    frames = [Frame(image, i, i / 10, "cam") for i in range(10)]

    def source():
        yield from frames[:5]
        yield SourceEvent("lost", 0.5, "read failed")
        yield SourceEvent("reconnected", 0.6)
        yield from frames[5:]

    det = Counting([])
    pipe = Pipeline(det, PlateTracker(TrackerConfig()), FakeRecognizer(), TrackFuser(FusionConfig()), [],
                    gate=MotionGate(every_s=100))
    pipe.run(source())
    assert det.calls == 3  # frames 0-1 (the same boxes twice), then 5 after the loss (the same again); others rest
    later = [Frame(image, i, i / 10, "cam") for i in range(10, 13)]  # times on: a frame back in time counts as moved
    pipe.step(later[0], defaultdict(list))
    assert det.calls == 4  # the run's finish ended the rest too
    pipe.step(later[1], defaultdict(list))
    pipe.step(later[2], defaultdict(list))
    assert det.calls == 4


def test_a_run_with_a_trace_only_or_no_status_callback_and_the_log_lines_name_the_source(logged):
    """A trace without a video, a status cadence without a callback; the loss and the watchlist's alert are logged
    with the pipeline's name for the source, a video file's alert with its time in the file."""
    from pipeline.watchlist import WatchEntry, Watchlist

    frames, boxes = clip()
    trace: list = []
    Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(), TrackFuser(FusionConfig()), [],
             trace=trace, status_every_s=0.0).run(iter(frames))
    assert [i for i, _ in trace] == list(range(20)) and trace[-1][1] == {2: "XY9876"}
    frames, boxes = clip()
    gate = Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
                    TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99), "gate"), [], crops=CropSpec(0.0),
                    watchlist=Watchlist([WatchEntry("AB123CD")]), name="gate")
    said, _ = logged(lambda: gate.run(ReconnectingSource(frames)), "WARNING")
    lines = [message for _, message in said]
    assert lines[0] == "gate: stream lost (read failed); reconnecting, open tracks written"
    assert lines[1].startswith("watchlist: AB123CD matches AB123CD on gate at 0.0 s, confidence ")


def test_the_result_types_are_frozen():
    import dataclasses

    from pipeline.orchestrator import CropRead, ImageRead, RunSummary

    for value in (RunSummary("s", 1, 1.0, 1.0, {}, 0, 0, False), ImageRead((0, 0, 1, 1), "A", 0.5),
                  CropRead(PlateRead("A", 0.5, (0.5,)), np.zeros((1, 2)), 1)):
        with pytest.raises(dataclasses.FrozenInstanceError):
            value.rows = 2  # type: ignore[misc]


def test_a_clock_event_times_the_events_by_the_clock_as_it_is_now(logged):
    """A live source's `clock` event (the system clock set): the fuser's clock moves by its step, so the vehicles
    written after it, those whose tracks began before it too, carry times of the clock as it is now."""
    from pipeline.types import SourceEvent

    frames, boxes = clip()
    items = frames[:8] + [SourceEvent("clock", 0.8, "+3600.000")] + frames[8:]
    out: list = []
    fuser = TrackFuser(FusionConfig(lost_frames=3, decisive_reads=99), "s", clock=0.0)
    pipe = Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(), fuser, [Into(out)],
                    crops=CropSpec(0.0), name="cam")
    lines, _ = logged(lambda: pipe.run(iter(items)), "WARNING")
    assert sorted((e.text, e.first_seen_utc) for e in out) == [("AB123CD", "1970-01-01T01:00:00.000Z"),
                                                               ("XY9876", "1970-01-01T01:00:00.600Z")]
    assert lines == [("WARNING", "cam: the system clock was set +3600.0 s; events are timed by it")]


def test_a_run_that_takes_its_frames_as_they_come_is_no_hang(never_stuck):
    """Each frame (or a source's event) is a sign of progress for systemd's watchdog, whatever the source (a file's
    frames, a pipe's, a Python generator's)."""
    frames, boxes = clip(10)

    def slow():
        for f in frames:
            time.sleep(0.12)
            yield f

    def run():
        Pipeline(FakeDetector(boxes), PlateTracker(TrackerConfig()), FakeRecognizer(),
                 TrackFuser(FusionConfig(), "cam"), [], crops=CropSpec(0.0)).run(slow())

    t, longest = never_stuck(run, 1.3, 0.35)
    t.join(10)
    assert longest == 0 and not t.is_alive()
