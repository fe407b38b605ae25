import numpy as np
import pytest

from detection.detections import Detections
from detection.region import RegionDetector, bounding_box


class Spy:
    """A detector that finds one plate at a fixed place of whatever image it is given, and notes that image's size."""

    def __init__(self, box=(10.0, 20.0, 50.0, 32.0)) -> None:
        self.box, self.seen = box, []
        self.weights = "spy.pt"

    def detect(self, frame):
        self.seen.append(frame.shape[:2])
        return Detections(np.array([self.box], np.float32), np.array([0.9], np.float32))


def test_the_detector_sees_the_region_and_its_boxes_come_back_in_frame_pixels():
    spy = Spy()
    det = RegionDetector(spy, bounding_box([(0.5, 0.5), (0.75, 0.5), (0.75, 0.75), (0.5, 0.75)]), pad=0.05)
    found = det.detect(np.zeros((2160, 3840, 3), np.uint8))
    x0, y0 = int(0.45 * 3840), int(0.45 * 2160)  # the box widened by 5 % of the frame each side
    assert spy.seen == [(int(np.ceil(0.8 * 2160)) - y0, int(np.ceil(0.8 * 3840)) - x0)]
    assert found.xyxy.tolist() == [[x0 + 10.0, y0 + 20.0, x0 + 50.0, y0 + 32.0]]
    assert found.conf.tolist() == pytest.approx([0.9]) and det.weights == "spy.pt"  # the wrapped detector's files


def test_a_region_at_the_frame_edge_is_clipped_to_the_frame():
    spy = Spy()
    det = RegionDetector(spy, (0.0, 0.9, 1.0, 1.0))
    det.detect(np.zeros((100, 200, 3), np.uint8))
    assert det.window(100, 200) == (0, 85, 200, 100) and spy.seen == [(15, 200)]


def test_no_plate_in_the_region_is_no_plate():
    empty = type("E", (), {"detect": lambda self, f: Detections()})()
    assert len(RegionDetector(empty, (0.1, 0.1, 0.2, 0.2)).detect(np.zeros((50, 50, 3), np.uint8))) == 0


@pytest.mark.parametrize("region", [(0.5, 0.1, 0.4, 0.2), (0.1, 0.1, 1.2, 0.2), (0.1, 0.3, 0.2, 0.3)])
def test_a_region_that_is_no_box_in_the_frame_is_refused(region):
    with pytest.raises(ValueError, match="is not a box within the frame"):
        RegionDetector(Spy(), region)


def test_the_region_s_box_and_its_bounds():
    assert bounding_box([(0.1, 0.5), (0.3, 0.9), (0.2, 0.6)]) == (0.1, 0.5, 0.3, 0.9)
    assert RegionDetector(None, (0, 0, 0.45, 0.25)).window(100, 200) == (0, 0, 100, 30)  # padded, clipped at 0
    assert RegionDetector(None, (0, 0, 1, 1)).window(100, 200) == (0, 0, 200, 100)  # the whole frame: allowed
    for bad in ((0.5, 0, 0.5, 1), (0, 0.2, 1, 0.2), (-0.1, 0, 1, 1), (0, 0, 1, 1.1)):
        with pytest.raises(ValueError, match="is not a box within the frame"):
            RegionDetector(None, bad)
