from pathlib import Path

import numpy as np
import pytest
import torch

from common.errors import UserError
from common.paths import ROOT
from ocr import PlateRead, Recognizer, load_model, predict_image
from ocr.recognizer import check_fit, check_model_file


def test_one_frozen_read_per_crop(tiny_ckpt, crops):
    reads = Recognizer.from_checkpoint(tiny_ckpt, device="cpu")(crops)
    assert len(reads) == len(crops) and all(isinstance(r, PlateRead) for r in reads)
    for r in reads:
        assert len(r.char_confidences) == len(r.text)
        assert r.confidence == pytest.approx(float(np.prod(r.char_confidences)) if r.text else 0.0)
    with pytest.raises(AttributeError):
        reads[0].text = "X"
    assert Recognizer.from_checkpoint(tiny_ckpt)([]) == []
    with pytest.raises(UserError, match=r"^crop 1 must hold 8-bit values \(uint8, as cv2.imread gives\), not float64"):
        Recognizer.from_checkpoint(tiny_ckpt, device="cpu")([crops[0], crops[1] / 255.0])


def test_guide_api(tiny_ckpt, crops, tmp_path):
    import cv2

    model = load_model(tiny_ckpt)
    path = tmp_path / "plate.jpg"
    cv2.imwrite(str(path), crops[1])
    ref = Recognizer.from_checkpoint(tiny_ckpt)([cv2.imread(str(path))])[0].text
    assert predict_image(model, path) == ref
    assert predict_image(model, cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)[:, :, None]) == predict_image(
        model, cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_GRAYSCALE), cv2.COLOR_GRAY2BGR))
    with pytest.raises(UserError, match="^an image must hold 8-bit values"):
        predict_image(model, crops[1].astype(np.float32))


def test_patterns_constrain_reads(tiny_ckpt, crops):
    from ocr.decode import matches

    pats = ("LLL", "LLLL", "LL")
    rec = Recognizer.from_checkpoint(tiny_ckpt, patterns=pats)
    greedy = Recognizer.from_checkpoint(tiny_ckpt, decoder="greedy")
    assert rec.decoder == "beam" and greedy.decoder == "greedy"
    constrained = rec(crops)
    for r, g in zip(constrained, greedy(crops)):  # a pattern match, or the greedy read as the fallback
        assert any(matches(r.text, p) for p in pats) or r.text == g.text
    assert any(any(matches(r.text, p) for p in pats) for r in constrained)


def test_patterns_no_read_of_the_models_alphabet_could_fit_name_the_model(tmp_path):
    from ocr.checkpoint import save_checkpoint
    from ocr.export import export_onnx
    from ocr.model import CRNN, ModelConfig

    digits = tmp_path / "digits.pth"
    model = CRNN(ModelConfig(alphabet="0123456789", width_mult=0.125, hidden=16)).eval()
    save_checkpoint(digits, model, epoch=1, best_seq_acc=0.5, patterns=[])
    onnx = export_onnx(model, tmp_path / "digits.onnx", ())
    says = r"digits\.(pth|onnx): plate pattern 'LLLDDD' asks for letters \(L\), and the OCR model's alphabet"
    for path in (digits, onnx):
        for load in (lambda: Recognizer.from_checkpoint(path, patterns=("DDDDDDD", "LLLDDD")),
                     lambda: Recognizer.from_checkpoint(path, backend="onnx", patterns=("LLLDDD",)),
                     lambda: check_fit(path, ("LLLDDD",), check_model_file(path).alphabet)):
            with pytest.raises(UserError, match=says):
                load()
        check_fit(path, ("DDDDDDD",), check_model_file(path).alphabet)
        assert Recognizer.from_checkpoint(path, patterns=("DDDDDDD",)).patterns == ("DDDDDDD",)


def _cut_short(p):
    torch.save({"model_state_dict": {"w": torch.zeros(1000)}, "model_config": {}}, p)
    p.write_bytes(p.read_bytes()[:-300])


@pytest.mark.parametrize("make, message", [
    (lambda p: None, "checkpoint not found"),
    (lambda p: p.write_bytes(b"not a checkpoint"), "cannot load checkpoint .*: not a PyTorch checkpoint"),
    (lambda p: p.write_bytes(b""), "cannot load checkpoint .*: the file is empty"),
    (_cut_short, "cannot load checkpoint .*: the file is damaged or cut short"),
    (lambda p: torch.save({"weights": torch.zeros(1)}, p), "is not a plate-reader OCR checkpoint"),
])
def test_bad_checkpoints(tmp_path, make, message):
    p = tmp_path / "m.pth"
    make(p)
    with pytest.raises(UserError, match=message):
        Recognizer.from_checkpoint(p)
    with pytest.raises(UserError, match=message):
        check_model_file(p)


def test_a_file_that_is_not_onnx_is_said_so(tmp_path):
    p = tmp_path / "m.onnx"
    p.write_bytes(b"not a model")
    for load in (lambda: Recognizer.from_checkpoint(p, backend="onnx"), lambda: check_model_file(p)):
        with pytest.raises(UserError, match=r"m.onnx is not an ONNX model"):
            load()


def test_an_onnx_model_file_is_read_once_to_check_it(monkeypatch):
    import onnx

    reads = []
    load = onnx.load
    monkeypatch.setattr(onnx, "load", lambda *a, **k: reads.append(a[0]) or load(*a, **k))
    cfg = check_model_file(ROOT / "weights" / "ocr_latin_int8.onnx")
    assert cfg.alphabet == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" and (cfg.img_h, cfg.img_w) == (64, 200)
    assert reads == [str(ROOT / "weights" / "ocr_latin_int8.onnx")]


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_gpu(tiny_ckpt, crops):
    rec = Recognizer.from_checkpoint(tiny_ckpt, device="cuda")
    cpu = Recognizer.from_checkpoint(tiny_ckpt, device="cpu")
    assert [r.text for r in rec(crops)] == [r.text for r in cpu(crops)]


def test_bf16_reads_the_shipped_sample_plates_like_fp32():
    import cv2

    root = Path(__file__).resolve().parents[2]
    crops = [cv2.imread(str(p)) for p in sorted((root / "samples" / "plates").glob("*.jpg"))]
    fp32 = Recognizer.from_checkpoint(root / "weights" / "ocr_latin.pth", device="cpu")(crops)
    bf16 = Recognizer.from_checkpoint(root / "weights" / "ocr_latin.pth", device="cpu", precision="bf16")(crops)
    assert [r.text for r in bf16] == [r.text for r in fp32]
    assert np.allclose([r.confidence for r in bf16], [r.confidence for r in fp32], atol=0.05)


def test_precision_resolution(monkeypatch):
    import common.device as d

    monkeypatch.setattr(d, "cpu_has_fast_bf16", lambda: False)
    assert d.resolve_precision("cpu", "auto") == "fp32" and d.resolve_precision("cuda", "auto") == "fp16"
    monkeypatch.setattr(d, "cpu_has_fast_bf16", lambda: True)
    assert d.resolve_precision("cpu", "auto") == "bf16" and d.resolve_precision("cpu", "fp32") == "fp32"
    with pytest.raises(UserError, match="fp16 needs CUDA"):
        d.resolve_precision("cpu", "fp16")
    with pytest.raises(UserError, match="'int4'"):
        d.resolve_precision("cpu", "int4")


def test_auto_backend_is_onnx_runtime_on_the_cpu(tiny_ckpt, crops):
    auto = Recognizer.from_checkpoint(tiny_ckpt, device="cpu", backend="auto")
    onnx = Recognizer.from_checkpoint(tiny_ckpt, device="cpu", backend="onnx")
    assert auto._run.__qualname__.startswith("_from_onnx")  # the ONNX Runtime session, not the torch model
    assert not Recognizer.from_checkpoint(tiny_ckpt, device="cpu")._run.__qualname__.startswith("_from_onnx")
    assert [r.text for r in auto(crops)] == [r.text for r in onnx(crops)]
    with pytest.raises(UserError, match="backend must be auto, torch or onnx"):
        Recognizer.from_checkpoint(tiny_ckpt, backend="tensorrt")
    with pytest.raises(UserError, match="precision must be one of"):  # checked whichever backend runs
        Recognizer.from_checkpoint(tiny_ckpt, backend="onnx", precision="fp8")


def test_int8_reads_never_depend_on_the_other_crops_of_a_batch(tiny_ckpt, crops):
    """Int8 LSTM inputs are quantised per call: each crop runs alone, so a crop's read is the same in any batch."""
    rec = Recognizer.from_checkpoint(tiny_ckpt, backend="onnx", precision="int8")
    assert Recognizer.from_checkpoint(tiny_ckpt, backend="auto", precision="int8")._run.__qualname__.startswith("_from_onnx")
    alone = rec.probs(crops[:1])[0]
    for others in (crops[1:], crops[1:][::-1]):
        np.testing.assert_array_equal(rec.probs([crops[0], *others])[0], alone)
    assert rec.precision == "int8" and rec.max_batch == 1
    assert Recognizer.from_checkpoint(tiny_ckpt, device="cpu", backend="auto", precision="auto").precision == "int8"
    assert Recognizer.from_checkpoint(tiny_ckpt, device="cpu", backend="onnx").precision == "fp32"
    assert Recognizer.from_checkpoint(tiny_ckpt, device="cpu", backend="torch", precision="auto").precision in (
        "fp32", "bf16")
    with pytest.raises(UserError, match="precision=int8 .* runs on ONNX Runtime"):
        Recognizer.from_checkpoint(tiny_ckpt, backend="torch", precision="int8")


def test_a_precision_asked_for_chooses_the_backend_that_runs_it(tiny_ckpt, tmp_path):
    """bf16 asked for on the CPU ran ONNX Runtime's fp32 without a word (`auto` took ONNX Runtime, which ignored it):
    `auto` now takes torch where bf16 or fp16 is asked, and ONNX Runtime asked to run them is an error line."""
    from ocr.recognizer import resolve_backend

    rec = Recognizer.from_checkpoint(tiny_ckpt, device="cpu", backend="auto", precision="bf16")
    assert rec.precision == "bf16" and not rec._run.__qualname__.startswith("_from_onnx")
    pth, onnx = Path("m.pth"), Path("m.onnx")
    assert [resolve_backend(pth, "auto", p, device="cpu") for p in ("auto", "fp32", "int8", "bf16")] == [
        "onnx", "onnx", "onnx", "torch"]
    assert resolve_backend(pth, "auto", "fp32", compiled=True, device="cpu") == "torch"
    assert resolve_backend(pth, "auto", "int8", compiled=True, device="cpu") == "torch"  # torchao's int8
    assert resolve_backend(onnx, "torch", "fp32", device="cpu") == "onnx"  # an ONNX model is ONNX Runtime's
    for path, backend, precision, says in [
        (pth, "onnx", "bf16", "precision=bf16 runs on the torch backend, not on ONNX Runtime (fp32 or int8): "
                              "backend=torch, or precision fp32, int8 or auto"),
        (onnx, "auto", "bf16", "precision=bf16: m.onnx is an ONNX model, which ONNX Runtime runs in fp32 or int8"),
        (pth, "auto", "fp16", "precision=fp16 needs CUDA; use bf16 or fp32 on the CPU"),
        (pth, "torch", "int8", "precision=int8 (the LSTM weights in int8) runs on ONNX Runtime"),
        (onnx, "auto", "fp32", None),
    ]:
        if says is None:
            assert resolve_backend(path, backend, precision, device="cpu") == "onnx"
            continue
        with pytest.raises(UserError) as exc:
            resolve_backend(path, backend, precision, device="cpu")
        assert str(exc.value).startswith(says)
    with pytest.raises(UserError, match=r"^precision=bf16 runs on the torch backend"):
        Recognizer.from_checkpoint(tiny_ckpt, device="cpu", backend="onnx", precision="bf16")



def test_on_a_gpu_the_backend_is_torch_unless_int8_is_asked_for(monkeypatch):
    from ocr import recognizer

    monkeypatch.setattr(recognizer, "resolve_device", lambda device: "cuda:0")
    assert [recognizer.resolve_backend(Path("m.pth"), "auto", p) for p in ("auto", "fp32", "fp16", "bf16", "int8")] == [
        "torch", "torch", "torch", "torch", "onnx"]


def test_compiled_int8_recognizer_reads_the_sample_plates_like_fp32():
    """`compiled=True, precision="int8"` (torch.compile with int8 convolutions calibrated on synthetic plates):
    the shipped sample plates read as in fp32, batched and alone (each batch is padded to a compiled size)."""
    pytest.importorskip("torchao", reason="int8 PyTorch inference needs torchao (the fast extra)")
    import cv2

    root = Path(__file__).resolve().parents[2]
    crops = [cv2.imread(str(p)) for p in sorted((root / "samples" / "plates").glob("*.jpg"))]
    fp32 = Recognizer.from_checkpoint(root / "weights" / "ocr_latin.pth", device="cpu")(crops)
    rec = Recognizer.from_checkpoint(root / "weights" / "ocr_latin.pth", device="cpu", precision="int8",
                                     compiled=True)
    assert rec.precision == "int8 compiled"
    batched = rec(crops)
    assert len(crops) >= 4 and [r.text for r in batched] == [r.text for r in fp32]
    assert rec([crops[0]])[0].text == fp32[0].text
    assert np.allclose([r.confidence for r in batched], [r.confidence for r in fp32], atol=0.05)


def test_compiled_refuses_onnx(tmp_path):
    with pytest.raises(UserError, match="compiled=True"):
        Recognizer.from_checkpoint("weights/ocr_latin_int8.onnx", backend="onnx", compiled=True)


def test_onnx_models_made_at_load_leave_no_temporary_files(tiny_ckpt, crops, tmp_path, monkeypatch):
    """A checkpoint run on ONNX Runtime is exported (and its LSTM quantised) for the session only: nothing is
    left in the temporary directory, which long-running services would otherwise fill (~9-20 MB per load)."""
    import tempfile

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    for precision in ("fp32", "int8"):
        rec = Recognizer.from_checkpoint(tiny_ckpt, device="cpu", backend="onnx", precision=precision)
        assert rec.precision == precision and len(rec(crops)) == len(crops)  # the session still runs
    assert list(tmp.iterdir()) == []


def test_a_compiled_onnx_file_and_failures_to_compile_load_or_quantise_are_one_line(tiny_ckpt, tmp_path, monkeypatch):
    import onnxruntime as ort

    import ocr.accel
    import ocr.export
    from ocr.checkpoint import load_checkpoint, model_from_checkpoint

    onnx_file = ocr.export.export_onnx(model_from_checkpoint(load_checkpoint(tiny_ckpt)), tmp_path / "tiny.onnx")
    with pytest.raises(UserError) as exc:
        Recognizer.from_checkpoint(onnx_file, backend="torch", compiled=True)
    assert str(exc.value) == "compiled=True compiles a .pth checkpoint on the torch backend, not tiny.onnx on torch"

    def fails(*args, **kwargs):
        raise RuntimeError("  no C++ compiler found\n  (the details)")

    monkeypatch.setattr(ocr.accel, "compile_cpu", fails)
    with pytest.raises(UserError) as exc:
        Recognizer.from_checkpoint(tiny_ckpt, device="cpu", compiled=True)
    assert str(exc.value) == "cannot compile the recognizer (fp32): no C++ compiler found"
    monkeypatch.setattr(ocr.export, "quantize_lstm", fails)
    with pytest.raises(UserError) as exc:
        Recognizer.from_checkpoint(onnx_file, backend="onnx", precision="int8")
    assert str(exc.value) == f"cannot quantise the LSTM of {onnx_file}:   no C++ compiler found"
    monkeypatch.setattr(ort, "InferenceSession", fails)
    with pytest.raises(UserError) as exc:
        Recognizer.from_checkpoint(onnx_file, backend="onnx")
    assert str(exc.value) == f"cannot load ONNX model {onnx_file}:   no C++ compiler found"


def test_an_empty_batch_and_the_layout_a_crop_is_read_in(tiny_ckpt):
    rec = Recognizer.from_checkpoint(tiny_ckpt, device="cpu")
    assert rec.probs([]).shape == (0, 50, 37) and rec([]) == []
    assert rec.source == str(tiny_ckpt) and rec.best_seq_acc == 0.5
    assert rec.rows(np.zeros((40, 20, 3), np.uint8)) == 1  # two_row_aspect 0: every crop is one row
    from ocr.model import ModelConfig

    two = Recognizer(ModelConfig(two_row_aspect=1.5), lambda x: x)
    sizes = ((20, 29), (20, 30), (20, 40), (40, 20))
    assert [two.rows(np.zeros((h, w, 3), np.uint8)) for h, w in sizes] == [2, 1, 1, 2]
