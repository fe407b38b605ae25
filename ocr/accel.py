"""Fast PyTorch CPU inference of the CRNN: inductor-compiled bf16, and int8 through PT2E quantisation.

Both compile the model once with `torch.compile` (weights frozen and pre-packed for oneDNN; conv, ReLU and
pooling fused). On CPUs with AMX the convolutions then run on the AMX tiles: bf16 in `compile_float`, int8 in
`compile_int8` (per-channel int8 weights, per-tensor uint8 activations calibrated on synthetic plates; the
LSTM stays in bf16). The int8 path needs `torchao` (the `fast` extra). Batches are padded to a few fixed
sizes (BUCKETS), each compiled once when the runner is made (seconds to a minute in all); later calls are fast.
"""
from __future__ import annotations

import copy
import logging
import warnings
from contextlib import contextmanager
from typing import Callable, Iterator, Sequence

import numpy as np
import torch

from common.liveness import beat
from ocr.model import CRNN, ModelConfig

Runner = Callable[[np.ndarray], np.ndarray]  # (B, 3, H, W) float32 batch -> (B, T, C) logits, as Recognizer runs
BUCKETS = (1, 4, 32)  # batch sizes compiled; a batch is padded up to the next one, larger ones run in chunks of 32


def calibration_batches(cfg: ModelConfig, n_calib: int = 256, seed: int = 0, batch: int = 32,
                        real: Sequence[np.ndarray] = ()) -> list[np.ndarray]:
    """`n_calib` plates pre-processed as the recognizer does, in batches: synthetic plates of the model's alphabet,
    then the `real` crops (taking that many of the `n_calib`)."""
    from ocr.process import preprocess_batch
    from ocr.synth import mix_for, synth_sample

    rng = np.random.default_rng(seed)
    mix = mix_for(cfg.alphabet)
    synthetic = [synth_sample(rng, mix)[0] for _ in range(n_calib - len(real))]
    return [preprocess_batch(crops[i:i + batch], cfg.img_h, cfg.img_w, cfg.two_row_aspect)
            for crops in (synthetic, list(real)) for i in range(0, len(crops), batch)]


@contextmanager
def _quiet() -> Iterator[None]:
    """Silence the export and compile chatter (deprecation notes, no-CUDA notices) that is not the user's concern."""
    loggers = [logging.getLogger(n) for n in ("torch.utils._pytree", "torch.utils.cpp_extension")]
    levels = [lg.level for lg in loggers]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        try:
            yield
        finally:
            for lg, level in zip(loggers, levels):
                lg.setLevel(level)


def _freezing_compile(module: torch.nn.Module) -> Callable[[torch.Tensor], torch.Tensor]:
    import torch._inductor.config as inductor_config

    # BN folded into the convs and the weights pre-packed for oneDNN, as constants of the graph. Set process-wide:
    # the int8 lowering passes read the global flag (options={"freezing": True} fails on the quantised graph).
    inductor_config.freezing = True
    return torch.compile(module, dynamic=False)


def _bucket_runner(compiled: Callable[[torch.Tensor], torch.Tensor], bf16: bool, shape: tuple[int, int]) -> Runner:
    @torch.no_grad()
    def run_bucket(x: torch.Tensor) -> torch.Tensor:
        n = len(x)
        size = next(b for b in BUCKETS if b >= n)
        if size > n:
            x = torch.cat([x, x.new_zeros((size - n, *x.shape[1:]))])
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return compiled(x.contiguous(memory_format=torch.channels_last)).float()[:n]

    def run(x: np.ndarray) -> np.ndarray:
        t, top = torch.from_numpy(x), BUCKETS[-1]
        return torch.cat([run_bucket(t[i:i + top]) for i in range(0, len(t), top)]).numpy()

    with _quiet():
        for size in BUCKETS:  # compile every bucket now rather than in the middle of a stream
            beat()  # each a sign of progress: a compile of a minute at a camera's start is no hang (WatchdogSec=)
            run_bucket(torch.zeros((size, 3, shape[0], shape[1])))
    return run


def compile_float(model: CRNN, bf16: bool = True) -> Runner:
    """`model` compiled for the CPU, channels-last, in bf16 autocast or fp32, as a Runner."""
    m = copy.deepcopy(model).eval().to(memory_format=torch.channels_last)
    return _bucket_runner(_freezing_compile(m), bf16, (model.cfg.img_h, model.cfg.img_w))


def compile_int8(model: CRNN, calibration: list[np.ndarray]) -> Runner:
    """`model` with int8 convolutions (PT2E, x86 inductor quantiser), activation ranges calibrated on
    `calibration` batches, compiled for the CPU; the LSTM and head run in bf16 autocast where the CPU has native
    bf16, else in fp32 (oneDNN has no bf16 LSTM on an AVX2 CPU). Without VNNI the activations take 7 bits (the
    quantiser's `reduce_range`): full-range int8 saturates there and misread 5 of 29 held-out Argentinian crops
    (fp32: 2) on an AVX2 EPYC."""
    from common.device import cpu_has_fast_bf16, cpu_has_vnni

    try:
        with _quiet():
            from torchao.quantization.pt2e.quantize_pt2e import convert_pt2e, prepare_pt2e
            from torchao.quantization.pt2e.quantizer.x86_inductor_quantizer import (
                X86InductorQuantizer, get_default_x86_inductor_quantization_config)
    except ImportError as exc:
        raise ImportError("int8 PyTorch inference needs torchao: pip install -e '.[fast]'") from exc
    m = copy.deepcopy(model).eval()
    example = torch.from_numpy(calibration[0])
    with _quiet():
        graph = torch.export.export(m, (example,), dynamic_shapes={"x": {0: torch.export.Dim("batch", min=1)}})
        quantizer = X86InductorQuantizer()
        quantizer.set_global(get_default_x86_inductor_quantization_config(reduce_range=not cpu_has_vnni()))
        prepared = prepare_pt2e(graph.module(), quantizer)
        with torch.no_grad():
            for b in calibration:
                beat()
                prepared(torch.from_numpy(b))
        converted = convert_pt2e(prepared)
    return _bucket_runner(_freezing_compile(converted), cpu_has_fast_bf16(), (model.cfg.img_h, model.cfg.img_w))


def compile_cpu(model: CRNN, precision: str) -> Runner:
    """`model` compiled for the CPU in `precision` (fp32, bf16 or int8, the last calibrated on synthetic plates)."""
    if precision == "int8":
        return compile_int8(model, calibration_batches(model.cfg))
    return compile_float(model, bf16=precision == "bf16")
