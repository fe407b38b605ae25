"""The whole product on a synthetic clip: the shipped detector, tracker, shipped OCR and fusion, from configs/.

Two rendered plates move across a real dash-cam frame (a held-out frame of samples/stills with its own plates
painted out); the run must give exactly one event per vehicle with the right text.
"""
from pathlib import Path

import cv2
import numpy as np
import pytest

from detection.dataset import read_box_labels
from ocr.synth_render import render_br_mercosur, render_eu

ROOT = Path(__file__).resolve().parents[2]
STILLS = ROOT / "samples" / "stills"
pytestmark = pytest.mark.skipif(not (ROOT / "weights" / "detector.pt").is_file(), reason="no shipped detector")


def scene_clip(n_frames: int = 24):
    name = "train_dayride_type1_003_t00098.jpg"
    bg = cv2.imread(str(STILLS / "images" / name))
    mask = np.zeros(bg.shape[:2], np.uint8)
    for b in read_box_labels(STILLS / "labels.csv")[name]:
        mask[int(b.y1) - 4:int(b.y2) + 4, int(b.x1) - 4:int(b.x2) + 4] = 255
    mask[378:405, 398:452] = 255  # an unlabelled, unreadable plate on the bus
    bg = cv2.inpaint(bg, mask, 5, cv2.INPAINT_TELEA)  # the frame's own plates painted out
    rng = np.random.default_rng(5)
    plates = [render_eu(rng), render_br_mercosur(rng)]
    frames = []
    for i in range(n_frames):
        img = bg.copy()
        for p, (x0, y, dx, w) in zip(plates, ((200, 430, 9, 190), (1000, 520, -8, 170))):
            h = int(p.image.shape[0] * w / p.image.shape[1])
            x = x0 + dx * i
            img[y:y + h, x:x + w] = cv2.resize(p.image, (w, h), interpolation=cv2.INTER_AREA)
        frames.append(img)
    return frames, [p.text for p in plates]


@pytest.mark.parametrize("ocr", ["torch fp32", "configured", "ensemble option"])
def test_one_event_per_vehicle_with_the_shipped_models(ocr):
    """`configured`: the recognizer the pipeline builds from configs/ (on the CPU: the int8 export
    weights/ocr_latin_int8.onnx in place of ocr_latin.pth), as the run summary reports it; `ensemble option`: the
    same with the shipped second model as a cascade (`ocr_ensemble=[weights/ocr_latin_m16.pth]`)."""
    from detection import PlateDetector
    from ocr import Recognizer
    from pipeline.app import _recognizer
    from pipeline.fusion import TrackFuser
    from pipeline.orchestrator import Pipeline
    from pipeline.outputs import models_run
    from pipeline.settings import load_configs, video_configs
    from pipeline.tracker import PlateTracker
    from pipeline.types import Frame

    frames, texts = scene_clip()
    overrides = [f"detector.weights={ROOT / 'weights' / 'detector.pt'}", "detector.device=cpu"]
    if ocr == "ensemble option":
        overrides += [f"ocr_ensemble=[{ROOT / 'weights' / 'ocr_latin_m16.pth'}]", "ocr_ensemble_below=0.9"]
    cfgs = video_configs(load_configs(ROOT / "configs", overrides))
    events = []
    sink = type("Mem", (), {"write": lambda self, e: events.append(e)})()
    detector = PlateDetector(cfgs.detector)
    recognizer = (Recognizer.from_checkpoint(ROOT / "weights" / "ocr_latin.pth", device="cpu") if ocr == "torch fp32"
                  else _recognizer(cfgs.pipeline, cfgs.fusion.patterns))
    Pipeline(detector, PlateTracker(cfgs.tracker), recognizer, TrackFuser(cfgs.fusion), [sink]).run(
        Frame(f, i, i / 10, "synthetic") for i, f in enumerate(frames))
    assert sorted(e.text for e in events) == sorted(texts)
    if ocr == "ensemble option":
        import torch

        assert recognizer.second_share is not None  # the cascade read
        if not torch.cuda.is_available():  # on the CPU each model runs its own int8 export
            assert [Path(m).name for m in models_run(detector, recognizer)["ocr"].split("+")] == [
                "ocr_latin_int8.onnx", "ocr_latin_m16_int8.onnx"]
    if ocr == "configured":
        import torch

        models = models_run(detector, recognizer)
        exports = all((ROOT / "weights" / n).is_file()
                      for n in ("detector.onnx", "detector_gray.onnx", "ocr_latin_int8.onnx"))
        if not torch.cuda.is_available() and exports:  # on the CPU both networks run their ONNX exports
            assert Path(models["detector"]).name == "detector.onnx"
            assert Path(models["detector_gray"]).name == "detector_gray.onnx"
            assert Path(models["ocr"]).name == "ocr_latin_int8.onnx" and models["ocr_precision"] == "int8 static"
