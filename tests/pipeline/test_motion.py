import cv2
import numpy as np
import pytest

from pipeline.motion import MotionGate


def road(seed: int, plate_at: tuple[int, int] | None = None, size=(720, 1280), plate=(40, 12)) -> np.ndarray:
    """A grey road with sensor noise (sigma 3) drawn afresh; a plate (a far one: 40 x 12 px) where asked."""
    rng = np.random.default_rng(seed)
    img = np.full((*size, 3), 90, np.float64)
    img[size[0] // 2:] = 60  # the road below the horizon
    img += rng.normal(0, 3, img.shape)
    if plate_at is not None:
        x, y = plate_at
        img[y:y + plate[1], x:x + plate[0]] = 230
    return np.clip(img, 0, 255).astype(np.uint8)


def test_noise_is_not_motion_and_a_far_plate_is():
    gate = MotionGate()
    gate.looked(gate.view(road(0)), 0.0)
    assert not any(gate.moved(gate.view(road(s)), 0.04 * s) for s in range(1, 20))
    assert gate.moved(gate.view(road(21, plate_at=(600, 500))), 0.84)


def test_the_detector_runs_every_every_s_and_without_a_reference():
    gate = MotionGate(every_s=1.0)
    assert gate.moved(gate.view(road(0)), 0.0)  # no reference yet
    gate.looked(gate.view(road(0)), 0.0)
    assert not gate.moved(gate.view(road(1)), 0.96) and gate.moved(gate.view(road(2)), 1.0)
    gate.looked(gate.view(road(3)), 5.0)  # the reference's age, not the time of day, counts
    assert not gate.moved(gate.view(road(4)), 5.5) and gate.moved(gate.view(road(5)), 6.0)
    assert gate.moved(gate.view(road(6)), 4.0)  # the clock went back (a new file, a camera restarted)


def test_a_frame_is_compared_grey_and_shrunk_to_320_px_wide():
    gate, frame = MotionGate(), road(0)
    view = gate.view(frame)
    assert view.shape == (180, 320) and view.dtype == np.uint8
    grey = frame.mean(axis=2).round().astype(np.uint8)  # a grey camera's frame: compared as it is
    assert np.abs(gate.view(grey).astype(int) - view).max() <= 1
    assert gate.view(road(0, size=(120, 200))).shape == (120, 200)  # never enlarged


@pytest.mark.parametrize("change, moved", [(25, False), (26, True)])
def test_a_pixel_counts_as_moved_past_level_grey_levels(change, moved):
    gate = MotionGate(level=25, share=0.0)
    frame = np.full((180, 320, 3), 100, np.uint8)
    gate.looked(gate.view(frame), 0.0)
    assert not gate.moved(gate.view(frame), 0.1)  # share 0: nothing changed is still not motion
    assert not gate.moved(gate.view(frame), 0.0)  # at the reference's own time
    assert gate.moved(gate.view(frame + np.uint8(change)), 0.1) == moved


@pytest.mark.parametrize("changed_cols, moved", [(60, False), (100, True)])
def test_a_frame_moved_when_more_than_share_of_its_pixels_did(changed_cols, moved):
    gate = MotionGate(share=0.25)
    frame = np.full((50, 320, 3), 100, np.uint8)
    gate.looked(gate.view(frame), 0.0)
    changed = frame.copy()
    changed[:, :changed_cols] = 200  # 19 % or 31 % of the pixels, and a column or two where the blur smears it
    assert gate.moved(gate.view(changed), 0.1) == moved


def test_the_region_is_cut_to_the_pixel_and_never_to_nothing():
    frame = np.arange(100 * 200, dtype=np.uint32).reshape(100, 200) % 251
    frame = frame.astype(np.uint8)
    view = MotionGate(region=(0.1, 0.2, 0.3, 0.6)).view(frame)  # x 20-60, y 20-60 of 200 x 100
    assert (view == cv2.GaussianBlur(frame[20:60, 20:60], (3, 3), 0)).all()
    assert MotionGate(region=(0.5, 0.5, 0.5, 0.5)).view(frame).shape == (1, 1)


def test_only_the_region_is_watched():
    gate = MotionGate(region=(0.5, 0.5, 1.0, 1.0))
    gate.looked(gate.view(road(0)), 0.0)
    assert not gate.moved(gate.view(road(1, plate_at=(100, 100))), 0.04)  # outside the roi's box
    assert gate.moved(gate.view(road(2, plate_at=(900, 500))), 0.08)


@pytest.fixture
def counting_detector():
    from detection.detections import Detections

    class Counting:
        """Finds a plate where the frame has one (bright pixels), counting its calls."""

        calls = 0

        def detect(self, image):
            self.calls += 1
            ys, xs = np.nonzero(image[:, :, 0] > 200)
            if not len(xs):
                return Detections()
            return Detections(np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32),
                              np.array([0.9], np.float32))

    return Counting()


def test_unmoved_frames_skip_the_detector_and_a_vehicle_is_read_as_without_the_gate(counting_detector):
    """A noisy road: 50 empty frames, a plate (80 x 24 px) creeping in for 10 frames, 4 px a frame, then parked there
    for 40 frames, then gone for 50. While the plate moves, every frame is detected; parked, the frames have not
    moved and are given the box the detector found last, so the track goes on: the same event as without the gate."""
    from pathlib import Path

    from ocr.recognizer import PlateRead
    from pipeline.app import vehicle_reader
    from pipeline.settings import load_configs

    text = "AB123CD"
    ocr = type("Reader", (), {"probs": lambda self, crops: np.zeros((len(crops), 1)), "rows": lambda self, c: 1,
                              "decode": lambda self, p: PlateRead(text, 0.9, (0.9,) * len(text))})()
    configs = Path(__file__).resolve().parents[2] / "configs"
    at = [(300 + 4 * min(i, 9), 400 + min(i, 9)) for i in range(50)]
    frames = [road(i) for i in range(50)] + [road(50 + i, plate_at=at[i], plate=(80, 24)) for i in range(50)]
    frames += [road(100 + i) for i in range(50)]
    seen = {}
    for gate in ("false", "true"):
        counting_detector.calls = 0
        reader = vehicle_reader(load_configs(configs, [f"motion_gate={gate}", "fusion.lost_frames=3"]), "gate",
                                counting_detector, ocr)
        events = []
        for i, img in enumerate(frames):
            events += reader.add(img, time_s=i / 25)
        events += reader.finish()
        seen[gate] = [(e.text, e.first_frame, e.last_frame, e.reason) for e in events], counting_detector.calls
        assert reader.pipeline.detected_frames == counting_detector.calls
    assert seen["true"][0] == seen["false"][0] == [(text, 51, 99, "lost")]
    # the first frame, 25 (every_s), the 10 the plate moved in and 60 (the box stays put: the detector may rest),
    # 85 (every_s), 100 (it left: moved) and 101 (none again), 126 (every_s)
    assert (seen["false"][1], seen["true"][1]) == (150, 17)


def test_boxes_are_the_same_when_each_overlaps_one_of_the_others():
    from detection.detections import Detections
    from pipeline.orchestrator import same_boxes

    def boxes(*xs):
        return Detections(np.array([[x, 10, x + 100, 40] for x in xs], np.float32), np.full(len(xs), 0.9, np.float32))

    assert same_boxes(Detections(), Detections()) and same_boxes(boxes(0, 300), boxes(302, 1))
    assert not same_boxes(boxes(0), boxes(8))  # IoU 0.85: moved
    assert not same_boxes(boxes(0), Detections()) and not same_boxes(boxes(0, 300), boxes(0))
