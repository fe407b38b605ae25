import numpy as np
import pytest

from common.errors import UserError
from detection.detections import Detections
from pipeline.tracker import PlateTracker, TrackerConfig


def dets(*boxes):
    return Detections(np.array(boxes, np.float32).reshape(-1, 4), np.full(len(boxes), 0.9, np.float32))


@pytest.mark.parametrize("kind", ["bytetrack", "botsort"])
def test_two_moving_plates_keep_their_ids(kind):
    t = PlateTracker(TrackerConfig(tracker_type=kind))
    seen = []
    for i in range(10):
        out = t.update(dets([100 + 5 * i, 300, 180 + 5 * i, 320], [600 - 4 * i, 200, 660 - 4 * i, 215]))
        seen.append(sorted(out.ids.tolist()))
    assert seen[-1] == [1, 2] and all(s == [1, 2] for s in seen[1:])


def test_ids_are_per_instance():
    a, b = PlateTracker(TrackerConfig()), PlateTracker(TrackerConfig())
    for _ in range(3):
        ia = a.update(dets([10, 10, 50, 20])).ids.tolist()
        ib = b.update(dets([10, 10, 50, 20])).ids.tolist()
    assert ia == ib == [1]


def test_a_frame_without_plates_has_no_tracks_of_each_shape():
    out = PlateTracker(TrackerConfig()).update(dets())
    assert len(out) == 0 and (out.xyxy.shape, out.conf.shape, out.ids.shape) == ((0, 4), (0,), (0,))


def test_unknown_tracker():
    with pytest.raises(UserError, match="tracker_type must be one of"):
        PlateTracker(TrackerConfig(tracker_type="sort"))  # type: ignore[arg-type]
    with pytest.raises(UserError, match="gmc_method must be one of none, sparseOptFlow, orb, sift, ecc, not 'xyz'"):
        PlateTracker(TrackerConfig(tracker_type="botsort", gmc_method="xyz"))  # type: ignore[arg-type]


@pytest.mark.parametrize("override, says", [
    ("tracker.tracker_type=sort", "config key 'tracker.tracker_type': 'sort' is not one of bytetrack, botsort"),
    ("tracker.gmc_method=xyz", "config key 'tracker.gmc_method': 'xyz' is not one of none, sparseOptFlow, orb, sift"),
])
def test_tracker_settings_are_checked_when_the_configs_load(override, says):
    from pipeline.settings import load_configs

    with pytest.raises(UserError, match=says):
        load_configs("configs", [override])


def test_ids_keep_counting_while_old_tracks_are_forgotten():
    """A live run meets vehicles without end: the id map forgets removed tracks, and ids never repeat."""
    t = PlateTracker(TrackerConfig(track_buffer=2))
    seen = []
    for v in range(400):  # 400 vehicles, one after another, each for 3 frames
        for i in range(3):  # a new track is confirmed on its second frame
            seen += t.update(dets([100 + 5 * i, 300, 180 + 5 * i, 320])).ids.tolist()
        for _ in range(4):
            t.update(dets())  # gone: lost, then removed after the buffer
    assert len(t._ids) <= 257
    assert sorted(set(seen)) == list(range(1, 401)) and len(seen) == 2 * 400 + 1  # the very first track: at once


@pytest.mark.parametrize("kind", ["bytetrack", "botsort"])
def test_a_track_s_box_is_its_detection_in_this_frame(kind):
    """The crop is cut from the track's box: it must be where the detector found the plate, not the Kalman
    filter's smoothed box, which lags a plate that speeds up."""
    t = PlateTracker(TrackerConfig(tracker_type=kind))
    x = 100.0
    for i in range(12):
        x += 4 if i < 8 else 30  # steady, then speeding up
        boxes = [[x, 300, x + 80, 320], [600, 200, 660, 215]]
        out = t.update(dets(*boxes))
    assert len(out) == 2
    np.testing.assert_array_equal(np.sort(out.xyxy, axis=0), np.sort(np.array(boxes, np.float32), axis=0))


def test_a_detection_index_that_points_elsewhere_keeps_the_filtered_box():
    from pipeline.tracker import _detection_boxes

    out = np.array([[100, 300, 180, 320, 1, 0.9, 0, 1],    # index 1: its own detection, a little ahead
                    [600, 200, 660, 215, 2, 0.2, 0, 0],    # index 0: another plate (a subset-numbered match)
                    [10, 10, 50, 20, 3, 0.9, 0, 5]], np.float32)  # out of range
    det = np.array([[100, 300, 180, 320], [104, 300, 184, 321]], np.float32)
    np.testing.assert_array_equal(_detection_boxes(out, det),
                                  [[104, 300, 184, 321], [600, 200, 660, 215], [10, 10, 50, 20]])


def test_a_first_detection_half_overlapping_its_filtered_box_is_the_box():
    """Index 0 is a detection like any other; an IoU of 0.5 with the filtered box is enough, one under 0.3 is not."""
    from pipeline.tracker import _detection_boxes

    out = np.array([[100, 300, 200, 320, 1, 0.9, 0, 0],    # detection 0 overlaps it with IoU 0.5
                    [300, 300, 400, 320, 2, 0.9, 0, 1],    # detection 1 with IoU 0.25
                    [500, 300, 600, 320, 3, 0.9, 0, -1]], np.float32)  # no detection
    det = np.array([[100, 300, 150, 320], [300, 300, 325, 320]], np.float32)
    np.testing.assert_array_equal(_detection_boxes(out, det),
                                  [[100, 300, 150, 320], [300, 300, 400, 320], [500, 300, 600, 320]])


def test_the_boxes_handed_to_ultralytics_give_centre_and_size():
    from pipeline.tracker import _Boxes

    b = _Boxes(np.array([[10, 20, 50, 30]]), np.array([0.8]))
    np.testing.assert_array_equal(b.xywh, [[30, 25, 40, 10]])
    assert len(b[np.array([False])]) == 0


def test_buffered_boxes_widen_about_their_centre_and_come_back():
    from pipeline.tracker import buffered, unbuffered

    box = np.array([[100.0, 50.0, 180.0, 70.0]])
    assert buffered(box, 0.5).tolist() == [[60.0, 40.0, 220.0, 80.0]]
    assert np.allclose(unbuffered(buffered(box, 0.3), 0.3), box) and buffered(box, 0.0) is box


@pytest.mark.parametrize("kind", ["bytetrack", "botsort"])
def test_a_plate_moving_further_than_its_width_between_frames_is_tracked_with_a_box_buffer(kind):
    """A fast car seen at a few frames a second: its plate's boxes in consecutive frames do not overlap, so ByteTrack
    never confirms its track; matched on buffered boxes (C-BIoU) it is one track, its own boxes given back."""
    def run(b):
        t = PlateTracker(TrackerConfig(tracker_type=kind, box_buffer=b))
        t.update(dets([10, 10, 20, 15]))  # another plate first: the car's track is not the run's first frame's
        return [t.update(dets([100 + 70 * i, 300, 180 + 70 * i, 320])) for i in range(6)]

    assert all(len(out) == 0 for out in run(0.0)[1:])  # 70 px a frame, an 80 px plate: IoU 0.07, never confirmed
    tracked = run(0.5)[1:]
    assert [out.ids.tolist() for out in tracked] == [[2]] * 5
    assert [out.xyxy.tolist() for out in tracked] == [[[100 + 70 * i, 300, 180 + 70 * i, 320]] for i in range(1, 6)]
