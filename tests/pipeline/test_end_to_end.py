"""The pipeline on a synthetic clip of rendered plates moving across frames, read by the shipped OCR weights."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from detection.detections import Detections
from ocr import Recognizer
from ocr.synth_render import render_digits11
from pipeline.fusion import FusionConfig, TrackFuser
from pipeline.orchestrator import Pipeline
from pipeline.tracker import PlateTracker, TrackerConfig
from pipeline.types import Frame

WEIGHTS = Path(__file__).resolve().parents[2] / "weights"


def synthetic_clip(n_frames: int = 24):
    """Two vehicles with rendered 11-digit plates moving across a grey road; returns frames, GT boxes, texts."""
    rng = np.random.default_rng(11)
    plates = [render_digits11(rng) for _ in range(2)]
    frames, boxes = [], []
    for i in range(n_frames):
        img = np.full((360, 640, 3), 90, np.uint8)
        fb = []
        for k, (p, start, y, dx) in enumerate(((plates[0], 0, 60, 8), (plates[1], 8, 220, -7))):
            if i < start:
                continue
            w = 200
            h = int(p.image.shape[0] * w / p.image.shape[1])
            x = 30 + dx * (i - start) if dx > 0 else 400 + dx * (i - start)
            img[y:y + h, x:x + w] = cv2.resize(p.image, (w, h), interpolation=cv2.INTER_AREA)
            fb.append([x, y, x + w, y + h])
        frames.append(Frame(img, i, i / 10, "synthetic"))
        boxes.append(np.array(fb, np.float32).reshape(-1, 4))
    return frames, boxes, [p.text for p in plates]


@pytest.mark.skipif(not (WEIGHTS / "ocr_digits.pth").is_file(), reason="weights/ocr_digits.pth not shipped")
def test_one_event_per_vehicle_with_the_right_text():
    frames, boxes, texts = synthetic_clip()
    it = iter(boxes)
    detector = type("GT", (), {"detect": lambda self, f: (lambda b: Detections(b, np.full(len(b), 0.9, np.float32)))(next(it))})()
    events = []
    sink = type("Mem", (), {"write": lambda self, e: events.append(e)})()
    rec = Recognizer.from_checkpoint(WEIGHTS / "ocr_digits.pth", device="cpu")
    Pipeline(detector, PlateTracker(TrackerConfig()), rec, TrackFuser(FusionConfig(lost_frames=5)), [sink]).run(iter(frames))
    assert sorted(e.text for e in events) == sorted(texts)
    assert all(e.frames_read >= 3 for e in events)
