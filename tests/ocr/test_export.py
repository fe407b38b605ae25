import json

import numpy as np
import pytest
import torch

from common.errors import UserError
from ocr import Recognizer
from ocr.checkpoint import load_checkpoint, model_from_checkpoint
from ocr.export import export_torchscript
from ocr.export import main as export_main
from ocr.process import preprocess_batch


def test_onnx_gives_the_same_strings(tiny_ckpt, crops):
    ref = Recognizer.from_checkpoint(tiny_ckpt)
    assert export_main(["--weights", str(tiny_ckpt), "--format", "onnx"]) == 0
    onnx_rec = Recognizer.from_checkpoint(tiny_ckpt.with_suffix(".onnx"), backend="onnx")
    for batch in (crops[:1], crops):  # dynamic batch size
        a, b = ref.probs(batch), onnx_rec.probs(batch)
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-4)
        assert [r.text for r in ref(batch)] == [r.text for r in onnx_rec(batch)]
    assert any(r.text for r in ref(crops))  # the comparison is not between empty strings
    assert onnx_rec.cfg == ref.cfg


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")  # torch 2.14 deprecates TorchScript; the issue asks for it
def test_torchscript_gives_the_same_strings(tiny_ckpt, crops, tmp_path):
    model = model_from_checkpoint(load_checkpoint(tiny_ckpt))
    path = export_torchscript(model, tmp_path / "m.pt")
    files = {"model_config.json": ""}
    scripted = torch.jit.load(str(path), _extra_files=files)
    assert json.loads(files["model_config.json"])["alphabet"] == model.cfg.alphabet
    ref = Recognizer.from_checkpoint(tiny_ckpt)
    x = torch.from_numpy(preprocess_batch(crops))
    with torch.no_grad():
        probs = scripted(x).softmax(2).numpy()
    assert [ref.decode(p).text for p in probs] == [r.text for r in ref(crops)]


def test_export_missing_weights(tmp_path):
    assert export_main(["--weights", str(tmp_path / "none.pth")]) == 2


def test_slim_checkpoint_keeps_what_loading_needs(tiny_ckpt, tmp_path, crops):
    full = load_checkpoint(tiny_ckpt)
    full["optimizer_state_dict"] = {"state": {0: {"exp_avg": torch.zeros(1000)}}}
    torch.save(full, tmp_path / "full.pth")
    assert export_main(["--weights", str(tmp_path / "full.pth"), "--format", "pth", "--out", str(tmp_path / "s.pth")]) == 0
    slim = load_checkpoint(tmp_path / "s.pth")
    assert "optimizer_state_dict" not in slim and slim["best_seq_acc"] == 0.5 and slim["epoch"] == 1
    a = Recognizer.from_checkpoint(tiny_ckpt)(crops)
    assert [r.text for r in Recognizer.from_checkpoint(tmp_path / "s.pth")(crops)] == [r.text for r in a]


def test_int8_lstm_export_reads_the_shipped_sample_plates_like_fp32(tmp_path):
    """`--int8-lstm` swaps the LSTMs for ONNX Runtime's int8 ones and keeps the reads of the shipped model."""
    from pathlib import Path

    import cv2
    import onnx

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "ocr_int8.onnx"
    assert export_main(["--weights", str(root / "weights" / "ocr_latin.pth"), "--format", "onnx", "--int8-lstm",
                        "--out", str(out)]) == 0
    ops = [n.op_type for n in onnx.load(str(out)).graph.node]
    assert ops.count("DynamicQuantizeLSTM") == 2 and "LSTM" not in ops
    crops = [cv2.imread(str(p)) for p in sorted((root / "samples" / "plates").glob("*.jpg"))]
    fp32 = Recognizer.from_checkpoint(root / "weights" / "ocr_latin.pth", device="cpu")(crops)
    rec = Recognizer.from_checkpoint(out, backend="onnx")  # fp32 asked for: the file's int8 LSTM is seen
    assert rec.precision == "int8" and rec.max_batch == 1
    int8 = rec(crops)
    assert len(crops) >= 4 and [r.text for r in int8] == [r.text for r in fp32]
    assert np.allclose([r.confidence for r in int8], [r.confidence for r in fp32], atol=0.05)


def conv_weight_range(path) -> tuple[int, int]:
    """The least and greatest int8 weight of the convolutions and matrix products of a static int8 ONNX model."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    lstm = {i for n in model.graph.node if n.op_type == "DynamicQuantizeLSTM" for i in n.input}
    ws = [numpy_helper.to_array(t) for t in model.graph.initializer
          if t.data_type == onnx.TensorProto.INT8 and t.name not in lstm and t.name.endswith("_quantized")]
    assert ws
    return int(min(w.min() for w in ws)), int(max(w.max() for w in ws))


@pytest.mark.parametrize("name", ["ocr_latin_int8.onnx", "ocr_latin_seed_int8.onnx"])
def test_shipped_int8_exports_have_7_bit_convolution_weights(name):
    """x86 CPUs without VNNI add pairs of uint8 x int8 products in 16 bits with saturation; 7-bit weights keep
    the sums in range, so the shipped exports read alike on every CPU (see common/quantize.py)."""
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "weights" / name
    if not path.is_file():
        pytest.skip(f"weights/{name} not in this copy of the tree")
    assert conv_weight_range(path) == (-64, 64)


def test_int8_export_reads_the_shipped_sample_plates_like_fp32_and_runs_in_the_checkpoints_place(tmp_path):
    """`--int8` writes `<name>_int8.onnx` (static int8 convolutions, calibrated; int8 LSTM weights): the sample plates
    that fp32 reads surely read the same, and the recognizer runs it for the checkpoint on the CPU only while it was
    made from that file."""
    import shutil
    from pathlib import Path

    import cv2
    import onnx

    root = Path(__file__).resolve().parents[2]
    ckpt = tmp_path / "ocr.pth"
    shutil.copy(root / "weights" / "ocr_latin.pth", ckpt)
    assert export_main(["--weights", str(ckpt), "--format", "onnx", "--int8", "--n-calib", "64"]) == 0
    out = tmp_path / "ocr_int8.onnx"
    ops = [n.op_type for n in onnx.load(str(out)).graph.node]
    assert "QuantizeLinear" in ops and ops.count("DynamicQuantizeLSTM") == 2
    assert conv_weight_range(out) == (-64, 64)  # 7-bit weights: no 16-bit saturation on CPUs without VNNI
    crops = [cv2.imread(str(p)) for p in sorted((root / "samples" / "plates").glob("*.jpg"))]
    fp32 = Recognizer.from_checkpoint(ckpt, device="cpu")(crops)
    rec = Recognizer.from_checkpoint(ckpt, device="cpu", backend="auto", precision="auto")
    assert rec.source == str(out) and rec.precision == "int8 static" and rec.max_batch == 1
    sure = [i for i, r in enumerate(fp32) if r.confidence >= 0.5]  # a borderline read may flip under quantisation
    int8 = rec(crops)
    assert len(sure) >= 6 and [int8[i].text for i in sure] == [fp32[i].text for i in sure]
    assert Recognizer.from_checkpoint(ckpt, device="cpu", backend="onnx", precision="fp32").source == str(ckpt)
    torch.save({**load_checkpoint(ckpt), "epoch": 99}, ckpt)  # a retrained checkpoint: the export is stale
    rec = Recognizer.from_checkpoint(ckpt, device="cpu", backend="auto", precision="auto")
    assert rec.source == str(ckpt) and rec.precision == "int8"


def test_int8_calibration_crops_leave_out_the_listed_images(tmp_path, tiny_ckpt, capsys):
    import cv2

    from ocr.export import calibration_crops

    data = tmp_path / "crops"
    (data / "images").mkdir(parents=True)
    rows = ["image,plate_text"]
    for i in range(3):
        cv2.imwrite(str(data / "images" / f"{i}.png"), np.full((20, 60 + i, 3), 100, np.uint8))
        rows.append(f"{i}.png,AB{i}")
    (data / "labels.csv").write_text("\n".join(rows) + "\n")
    split = tmp_path / "hold.csv"
    split.write_text("dataset,image\ncrops,1.png\n")
    widths = sorted(c.shape[1] for c in calibration_crops([data], [split], 10))
    assert widths == [60, 62]
    split.write_text("dataset,image\ncrops,0.png\ncrops,1.png\ncrops,2.png\n")
    with pytest.raises(UserError, match="no calibration crops left"):
        calibration_crops([data], [split], 10)
    assert export_main(["--weights", str(tiny_ckpt), "--int8", "--calib", str(tmp_path / "nope")]) == 2
    assert "dataset folder not found" in capsys.readouterr().err
    assert export_main(["--weights", str(tiny_ckpt), "--calib", str(data)]) == 2
    assert "add --int8" in capsys.readouterr().err


def test_int8_and_int8_lstm_exclude_each_other(tmp_path, tiny_ckpt, capsys):
    assert export_main(["--weights", str(tiny_ckpt), "--format", "onnx", "--int8", "--int8-lstm",
                        "--out", str(tmp_path / "x.onnx")]) == 2


@pytest.mark.parametrize("kind", ["--int8-lstm", "--int8"])
def test_an_export_stopped_half_way_leaves_the_one_before_as_it_was(kind, tiny_ckpt, tmp_path, monkeypatch, capsys):
    """A stop (Ctrl-C, SIGTERM) or a failure while quantising: the export the pipeline runs is not left as an fp32
    model or a broken file under its int8 name, and no partial file stays."""
    import onnxruntime.quantization as ort_quantization

    import ocr.export as export

    out = tmp_path / "tiny_int8.onnx"
    assert export.main(["--weights", str(tiny_ckpt), "--out", str(out), kind, "--n-calib", "4"]) == 0
    before = out.read_bytes()

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(export if kind == "--int8-lstm" else ort_quantization,  # the static quantiser's own step
                        "quantize_lstm" if kind == "--int8-lstm" else "quantize_static", stop)
    assert export.main(["--weights", str(tiny_ckpt), "--out", str(out), kind, "--n-calib", "4"]) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == ("interrupted: nothing written (an export there before "
                                                                "is kept as it was)")
    assert out.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == ["tiny.pth", "tiny_int8.onnx"]


def test_int8_calibrates_on_half_real_crops_and_half_synthetic_plates(tmp_path, tiny_ckpt, monkeypatch):
    """--int8 --calib --n-calib 8: 4 real crops drawn (the listed ones left out), the rest synthetic plates, ranges at
    the 99.99th percentile, then the LSTM weights in int8."""
    import common.quantize
    import ocr.accel
    import ocr.export as export

    calls = []
    monkeypatch.setattr(export, "calibration_crops", lambda folders, exclude, n: calls.append(
        ("crops", [f.name for f in folders], [e.name for e in exclude], n)) or [np.zeros((20, 60, 3), np.uint8)] * 9)
    monkeypatch.setattr(ocr.accel, "calibration_batches", lambda cfg, n, seed, real: calls.append(
        ("batches", n, seed, len(real))) or [])

    def quantize(src, out, batches, method, percentile):
        calls.append(("static", method, percentile))
        return out

    monkeypatch.setattr(common.quantize, "quantize_static_int8", quantize)
    monkeypatch.setattr(export, "quantize_lstm", lambda src, out: calls.append(("lstm",)) or out)
    (tmp_path / "real").mkdir()
    assert export.main(["--weights", str(tiny_ckpt), "--int8", "--calib", str(tmp_path / "real"), "--exclude",
                        str(tmp_path / "hold.csv"), "--n-calib", "8"]) == 0
    assert calls == [("crops", ["real"], ["hold.csv"], 4), ("batches", 8, 0, 4), ("static", "percentile", 99.99),
                     ("lstm",)]
    assert (tmp_path / "tiny_int8.onnx").is_file()


@pytest.mark.filterwarnings("ignore:`torch.jit.load` is deprecated:FutureWarning")
def test_exports_are_written_where_asked_or_beside_the_weights(tmp_path, tiny_ckpt):
    assert export_main(["--weights", str(tiny_ckpt), "--format", "torchscript"]) == 0
    assert export_main(["--weights", str(tiny_ckpt), "--format", "torchscript", "--out", str(tmp_path / "ts.pt")]) == 0
    assert export_main(["--weights", str(tiny_ckpt), "--out", str(tmp_path / "new" / "dir" / "m.onnx")]) == 0
    assert sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()) == [
        "new/dir/m.onnx", "tiny.pth", "tiny.torchscript.pt", "ts.pt"]
