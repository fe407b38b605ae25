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


def test_unknown_tracker():
    with pytest.raises(UserError, match="tracker_type must be one of"):
        PlateTracker(TrackerConfig(tracker_type="sort"))
