import cv2
import numpy as np
import pytest

from pipeline.fusion import FusionConfig, TrackFuser, crop_quality
from pipeline.types import Reading

CROP = np.zeros((20, 60, 3), np.uint8)


def read(i: int, text: str, conf: float = 0.9, quality: float = 1.0) -> Reading:
    return Reading(i, i / 25, text, conf, (conf,) * len(text), (10.0 + i, 20.0, 70.0 + i, 40.0), quality)


def test_one_event_per_track_when_lost():
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99))
    for i, text in enumerate(["AB123", "AB123", "A8123"]):
        assert f.add(7, read(i, text), CROP) == []
    assert f.end_lost(4) == []  # seen at frame 2: not yet lost
    (e,) = f.end_lost(5)
    assert (e.text, e.track_id, e.frames_read, e.first_frame, e.last_frame, e.reason) == ("AB123", 7, 3, 0, 2, "lost")
    assert [a.text for a in e.alternatives] == ["AB123", "A8123"] and e.alternatives[0].reads == 2
    assert f.flush() == [] and f.tracks == {}


def test_decisive_track_stops_reading_and_emits_early_once():
    f = TrackFuser(FusionConfig(decisive_reads=3, decisive_share=0.7, decisive_conf=0.5, early_events=True))
    assert f.add(1, read(0, "XY99"), CROP) == [] and f.add(1, read(1, "XY99"), CROP) == []
    assert f.needs_read(1)
    (early,) = f.add(1, read(2, "XY99"), CROP)
    assert early.reason == "early" and early.text == "XY99"
    assert not f.needs_read(1)
    f.touch(1, 10, 0.4, (0, 0, 1, 1))
    assert f.flush("end") == []  # no duplicate for the same vehicle


def test_best_crop_and_box_follow_quality(tmp_path):
    saved = {}

    def save(event, crop):
        saved[event.event_id] = crop
        return str(tmp_path / f"{event.event_id}.jpg")

    f = TrackFuser(FusionConfig(decisive_reads=99, min_chars=1), save_crop=save)
    good = np.full((20, 60, 3), 200, np.uint8)
    f.add(3, read(0, "AB1", quality=1.0), CROP)
    f.add(3, read(1, "AB1", quality=5.0), good)
    f.add(3, read(2, "AB1", quality=2.0), CROP)
    (e,) = f.flush("end")
    assert e.best_frame == 1 and e.box == (11.0, 20.0, 71.0, 40.0) and e.reason == "end"
    assert e.crop_path.endswith(f"{e.event_id}.jpg") and saved[e.event_id].mean() == 200


def test_tracks_without_text_give_no_event():
    f = TrackFuser(FusionConfig())
    f.add(1, read(0, ""), CROP)
    f.touch(2, 0, 0.0, (0, 0, 5, 5))
    assert f.flush() == []


def test_posterior_fusion_adds_a_read_from_the_mean_posterior():
    probs = np.zeros((4, 3))
    r1 = Reading(0, 0, "A", 0.5, (0.5,), (0, 0, 1, 1), 1.0, probs)
    r2 = Reading(1, 0, "B", 0.4, (0.4,), (0, 0, 1, 1), 1.0, probs + 1)
    seen = []

    def decode(mean):
        seen.append(mean.copy())
        return "C", 0.9, (0.9,)

    f = TrackFuser(FusionConfig(posterior_top_k=2, decisive_reads=99, min_chars=1), decode=decode)
    f.add(1, r1, CROP)
    f.add(1, r2, CROP)
    (e,) = f.flush()
    assert e.text == "C" and np.allclose(seen[-1], 0.5)
    assert (e.alternatives[0].text, e.alternatives[0].votes) == ("C", 1.8)  # weighs as the reads it averages


def test_posterior_fusion_never_mixes_one_row_and_two_row_reads():
    probs = np.zeros((4, 3))
    two = Reading(0, 0, "AB", 0.9, (0.95, 0.95), (0, 0, 1, 1), 1.0, probs, rows=2)  # most confident: two-row
    one = Reading(1, 0, "A", 0.8, (0.8,), (0, 0, 1, 1), 1.0, probs + 1, rows=1)
    two_b = Reading(2, 0, "AB", 0.7, (0.85, 0.85), (0, 0, 1, 1), 1.0, probs + 3, rows=2)
    seen = []

    def decode(mean):
        seen.append(mean.copy())
        return "AB", 0.9, (0.95, 0.95)

    f = TrackFuser(FusionConfig(posterior_top_k=2, decisive_reads=99, min_chars=1), decode=decode)
    for r in (two, one, two_b):
        f.add(1, r, CROP)
    f.flush()
    assert np.allclose(seen[-1], 1.5)  # the two two-row posteriors (0 and 3), not the one-row one (1)


def test_crop_quality_prefers_sharp_large_confident():
    rng = np.random.default_rng(0)
    sharp = rng.integers(0, 255, (40, 120, 3), dtype=np.uint8)
    flat = np.full((40, 120, 3), 128, np.uint8)
    assert crop_quality(sharp, 0.9) > crop_quality(flat, 0.9)
    assert crop_quality(sharp, 0.9) > crop_quality(sharp[:20, :60], 0.9) > 0


def test_short_texts_and_repeats_of_a_recent_plate_give_no_event():
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, dedupe_s=10))

    def track(tid, text, t0):
        for k in range(3):
            f.add(tid, Reading(int(t0 * 10) + k, t0 + k / 10, text, 0.9, (0.9,) * len(text), (0, 0, 10, 5)),
                  np.zeros((5, 10, 3), np.uint8))

    track(1, "AB023", 0.0)   # a vehicle
    track(2, "197", 0.0)     # a bus route number: too short
    track(3, "ABO23", 5.0)   # the same plate (O/0-folded) again 5 s later: its track broke
    track(4, "AB023", 30.0)  # the same text 30 s later: a new passage
    events = f.flush()
    assert [(e.track_id, e.text) for e in events] == [(1, "AB023"), (4, "AB023")]


def test_plates_given_from_before_are_deduplicated_against_and_kept_up_to_date_in_place():
    """`recent` (a watched folder's clips carry it from one clip to the next): a plate last seen 4 s before this
    source's time 0 is the same vehicle; one 20 s before is not (its entry pruned, then the new passage's)."""
    recent = {"AB023": (-4.0, 0.9), "CD456": (-20.0, 0.9)}
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, dedupe_s=10), recent=recent)
    for tid, text in ((1, "AB023"), (2, "CD456")):
        for k in range(3):
            f.add(tid, Reading(k, k / 10, text, 0.9, (0.9,) * 5, (0, 0, 10, 5)), np.zeros((5, 10, 3), np.uint8))
    assert [(e.track_id, e.text) for e in f.flush()] == [(2, "CD456")]
    assert f.recent is recent and {k: last for k, (last, _) in recent.items()} == {"AB023": 0.2, "CD456": 0.2}


def passes(dedupe_edits: int):
    """A fuser and a function (track id, text, start s, confidence) -> event texts of a three-read track once lost."""
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, dedupe_s=10, dedupe_edits=dedupe_edits,
                                min_conf=0.0))

    def track(tid, text, t0, conf):
        for k in range(3):
            f.add(tid, Reading(int(t0 * 10) + k, t0 + k / 10, text, conf, (conf,) * len(text), (0, 0, 10, 5)), CROP)
        return [e.text for e in f.end_lost(int(t0 * 10) + 99)]
    return f, track


def test_a_less_confident_near_copy_of_a_recent_plate_is_the_same_vehicle_misread():
    fuser, track = passes(dedupe_edits=2)
    assert track(1, "B04RXL", 0.0, 0.99) == ["B04RXL"]
    assert track(2, "B04RYC", 2.0, 0.6) == []           # 2 edits, less sure, 2 s later: the same car further away
    assert track(3, "B94TJX", 3.0, 0.6) == ["B94TJX"]   # another plate
    assert track(4, "B04RXC", 4.0, 0.999) == ["B04RXC"]  # surer than the plate it resembles: reported
    assert track(5, "B94TJK", 20.0, 0.5) == ["B94TJK"]  # 1 edit from B94TJX, but after the 10 s window
    assert track(6, "AB13", 21.0, 0.9) == ["AB13"]
    assert track(7, "AB12", 21.5, 0.5) == []            # 4 characters: one edit at most...
    assert track(8, "AC15", 22.0, 0.5) == ["AC15"]      # ...so two edits is another plate
    assert set(fuser.recent) == {"B94TJK", "AB13", "AB12", "AC15"}  # the plates of 0-4 s have left the window
    _, exact = passes(dedupe_edits=0)
    assert exact(1, "B04RXL", 0.0, 0.99) == ["B04RXL"]
    assert exact(2, "B04RYC", 2.0, 0.6) == ["B04RYC"]   # exact texts only


def test_unsure_track_yields_no_event_below_min_conf():
    f = TrackFuser(FusionConfig(decisive_reads=99, min_conf=0.1))
    for i in range(3):  # a far plate read alike three times, each read unsure
        f.add(1, read(i, "B301MA", conf=0.3), CROP)
        f.add(2, read(i, "B58DTK", conf=0.95), CROP)
    (e,) = f.flush("end")
    assert e.text == "B58DTK" and e.track_id == 2
    assert e.confidence == round(0.95 ** 6, 4)  # agreeing sure reads keep their confidence


def test_a_track_s_path_stays_bounded_and_keeps_its_ends():
    """A vehicle seen for hours (a parked car before a live camera) keeps a bounded path, one centre per frame,
    and its first and last centres, so its crossing direction still holds."""
    from pipeline.fusion import MAX_PATH
    from pipeline.zones import ZoneConfig, Zones

    zones = Zones(ZoneConfig(line=((100.0, 0.0), (100.0, 400.0)), normalized=False), 400, 400)
    f = TrackFuser(FusionConfig(), direction=zones.direction)
    f.add(3, read(0, "AB123"), CROP)  # read in frame 0, after the frame's touch: one centre, not two
    assert len(f.tracks[3].centers) == 1
    n = 100_000
    for i in range(1, n):
        f.touch(3, i, i / 25, (10.0 + 200 * i / n, 20.0, 70.0 + 200 * i / n, 40.0))  # left to right across x=100
    path = f.tracks[3].centers
    assert len(path) <= MAX_PATH + 1
    assert path[0] == (40.0, 30.0) and path[-1] == (40.0 + 200 * (n - 1) / n, 30.0)
    xs = [x for x, _ in path]
    assert xs == sorted(xs)  # thinning keeps the order
    (e,) = f.flush()
    assert e.direction == zones.direction([(40.0, 30.0), (240.0, 30.0)]) != ""


def test_events_of_a_live_source_carry_utc_times():
    clock = 1_796_083_200.0  # 2026-12-01T00:00:00Z
    f = TrackFuser(FusionConfig(), clock=clock)
    for i in range(3):
        f.add(1, read(i, "AB123"), CROP)  # times i / 25 s
    (e,) = f.flush()
    assert (e.first_seen_utc, e.last_seen_utc) == ("2026-12-01T00:00:00.000Z", "2026-12-01T00:00:00.080Z")
    g = TrackFuser(FusionConfig())  # a file: positions in the video only
    g.add(1, read(0, "AB123"), CROP)
    assert g.flush()[0].first_seen_utc == ""


def test_a_broken_tracks_weak_read_gives_way_to_the_same_vehicles_sure_read():
    """Track 1 reads a plate weakly and breaks; track 2 picks the vehicle up where it was: the weak misread waits for
    track 2 and is then dropped as the same vehicle read wrong (one event, the right one)."""
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, hold_below=0.6, min_conf=0.0))
    f.add(1, read(0, "MUB328", conf=0.3), CROP)
    f.add(2, read(2, "NUB327", conf=0.99), CROP)  # begins by the time track 1 is lost, near where it was
    for i in (3, 4):
        f.add(2, read(i, "NUB327", conf=0.99), CROP)
    assert f.end_lost(4) == []  # track 1 lost, but held while track 2 is open
    (e,) = f.end_lost(7)
    assert (e.text, e.track_id) == ("NUB327", 2) and f.held == []
    assert f.flush() == []


def test_a_weak_read_with_no_track_to_continue_it_is_an_event_at_once():
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, hold_below=0.6, min_conf=0.0))
    f.add(1, read(0, "MUB328", conf=0.3), CROP)
    f.touch(2, 1, 0.04, (900.0, 500.0, 960.0, 520.0))  # another plate, far away
    (e,) = f.end_lost(3)
    assert (e.text, e.reason) == ("MUB328", "lost")


def test_a_held_read_of_another_plate_is_still_written_when_its_neighbour_ends():
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, hold_below=0.6, min_conf=0.0))
    f.add(1, read(0, "MUB328", conf=0.3), CROP)
    f.add(2, read(2, "XY7710", conf=0.99), CROP)  # near, but a different plate
    assert f.end_lost(3) == []
    events = f.end_lost(5)
    assert [(e.text, e.track_id) for e in events] == [("XY7710", 2), ("MUB328", 1)]


def test_hold_off_writes_the_weak_read_at_once():
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, hold_below=0.0, min_conf=0.0))
    f.add(1, read(0, "MUB328", conf=0.3), CROP)
    f.add(2, read(2, "NUB327", conf=0.99), CROP)
    (e,) = f.end_lost(3)
    assert e.text == "MUB328"


def test_a_lost_stream_writes_held_reads_with_the_open_tracks():
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, hold_below=0.6, min_conf=0.0))
    f.add(1, read(0, "MUB328", conf=0.3), CROP)
    f.add(2, read(2, "XY7710", conf=0.99), CROP)
    assert f.end_lost(3) == []  # held while track 2 is open
    assert [(e.text, e.reason) for e in f.flush("source_lost")] == [("XY7710", "source_lost"), ("MUB328", "lost")]
    assert f.held == [] and f.tracks == {}


@pytest.mark.parametrize("s", [0, 50])  # track 1 last seen at 0 s, and at 2 s (the wait counts from then, not from 0)
def test_a_held_read_waits_no_longer_than_dedupe_s_beside_a_track_that_stays(s):
    """A parked car's track never ends: a weak read held beside it is written once dedupe_s has passed since the
    weak track was last seen."""
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, hold_below=0.6, dedupe_s=1.0, min_conf=0.0))
    f.add(1, read(s, "MUB328", conf=0.3), CROP)
    f.add(2, read(s + 2, "XY7710", conf=0.99), CROP)  # stays in view
    assert f.end_lost(s + 3) == []
    for i in range(s + 3, s + 26):  # 0.04 s a frame: 1 s after track 1 was last seen
        f.touch(2, i, i / 25, (12.0 + s, 20.0, 72.0 + s, 40.0))
        assert f.end_lost(i) == []
    f.touch(2, s + 26, (s + 26) / 25, (12.0 + s, 20.0, 72.0 + s, 40.0))
    assert [e.text for e in f.end_lost(s + 26)] == ["MUB328"] and f.held == [] and 2 in f.tracks


def test_a_decided_track_gives_its_event_when_it_ends_unless_early_events_are_asked_for():
    f = TrackFuser(FusionConfig(decisive_reads=3, decisive_share=1.0, decisive_conf=0.5))
    for i in range(3):
        assert f.add(1, read(i, "XY99"), CROP) == []  # unanimous: a share of exactly 1.0 is decisive
    assert not f.needs_read(1) and f.current_text(1) == "XY99"
    (e,) = f.flush("end")
    assert (e.text, e.reason) == ("XY99", "end")
    assert f.current_text(1) == "" and f.needs_read(1)  # a track the fuser does not hold


def test_an_early_event_is_the_only_one_even_without_dedupe():
    f = TrackFuser(FusionConfig(decisive_reads=2, decisive_conf=0.5, early_events=True, dedupe_s=0.0))
    f.add(1, read(0, "XY99"), CROP)
    assert [e.reason for e in f.add(1, read(1, "XY99"), CROP)] == ["early"]
    assert f.add(1, read(2, "XY99"), CROP) == []
    assert f.flush("end") == []


def test_an_urgent_plate_is_written_as_soon_as_its_track_is_decided():
    """A watchlist's plate (`urgent`) gives its event when its track is decided, while the vehicle is in view (a car
    parked, or waiting at a barrier); another decided track's waits for its end, as without early_events."""
    f = TrackFuser(FusionConfig(decisive_reads=3, decisive_conf=0.5), urgent=lambda text: text == "XY99")
    for i in range(2):
        assert f.add(1, read(i, "XY99"), CROP) == [] and f.add(2, read(i, "AB12"), CROP) == []
    (early,) = f.add(1, read(2, "XY99"), CROP)
    assert (early.text, early.reason, early.last_frame) == ("XY99", "early", 2)
    assert f.add(2, read(2, "AB12"), CROP) == [] and not f.needs_read(2)  # decided, not urgent
    assert [(e.text, e.reason) for e in f.flush("end")] == [("AB12", "end")]


def test_a_track_that_breaks_after_its_early_event_is_deduplicated_from_its_end():
    """A vehicle written early (a watchlist's plate, or early_events) that stays in view, then breaks its track as it
    moves off, is the same vehicle: dedupe_s runs from when its first track ended, not from its early event (a car
    parked 30 s gave a second alert)."""
    f = TrackFuser(FusionConfig(decisive_reads=2, decisive_conf=0.5, early_events=True, dedupe_s=10.0))
    f.add(1, read(0, "XY99"), CROP)
    assert [e.reason for e in f.add(1, read(1, "XY99"), CROP)] == ["early"]
    f.touch(1, 750, 30.0, (10.0, 20.0, 70.0, 40.0))  # parked for 30 s
    f.add(2, Reading(751, 30.1, "XY99", 0.9, (0.9,) * 4, (10.0, 20.0, 70.0, 40.0), 1.0), CROP)  # its track broke
    assert f.add(2, Reading(752, 30.2, "XY99", 0.9, (0.9,) * 4, (10.0, 20.0, 70.0, 40.0), 1.0), CROP) == []
    assert f.end_lost(800) == []
    f.add(4, Reading(801, 32.0, "XY99", 0.9, (0.9,) * 4, (10.0, 20.0, 70.0, 40.0), 1.0), CROP)  # and again
    assert f.add(4, Reading(802, 32.1, "XY99", 0.9, (0.9,) * 4, (10.0, 20.0, 70.0, 40.0), 1.0), CROP) == []
    assert f.flush() == []
    f.add(3, Reading(900, 45.0, "XY99", 0.9, (0.9,) * 4, (10.0, 20.0, 70.0, 40.0), 1.0), CROP)
    assert [e.track_id for e in f.add(3, Reading(901, 45.1, "XY99", 0.9, (0.9,) * 4, (10.0, 20.0, 70.0, 40.0), 1.0),
                                      CROP)] == [3]  # back after 13 s: another visit


def test_a_plate_back_after_dedupe_s_is_another_visit_and_a_surer_near_text_another_plate():
    """Only an early-written track keeps its plate seen while in view: a decided one that waits for its end is
    another visit when it came back after dedupe_s. A surer text one edit from an early-written plate still in view is
    another plate, as it is beside one written at its end."""
    def xy(i: int, t: float, text: str = "XY99", conf: float = 0.9) -> Reading:
        return Reading(i, t, text, conf, (conf,) * len(text), (10.0, 20.0, 70.0, 40.0), 1.0)

    f = TrackFuser(FusionConfig(decisive_reads=2, decisive_conf=0.5, dedupe_s=10.0, lost_frames=5))
    f.add(1, xy(0, 0.0), CROP)
    f.add(1, xy(1, 0.1), CROP)
    assert [e.track_id for e in f.end_lost(10)] == [1]
    f.add(2, xy(500, 20.0), CROP)
    f.add(2, xy(501, 20.1), CROP)  # decided: not read again
    f.touch(2, 625, 25.0, (10.0, 20.0, 70.0, 40.0))
    assert [e.track_id for e in f.flush()] == [2]
    g = TrackFuser(FusionConfig(decisive_reads=2, decisive_conf=0.5, dedupe_s=10.0, dedupe_edits=1),
                   urgent=lambda text: True)
    g.add(1, xy(0, 0.0), CROP)
    assert len(g.add(1, xy(1, 0.1), CROP)) == 1
    g.touch(1, 375, 15.0, (10.0, 20.0, 70.0, 40.0))
    g.touch(1, 750, 30.0, (10.0, 20.0, 70.0, 40.0))
    g.add(2, xy(751, 30.1, "XY98", 0.99), CROP)
    assert [e.text for e in g.add(2, xy(752, 30.2, "XY98", 0.99), CROP)] == ["XY98"]


def test_current_text_is_the_vote_so_far():
    f = TrackFuser(FusionConfig(decisive_reads=99))
    f.add(4, read(0, "AB123", conf=0.6), CROP)
    f.add(4, read(1, "AB128", conf=0.9), CROP)
    assert f.current_text(4) == "AB128"


def test_a_tie_in_quality_keeps_the_first_crop_and_the_frame_is_kept_only_to_be_saved(tmp_path):
    frames = {}

    def save_frame(event, image):
        frames[event.event_id] = image
        return str(tmp_path / "f.jpg")

    f = TrackFuser(FusionConfig(decisive_reads=99), save_frame=save_frame)
    first, second = np.full((9, 9, 3), 1, np.uint8), np.full((9, 9, 3), 2, np.uint8)
    f.add(1, read(0, "AB123", quality=2.0), CROP, image=first)
    f.add(1, read(1, "AB123", quality=2.0), CROP, image=second)
    (e,) = f.flush()
    assert e.best_frame == 0 and frames[e.event_id] is first and e.frame_path == str(tmp_path / "f.jpg")
    g = TrackFuser(FusionConfig(decisive_reads=99))  # no frames saved: none held
    g.add(1, read(0, "AB123"), CROP, image=first)
    assert g.tracks[1].best_image is None
    assert g.flush()[0].frame_path == ""


def test_event_times_and_box_are_rounded():
    f = TrackFuser(FusionConfig(decisive_reads=99))
    f.add(1, Reading(3, 1 / 3, "AB123", 0.9, (0.9,) * 5, (10.04, 20.06, 70.01, 39.99)), CROP)
    (e,) = f.flush()
    assert (e.first_time_s, e.last_time_s, e.box) == (0.333, 0.333, (10.0, 20.1, 70.0, 40.0))


def test_a_one_character_text_needs_min_chars_zero_or_one():
    f = TrackFuser(FusionConfig(decisive_reads=99, min_chars=0))
    f.add(1, read(0, "7"), CROP)
    assert [e.text for e in f.flush()] == ["7"]


def test_a_plate_that_keeps_breaking_its_track_stays_deduplicated():
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, dedupe_s=1.0))

    def track(tid, t0):
        f.add(tid, Reading(int(t0 * 100), t0, "AB123", 0.9, (0.9,) * 5, (0, 0, 10, 5)), CROP)
        return [e.text for e in f.end_lost(int(t0 * 100) + 99)]

    assert track(1, 0.0) == ["AB123"]
    assert track(2, 0.8) == []  # within 1 s of the last sight (a dedupe_s of 1 s still deduplicates)...
    assert track(3, 1.6) == []  # ...and of this one: 1.6 s after the first event
    assert track(4, 3.0) == ["AB123"]  # 1.4 s after the last: a new passage


def test_a_weak_read_is_not_held_when_dedupe_is_off_nor_for_a_track_beyond_three_widths():
    f = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, hold_below=0.6, dedupe_s=0.0, min_conf=0.0))
    f.add(1, read(0, "MUB328", conf=0.3), CROP)
    f.add(2, read(2, "NUB327", conf=0.99), CROP)
    assert [e.text for e in f.end_lost(3)] == ["MUB328"]
    g = TrackFuser(FusionConfig(lost_frames=2, decisive_reads=99, hold_below=0.6, min_conf=0.0))
    g.add(1, read(0, "MUB328", conf=0.3), CROP)  # box 60 px wide, centre (40, 30)
    g.touch(2, 1, 0.04, (200.0, 20.0, 260.0, 40.0))  # centre 230: 190 px away, more than 3 x 60
    g.touch(3, 1, 0.04, (185.0, 20.0, 245.0, 40.0))  # centre 215: 175 px away, within reach
    assert g.end_lost(3) == [] and [h[3] for h in g.held] == [{3}]


def test_posterior_fusion_needs_its_setting_and_posteriors_of_one_shape():
    calls = []

    def decode(mean):
        calls.append(mean.shape)
        return "C", 0.9, (0.9,)

    def reads(shapes):
        return [Reading(i, 0, "A", 0.5, (0.5,), (0, 0, 1, 1), 1.0, np.zeros(s)) for i, s in enumerate(shapes)]

    off = TrackFuser(FusionConfig(posterior_top_k=0, decisive_reads=99, min_chars=1), decode=decode)
    mixed = TrackFuser(FusionConfig(posterior_top_k=2, decisive_reads=99, min_chars=1), decode=decode)
    for r in reads([(4, 3), (4, 3)]):
        off.add(1, r, CROP)
    for r in reads([(4, 3), (5, 3)]):
        mixed.add(1, r, CROP)
    assert off.flush()[0].text == mixed.flush()[0].text == "A" and calls == []


def test_crop_quality_of_an_empty_grey_or_unsure_crop():
    rng = np.random.default_rng(1)
    sharp = rng.integers(0, 255, (40, 120, 3), dtype=np.uint8)
    grey = cv2.cvtColor(sharp, cv2.COLOR_BGR2GRAY)
    assert crop_quality(np.zeros((0, 60, 3), np.uint8), 0.9) == 0.0
    assert crop_quality(grey, 0.9) == crop_quality(sharp, 0.9)
    assert crop_quality(sharp, 0.0) == pytest.approx(0.05 * crop_quality(sharp, 1.0))
    var = cv2.Laplacian(grey, cv2.CV_64F).var()
    assert crop_quality(sharp, 0.5) == pytest.approx(np.log1p(var) * np.sqrt(40 * 120) * 0.5)


def test_each_ended_tracks_widest_box_is_kept_read_or_not_once_seen_in_three_frames():
    f = TrackFuser(FusionConfig(lost_frames=1, decisive_reads=2, decisive_share=0.5, decisive_conf=0.5,
                                early_events=True))
    for i, w in enumerate([30, 45, 41]):  # never read: too small
        f.touch(1, i, i / 25, (0, 0, w, 10))
    f.touch(2, 0, 0.0, (0, 0, 300, 10))  # seen in two frames only: a box that came and went
    f.touch(2, 1, 0.04, (0, 0, 300, 10))
    assert [e.reason for i in range(3) for e in f.add(3, read(i, "XY99"), CROP)] == ["early"]  # its boxes 60 px
    f.touch(4, 2, 0.08, (0, 0, 90, 10))
    assert f.end_lost(3) == [] and len(f.widths) == 0  # track 2 ended, too briefly seen to count
    assert f.end_lost(4) == [] and list(f.widths) == [45.0, 60.0]  # the early event written already
    f.flush()
    assert list(f.widths) == [45.0, 60.0]  # track 4: one frame


def waiting_car(f: TrackFuser, texts: list[str], start: int = 0, conf: float = 0.9) -> list:
    """A car waiting at a barrier read `texts` in frames `start`, `start` + 1, ... at 25 fps: the events returned."""
    return [e for i, text in enumerate(texts, start) for e in f.add(1, Reading(i, i / 25, text, conf, (conf,) * len(
        text), (10.0, 20.0, 70.0, 40.0)), CROP)]


def test_a_car_whose_reads_never_agree_is_decided_after_decide_after_s_with_its_vote_as_it_stands():
    cfg = dict(decisive_reads=3, decisive_share=0.75, early_events=True, min_chars=4)
    reads = ["AB123CD", "AB128CD", "AB123CD", "A8123CD"] * 20  # never 3/4 of the votes: never decisive
    assert waiting_car(TrackFuser(FusionConfig(**cfg)), reads[:80]) == []  # 3.2 s at the barrier: not told
    f = TrackFuser(FusionConfig(**cfg, decide_after_s=2.0))
    (early,) = waiting_car(f, reads[:80], start=250)  # come 10 s into the camera's run: told once, 2 s later
    assert (early.text, early.reason, early.last_frame) == ("AB123CD", "early", 300) and not f.needs_read(1)
    assert f.flush() == []  # and not again when it leaves


def test_a_car_that_waited_unread_is_decided_at_its_first_read_that_makes_an_event():
    f = TrackFuser(FusionConfig(decisive_reads=99, early_events=True, min_reads=1, decide_after_s=1.0))
    for i in range(30):  # its plate too small to read while it rolls up (1.2 s)
        f.touch(1, i, i / 25, (10, 20, 30, 26))
    (early,) = waiting_car(f, ["AB123CD"], start=30)
    assert early.text == "AB123CD" and early.last_frame == 30


def test_a_vote_that_would_make_no_event_is_not_decided_by_waiting():
    f = TrackFuser(FusionConfig(decisive_reads=99, early_events=True, min_chars=4, decide_after_s=1.0))
    assert waiting_car(f, ["AB1"] * 40) == [] and f.needs_read(1)  # too short to report, 1.6 s in: read on
    (early,) = waiting_car(f, ["AB123CD"] * 60, start=40)  # then the plate is read whole
    assert (early.text, early.last_frame) == ("AB123CD", 55)  # once its vote, as it stands, is reportable


def test_without_early_events_a_car_decided_by_waiting_is_written_when_it_leaves():
    f = TrackFuser(FusionConfig(decisive_reads=99, decide_after_s=1.0))
    assert waiting_car(f, ["AB123CD", "AB128CD"] * 20) == [] and not f.needs_read(1)  # no more OCR on it
    (e,) = f.flush()
    assert e.text == "AB123CD" and e.reason == "end"


def near(i: int, text: str, width: float, conf: float = 0.99) -> Reading:
    return Reading(i, i / 25, text, conf, (conf,) * len(text), (100.0, 50.0, 100.0 + width, 50.0 + width / 3))


def test_a_decided_track_is_read_again_once_its_plate_has_grown_by_reread_growth():
    """An approaching car: decided on three far reads, read again at 1.25x its widest read, and undecided (read on
    every frame) when the nearer view does not agree."""
    f = TrackFuser(FusionConfig(decisive_reads=3, decisive_share=0.8, decisive_conf=0.6, reread_growth=1.25))
    for i, w in enumerate((80, 82, 84)):
        f.add(1, near(i, "ATHEISL", w), CROP)
    assert not f.needs_read(1) and f.current_text(1) == "ATHEISL"
    f.touch(1, 3, 0.12, (100.0, 50.0, 204.0, 85.0))  # 104 px: under 1.25 x 84 = 105
    assert not f.needs_read(1)
    f.touch(1, 4, 0.16, (100.0, 50.0, 205.0, 85.0))
    assert f.needs_read(1)
    f.add(1, near(4, "ATHEIST", 105), CROP)  # 3 of 4 reads agree: a share under 0.8, no longer decisive
    assert f.tracks[1].decided is None and f.needs_read(1)
    f.add(1, near(5, "ATHEIST", 110), CROP)
    assert f.needs_read(1) and f.current_text(1) == "ATHEISL"  # 3 far reads to 2 near ones (width_power 1)
    f.add(1, near(6, "ATHEIST", 115), CROP)
    assert f.needs_read(1) and f.current_text(1) == "ATHEIST"  # 3 to 3: the nearer views win
    (e,) = f.flush()
    assert e.text == "ATHEIST" and e.frames_read == 6


def test_a_nearer_view_that_agrees_keeps_the_track_decided_and_off_reread_growth_never_reads_again():
    for growth, again in ((1.25, True), (0.0, False)):
        f = TrackFuser(FusionConfig(decisive_reads=3, reread_growth=growth))
        for i, w in enumerate((80, 82, 84)):
            f.add(1, near(i, "AB123", w), CROP)
        f.touch(1, 3, 0.12, (100.0, 50.0, 300.0, 110.0))  # 200 px
        assert f.needs_read(1) is again
        if again:
            f.add(1, near(3, "AB123", 200), CROP)
            assert not f.needs_read(1) and f.tracks[1].read_widest == 200  # decided again, at its new widest
