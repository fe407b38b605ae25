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
    assert letterbox(np.zeros((700, 1280, 3), np.uint8), 640).shape == (1, 3, 352, 640)  # 350 rows: to 32's multiple


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
    asked: list = []

    def __init__(self, weights: str, task: str) -> None:
        self.weights = Path(weights)

    def export(self, **kwargs) -> str:
        _Exporter.asked.append(kwargs)
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
    monkeypatch.setattr(_Exporter, "asked", [])
    if stop:
        with pytest.raises(KeyboardInterrupt):
            export.export_onnx(weights, 64)
    else:
        assert export.export_onnx(weights, 64) == tmp_path / "detector.onnx"
    onnx = tmp_path / "detector.onnx"
    assert onnx.read_bytes() == (b"old graph" if stop else b"new graph")
    assert read_manifest(tmp_path / "MANIFEST.sha256")["detector.onnx"] == sha256(onnx)  # still verifies
    assert sorted(p.name for p in tmp_path.iterdir()) == ["MANIFEST.sha256", "detector.onnx", "detector.pt"]
    assert _Exporter.asked == [dict(format="onnx", imgsz=64, dynamic=True, simplify=False, opset=17, verbose=False)]


@pytest.mark.parametrize("listed", [True, False])
def test_an_int8_export_is_recorded_where_its_source_is(listed, tmp_path, monkeypatch) -> None:
    """The int8 model's digest goes into the manifest when the .onnx it was made from is there (the shipped
    weights), and no manifest is made for an export of one's own."""
    import common.quantize
    from common.digest import sha256
    from detection.weights import read_manifest, record

    src = tmp_path / "detector.onnx"
    src.write_bytes(b"graph")
    if listed:
        record(src)
    seen = []

    def quantize(onnx_path, out, batches, ops):
        seen.extend(b.shape for b in batches)
        out.write_bytes(b"int8 graph")
        return out

    monkeypatch.setattr(common.quantize, "quantize_static_int8", quantize)
    out = export_int8(src, sorted(STILLS.glob("*.jpg"))[:2], 320, tmp_path / "detector_int8.onnx")
    assert out.read_bytes() == b"int8 graph" and len(seen) == 2 and all(s[:2] == (1, 3) and max(s) == 320 for s in seen)
    manifest = read_manifest(tmp_path / "MANIFEST.sha256") if listed else {}
    assert manifest == ({"detector.onnx": sha256(src), "detector_int8.onnx": sha256(out)} if listed else {})
    assert (tmp_path / "MANIFEST.sha256").exists() == listed


def test_weights_outside_the_manifest_are_exported_only_unverified_and_not_recorded(tmp_path, monkeypatch) -> None:
    import detection.export as export

    weights = tmp_path / "detector.pt"
    weights.write_bytes(b"weights")
    monkeypatch.setattr(export, "yolo_class", lambda: _Exporter)
    with pytest.raises(UserError, match="detector.pt is not in MANIFEST.sha256"):
        export.export_onnx(weights, 64)
    assert export.export_onnx(weights, 64, check_sha=False).read_bytes() == b"new graph"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["detector.onnx", "detector.pt"]  # no manifest made


def test_calibration_frames_are_a_seeded_draw_of_the_folders_images(tmp_path) -> None:
    names = [f"f{i:02d}{ext}" for i, ext in enumerate([".jpg", ".JPG", ".jpeg", ".png", ".PNG", ".bmp"] * 3)]
    for n in names:
        (tmp_path / n).write_bytes(b"x")
    first = calibration_frames(tmp_path, 5)
    assert len(first) == 5 and first == calibration_frames(tmp_path, 5) != calibration_frames(tmp_path, 5, seed=1)
    assert sorted(p.name for p in calibration_frames(tmp_path, 100)) == [n for n in names if not n.endswith(".bmp")]
    for n in names:
        (tmp_path / n).unlink()
    with pytest.raises(UserError, match=f"no calibration images in {tmp_path}"):
        calibration_frames(tmp_path, 5)


@pytest.fixture
def spied_export(tmp_path, monkeypatch):
    """detection.export's main with the exports stood in for: the weights `detector.pt` in `tmp_path`, and the
    calls made (`onnx`: weights, imgsz, verify; `int8`: source, frames, imgsz, out)."""
    import detection.export as export

    (tmp_path / "detector.pt").write_bytes(b"weights")
    calls: dict[str, list] = {"onnx": [], "int8": []}

    def onnx(weights, imgsz, check_sha=True):
        calls["onnx"].append((weights.name, imgsz, check_sha))
        return weights.with_suffix(".onnx")

    def int8(src, frames, imgsz, out):
        calls["int8"].append((src.name, [(f.parent.name, f.name) for f in frames], imgsz, out.name))
        return out

    monkeypatch.setattr(export, "export_onnx", onnx)
    monkeypatch.setattr(export, "export_int8", int8)
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        for i in range(4):
            (tmp_path / folder / f"{i}.jpg").write_bytes(b"x")
    return lambda *argv: export.main(["--weights", str(tmp_path / "detector.pt"), *argv]), calls


def test_export_main_makes_the_onnx_at_its_size_and_verifies_unless_told(spied_export) -> None:
    main, calls = spied_export
    assert main() == 0 and main("--imgsz", "320", "--no-verify") == 0
    assert calls == {"onnx": [("detector.pt", 640, True), ("detector.pt", 320, False)], "int8": []}


@pytest.mark.parametrize("sibling, n_calib, per", [(False, 64, 32), (True, 4, 2), (True, 1, 1)])
def test_int8_export_calibrates_on_as_many_frames_of_each_folder(spied_export, tmp_path, sibling, n_calib, per):
    """--int8: the .onnx beside the weights quantised as it is (made first when there is none), calibrated on
    n-calib frames shared among the --calib folders (at least one of each), the listed ones left out."""
    main, calls = spied_export
    if sibling:
        (tmp_path / "detector.onnx").write_bytes(b"graph")
    (tmp_path / "hold.csv").write_text("dataset,image\nx,0.jpg\n")
    assert main("--int8", "--calib", str(tmp_path / "a"), str(tmp_path / "b"), "--n-calib", str(n_calib),
                "--exclude", str(tmp_path / "hold.csv"), "--imgsz", "320") == 0
    assert calls["onnx"] == ([] if sibling else [("detector.pt", 320, True)])
    [(src, frames, imgsz, out)] = calls["int8"]
    assert (src, imgsz, out) == ("detector.onnx", 320, "detector_int8.onnx")
    assert [folder for folder, _ in frames] == ["a"] * min(per, 3) + ["b"] * min(per, 3)
    assert ("a", "0.jpg") not in frames and ("b", "0.jpg") not in frames


def test_int8_without_calibration_frames_is_one_line(spied_export, capsys) -> None:
    main, calls = spied_export
    assert main("--int8") == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: --int8 needs --calib FOLDER (frames like the ones the detector will see)"]
    assert calls == {"onnx": [], "int8": []}
