"""OCR speed (and accuracy) per backend: median ms per plate at batch 1 and batch 32.

    python bench/ocr_speed.py --weights weights/ocr_digits.pth [--data DIR] [--only cuda] [--json OUT]

Variants: PyTorch eager fp32 (channels-last), PyTorch bf16 autocast (only where the CPU has native bf16),
PyTorch compiled (`torch.compile` with frozen weights, ocr/accel.py) in bf16 and with int8 convolutions (PT2E,
needs torchao: the `fast` extra), ONNX Runtime fp32, ONNX Runtime static int8 (the convolutions and the head in
QDQ int8, calibrated on synthetic plates; batched), ONNX Runtime int8 (that, with int8 LSTM weights too, as
`ocr/export.py --int8` writes it and the pipeline runs it on the CPU: each crop alone), ONNX Runtime with int8 LSTM
weights only (dynamic quantisation, each crop alone), and CUDA (PyTorch fp32 and fp16) when present; `--only TEXT` builds
and times only the variants whose name holds TEXT (`--only cuda`: the GPU's). With --data, each variant's sequence
accuracy on that dataset is printed too. The variants are timed in interleaved rounds (one call of each per
round), so that a shared machine's slow and fast spells fall on all of them alike. Run it on an otherwise idle
machine.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import statistics
import tempfile
import time

import numpy as np
import torch

from ocr.checkpoint import load_checkpoint, model_from_checkpoint
from ocr.export import export_onnx, quantize_lstm, quantize_static
from ocr.model import ModelConfig
from ocr.process import preprocess_batch
from ocr.synth import mix_for, synth_sample
from common.device import cpu_has_fast_bf16, cpu_name


def timed(variants: dict, x: np.ndarray, rounds: int) -> dict[str, float]:
    """Median ms per plate of each variant on batch `x`, over `rounds` interleaved rounds (after a warm-up)."""
    for fn in variants.values():
        fn(x)
    times: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            t0 = time.perf_counter()
            fn(x)
            times[name].append((time.perf_counter() - t0) * 1000 / len(x))
    return {name: statistics.median(t) for name, t in times.items()}


def torch_runner(model, device: str, dtype=None):
    model = model.to(device).to(memory_format=torch.channels_last).eval()

    @torch.no_grad()
    def run(x: np.ndarray) -> np.ndarray:
        t = torch.from_numpy(x).to(device).contiguous(memory_format=torch.channels_last)
        if dtype is None:
            out = model(t)
        else:
            with torch.autocast(device, dtype=dtype):
                out = model(t)
        if device == "cuda":
            torch.cuda.synchronize()
        return out.float().cpu().numpy()

    return run


def onnx_runner(path: Path, one_by_one: bool = False):
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    sess = ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    if one_by_one:
        return lambda x: np.concatenate([sess.run(None, {"images": x[i:i + 1]})[0] for i in range(len(x))])
    return lambda x: sess.run(None, {"images": x})[0]


def compiled_runners(model) -> dict:
    """The torch.compile variants this CPU runs fast: bf16 where it has native bf16, int8 where torchao is
    installed (each compiles its batch-size buckets when it is made)."""
    from ocr.accel import calibration_batches, compile_float, compile_int8

    out = {}
    if cpu_has_fast_bf16():
        out["torch compiled bf16 (cpu)"] = compile_float(model, bf16=True)
    try:
        out["torch compiled int8 (cpu)"] = compile_int8(model, calibration_batches(model.cfg))
    except ImportError as exc:
        print(f"compiled int8 skipped: {exc}")
    return out


CPU_VARIANTS = ("torch fp32 (cpu)", "onnxruntime fp32 (cpu)", "torch bf16 autocast (cpu)", "onnxruntime static int8 (cpu)",
                "onnxruntime int8 (cpu)", "torch compiled bf16 (cpu)", "torch compiled int8 (cpu)",
                "onnxruntime int8 LSTM (cpu)")


def cpu_runners(model, tmp: Path, only: str) -> dict:
    """The CPU variants, built only where one the caller keeps (its name holds `only`) needs them: compiling and
    quantising take minutes."""

    def wanted(*names: str) -> bool:
        return any(only in n for n in names)

    if not wanted(*CPU_VARIANTS):
        return {}
    fp32 = export_onnx(model, tmp / "m.onnx")
    variants = {"torch fp32 (cpu)": torch_runner(model, "cpu"), "onnxruntime fp32 (cpu)": onnx_runner(fp32)}
    if cpu_has_fast_bf16():
        variants["torch bf16 autocast (cpu)"] = torch_runner(model, "cpu", torch.bfloat16)
    if wanted("onnxruntime static int8 (cpu)", "onnxruntime int8 (cpu)"):
        try:
            static = quantize_static(model, fp32, tmp / "m.static.onnx", lstm=False)  # convolutions only: batched
            variants["onnxruntime static int8 (cpu)"] = onnx_runner(static)
            int8 = quantize_static(model, fp32, tmp / "m.int8.onnx")  # as ocr/export.py --int8 writes it
            variants["onnxruntime int8 (cpu)"] = onnx_runner(int8, one_by_one=True)
        except Exception as exc:  # quantisation support differs across onnxruntime versions
            print(f"int8 quantisation skipped: {exc}")
    if wanted("torch compiled bf16 (cpu)", "torch compiled int8 (cpu)"):
        variants.update(compiled_runners(model))
    lstm8 = quantize_lstm(fp32, tmp / "m.lstm8.onnx")
    variants["onnxruntime int8 LSTM (cpu)"] = onnx_runner(lstm8, one_by_one=True)
    return variants


def model_input(crops: list[np.ndarray], cfg: ModelConfig) -> np.ndarray:
    """Crops preprocessed as the model was trained (its input size and two-row layout)."""
    return preprocess_batch(crops, cfg.img_h, cfg.img_w, cfg.two_row_aspect)


def accuracy(run, data: Path, cfg: ModelConfig) -> float:
    """Greedy sequence accuracy of `run` (a batch runner) on a labelled dataset, preprocessed as `cfg` says."""
    from ocr.data import load_crop, read_labels
    from ocr.decode import greedy_decode, softmax

    samples = read_labels(data)
    ok = 0
    for i in range(0, len(samples), 32):
        chunk = samples[i:i + 32]
        probs = softmax(run(model_input([load_crop(s) for s in chunk], cfg)))
        ok += sum(greedy_decode(p, cfg.alphabet).text == s.text for p, s in zip(probs, chunk))
    return ok / len(samples)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="weights/ocr_digits.pth", type=Path)
    ap.add_argument("--width-mult", type=float, help="time an untrained model of this width instead")
    ap.add_argument("--data", type=Path, help="labelled dataset for per-variant accuracy")
    ap.add_argument("--repeats", type=int, default=10)
    ap.add_argument("--only", default="", help="only the variants whose name holds this (e.g. cuda, onnxruntime)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if "cuda" in args.only and not torch.cuda.is_available():
        raise SystemExit("error: --only cuda, but CUDA is not available")
    ckpt = load_checkpoint(args.weights)
    if args.width_mult:
        ckpt["model_config"]["width_mult"] = args.width_mult
        from ocr.model import CRNN

        model = CRNN(ModelConfig(**ckpt["model_config"])).eval()
    else:
        model = model_from_checkpoint(ckpt)
    rng = np.random.default_rng(0)
    mix = mix_for(model.cfg.alphabet)
    crops = [synth_sample(rng, mix)[0] for _ in range(64)]
    cfg = model.cfg
    x32, x1 = model_input(crops[:32], cfg), model_input(crops[:1], cfg)
    with tempfile.TemporaryDirectory(prefix="ocr_bench_") as tmp_dir:  # deleted at the end
        tmp = Path(tmp_dir)
        variants = cpu_runners(model, tmp, args.only)
        if torch.cuda.is_available():
            import copy

            gpu = copy.deepcopy(model)
            variants["torch fp32 (cuda)"] = torch_runner(gpu, "cuda")
            variants["torch fp16 (cuda)"] = torch_runner(gpu, "cuda", torch.float16)
        variants = {name: run for name, run in variants.items() if args.only in name}
        if not variants:
            raise SystemExit(f"error: no variant's name holds --only {args.only!r}")
        print(f"model: width x{cfg.width_mult}, {len(cfg.alphabet) + 1} classes, {torch.get_num_threads()} CPU threads "
              f"of a {cpu_name()}")
        print(f"{'variant':30s} {'batch 1 ms':>11s} {'batch 32 ms/plate':>18s}" + ("   seq acc" if args.data else ""))
        b1, b32 = timed(variants, x1, args.repeats), timed(variants, x32, max(3, args.repeats // 2))
        results = {}
        for name, run in variants.items():
            r = {"batch1_ms": b1[name], "batch32_ms_per_plate": b32[name]}
            if args.data:
                r["seq_acc"] = accuracy(run, args.data, cfg)
            results[name] = r
            print(f"{name:30s} {r['batch1_ms']:11.2f} {r['batch32_ms_per_plate']:18.2f}"
                  + (f"   {r['seq_acc'] * 100:6.2f}%" if args.data else ""))
        if args.json:
            args.json.write_text(json.dumps(results, indent=2))
        return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
