"""Detector export: static int8 ONNX finds the plates the fp32 one finds; calibration inputs as ultralytics'."""
from pathlib import Path

import numpy as np
import pytest

from common.errors import UserError
from detection import DetectorConfig, PlateDetector
from detection.export import calibration_frames, export_int8, letterbox

ROOT = Path(__file__).resolve().parents[2]
STILLS = ROOT / "samples" / "stills" / "images"


def test_letterbox_scales_the_long_side_and_pads_to_the_stride() -> None:
    x = letterbox(np.zeros((720, 1280, 3), np.uint8), 640)
    assert x.shape == (1, 3, 384, 640) and x.dtype == np.float32
    assert x[0, :, 0, 0] == pytest.approx([114 / 255] * 3)  # grey padding above the frame (360 -> 384 rows)
    assert x[0, :, 192, 320] == pytest.approx([0, 0, 0])


def test_calibration_frames_leave_out_the_listed_images(tmp_path) -> None:
    for n in ("a.jpg", "b.jpg", "c.png", "notes.txt"):
        (tmp_path / n).write_bytes(b"x")
    (tmp_path / "hold.csv").write_text("dataset,image\nd,b.jpg\n")
    assert sorted(p.name for p in calibration_frames(tmp_path, 10, [tmp_path / "hold.csv"])) == ["a.jpg", "c.png"]
    with pytest.raises(UserError, match="calibration folder not found"):
        calibration_frames(tmp_path / "missing", 10)


@pytest.mark.skipif(not (ROOT / "weights" / "detector.onnx").is_file(), reason="no shipped ONNX detector")
def test_static_int8_detector_finds_the_plates_the_fp32_one_finds(tmp_path) -> None:
    import cv2

    frames = sorted(STILLS.glob("*.jpg"))
    out = export_int8(ROOT / "weights" / "detector.onnx", frames, 640, tmp_path / "detector_int8.onnx")
    cfg = DetectorConfig(device="cpu", gray_weights="")
    fp32 = PlateDetector(DetectorConfig(**{**cfg.__dict__, "weights": str(ROOT / "weights" / "detector.onnx")}))
    int8 = PlateDetector(DetectorConfig(**{**cfg.__dict__, "weights": str(out)}))
    found = 0
    for f in frames:
        img = cv2.imread(str(f))
        a, b = fp32.detect(img), int8.detect(img)
        assert len(a.xyxy) == len(b.xyxy)
        for box in a.xyxy:  # each fp32 box has an int8 twin within a few pixels, or 8 % of a large plate's width
            # (7-bit weights: one sample plate's edge moved 10 px of 151)
            assert np.abs(b.xyxy - box).max(axis=1).min() < max(6.0, 0.08 * (box[2] - box[0]))
        found += len(a.xyxy)
    assert found >= 4


class _Exporter:
    """Ultralytics' YOLO as `export_onnx` uses it: the ONNX file written beside the weights it was given."""
    stop = False

    def __init__(self, weights: str, task: str) -> None:
        self.weights = Path(weights)

    def export(self, **kwargs) -> str:
        out = self.weights.with_suffix(".onnx")
        out.write_bytes(b"new graph" if not self.stop else b"half")
        if self.stop:
            raise KeyboardInterrupt
        return str(out)


@pytest.mark.parametrize("stop", [False, True])
def test_the_onnx_export_replaces_the_one_there_only_whole(stop, tmp_path, monkeypatch) -> None:
    import detection.export as export
    from common.digest import sha256
    from detection.weights import read_manifest, record

    weights = tmp_path / "detector.pt"
    weights.write_bytes(b"weights")
    (tmp_path / "detector.onnx").write_bytes(b"old graph")
    record(weights)
    record(tmp_path / "detector.onnx")
    monkeypatch.setattr(export, "yolo_class", lambda: _Exporter)
    monkeypatch.setattr(_Exporter, "stop", stop)
    if stop:
        with pytest.raises(KeyboardInterrupt):
            export.export_onnx(weights, 64)
    else:
        assert export.export_onnx(weights, 64) == tmp_path / "detector.onnx"
    onnx = tmp_path / "detector.onnx"
    assert onnx.read_bytes() == (b"old graph" if stop else b"new graph")
    assert read_manifest(tmp_path / "MANIFEST.sha256")["detector.onnx"] == sha256(onnx)  # still verifies
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MANIFEST.sha256", "detector.onnx", "detector.pt"]
