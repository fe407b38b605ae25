"""ocr/accel.py without compiling: the bucketed runner's padding, chunking, layout and autocast, the calibration
batches, and what each precision compiles (the compiled models themselves: test_recognizer.py)."""
from types import SimpleNamespace

import numpy as np
import pytest
import torch

import ocr.accel as accel
from ocr.model import CRNN, ModelConfig

TINY = ModelConfig(alphabet="0123456789", width_mult=0.125, hidden=16)


class Compiled:
    """A stand-in for a compiled model: each row's output is its input's mean, in bf16 under autocast as a compiled
    model's is; records each call's batch size, layout and autocast."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, bool, bool]] = []

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        bf16 = torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
        self.calls.append((len(x), x.is_contiguous(memory_format=torch.channels_last), bf16))
        out = x.mean(dim=(1, 2, 3)).reshape(-1, 1, 1).expand(-1, 2, 3)
        return out.bfloat16() if bf16 else out


@pytest.mark.parametrize("bf16", [True, False])
def test_every_bucket_is_run_once_at_the_start_and_a_batch_is_padded_up_to_the_next(bf16):
    compiled = Compiled()
    run = accel._bucket_runner(compiled, bf16, (4, 6))
    assert compiled.calls == [(1, True, bf16), (4, True, bf16), (32, True, bf16)]  # compiled before any stream
    compiled.calls.clear()
    x = np.arange(3, dtype=np.float32)[:, None, None, None] + np.zeros((3, 3, 4, 6), np.float32)
    out = run(x)
    assert compiled.calls == [(4, True, bf16)] and out.shape == (3, 2, 3) and out.dtype == np.float32
    np.testing.assert_array_equal(out[:, 0, 0], [0, 1, 2])  # the padding's rows cut off


def test_a_compile_of_a_minute_at_the_start_is_no_hang(never_stuck):
    """`ocr_compile=true` compiles each bucket as the models load, 30-60 s at a camera's start in all: each bucket is
    a sign of progress, or systemd's watchdog (WatchdogSec=) would take the compile for a hang."""
    import time

    class Slow(Compiled):
        def __call__(self, x):
            time.sleep(0.35)  # a bucket's compile
            return super().__call__(x)

    t, longest = never_stuck(lambda: accel._bucket_runner(Slow(), False, (4, 6)), 1.2, 0.5)
    t.join(10)
    assert longest == 0 and not t.is_alive()


def test_a_batch_larger_than_the_largest_bucket_runs_in_chunks_in_order():
    compiled = Compiled()
    run = accel._bucket_runner(compiled, False, (4, 6))
    compiled.calls.clear()
    x = np.arange(70, dtype=np.float32)[:, None, None, None] + np.zeros((70, 3, 4, 6), np.float32)
    out = run(x)
    assert [c[0] for c in compiled.calls] == [32, 32, 32]  # 32, 32, then 6 padded to 32
    np.testing.assert_array_equal(out[:, 0, 0], np.arange(70))
    compiled.calls.clear()
    assert run(x[:1]).shape == (1, 2, 3) and [c[0] for c in compiled.calls] == [1]


def test_calibration_batches_are_synthetic_plates_then_the_real_crops_each_in_batches():
    real = [np.full((30, 90, 3), 200, np.uint8)] * 3
    batches = accel.calibration_batches(TINY, n_calib=10, seed=3, batch=4, real=real)
    assert [b.shape for b in batches] == [(4, 3, 64, 200), (3, 3, 64, 200), (3, 3, 64, 200)]  # 7 synthetic, 3 real
    assert all(b.dtype == np.float32 for b in batches)
    again = accel.calibration_batches(TINY, n_calib=10, seed=3, batch=4, real=real)
    other = accel.calibration_batches(TINY, n_calib=10, seed=4, batch=4, real=real)
    assert all(np.array_equal(a, b) for a, b in zip(batches, again))
    assert not np.array_equal(batches[0], other[0]) and np.array_equal(batches[2], other[2])
    assert len(accel.calibration_batches(TINY, n_calib=5)) == 1  # 32 to a batch, none real


@pytest.mark.parametrize("precision, made", [("int8", "int8"), ("bf16", True), ("fp32", False)])
def test_each_precision_compiles_its_own_way(monkeypatch, precision, made):
    got = []
    monkeypatch.setattr(accel, "calibration_batches", lambda cfg: ["calibration of " + cfg.alphabet])
    monkeypatch.setattr(accel, "compile_int8", lambda model, calibration: got.append(("int8", calibration)))
    monkeypatch.setattr(accel, "compile_float", lambda model, bf16: got.append(bf16))
    accel.compile_cpu(CRNN(TINY), precision)
    assert got == [("int8", ["calibration of 0123456789"]) if made == "int8" else made]


def test_a_model_is_compiled_frozen_for_its_one_input_shape(monkeypatch):
    import torch._inductor.config as inductor_config

    asked = {}
    monkeypatch.setattr(inductor_config, "freezing", False)
    monkeypatch.setattr(torch, "compile", lambda module, **kw: asked.update(kw) or module)
    accel._freezing_compile(torch.nn.Identity())
    assert asked == {"dynamic": False} and inductor_config.freezing is True


def test_int8_on_a_cpu_without_vnni_or_native_bf16_takes_7_bit_activations_and_an_fp32_lstm(monkeypatch):
    """What `compile_int8` asks of PT2E, each step a stand-in (the export alone takes 15-20 s; the compiled int8
    recognizer is tested end to end in test_recognizer.py): the export's batch dimension free from 1, the quantiser's
    configuration, every calibration batch through the prepared model, then the runner."""
    pytest.importorskip("torchao", reason="int8 PyTorch inference needs torchao (the fast extra)")
    import torchao.quantization.pt2e.quantize_pt2e as pt2e
    import torchao.quantization.pt2e.quantizer.x86_inductor_quantizer as x86

    import common.device

    asked: dict = {"calibrated": []}
    model = CRNN(TINY).eval()

    def export(m, args, dynamic_shapes):
        (dim,) = dynamic_shapes["x"].values()
        asked.update(example=tuple(args[0].shape), batch_dims=list(dynamic_shapes["x"]), batch_min=dim.min)
        return SimpleNamespace(module=lambda: m)

    monkeypatch.setattr(torch.export, "export", export)
    monkeypatch.setattr(x86, "X86InductorQuantizer", lambda: SimpleNamespace(set_global=lambda c: asked.update(set=c)))
    monkeypatch.setattr(x86, "get_default_x86_inductor_quantization_config", lambda **kw: asked.update(kw) or "cfg")
    monkeypatch.setattr(pt2e, "prepare_pt2e", lambda m, q: lambda x: asked["calibrated"].append(len(x)))
    monkeypatch.setattr(pt2e, "convert_pt2e", lambda prepared: "converted")
    monkeypatch.setattr(common.device, "cpu_has_vnni", lambda: False)  # an AVX2 CPU: 7 bits, fp32 LSTM
    monkeypatch.setattr(common.device, "cpu_has_fast_bf16", lambda: False)
    monkeypatch.setattr(accel, "_freezing_compile", lambda module: f"compiled {module}")
    monkeypatch.setattr(accel, "_bucket_runner", lambda compiled, bf16, shape: asked.update(
        runner=(compiled, bf16, shape)))
    accel.compile_int8(model, [np.zeros((n, 3, 64, 200), np.float32) for n in (2, 5)])
    assert asked == {"example": (2, 3, 64, 200), "batch_dims": [0], "batch_min": 1, "reduce_range": True,
                     "set": "cfg", "calibrated": [2, 5], "runner": ("compiled converted", False, (64, 200))}
