"""OCR training speed: samples per second of the training loop's own step, per model width and precision.

    python bench/train_speed.py [--widths 0.5,1.0] [--steps 6] [--rounds 3] [--device cpu|cuda] [--distill]
        [--freeze N] [--json OUT]

Each variant runs `ocr.train.train_one_epoch` (forward, CTC loss, backward, clipping, Adam) on batches of 32
synthetic latin plates, already decoded and pre-processed, so data loading is not timed. Variants on the CPU: fp32,
and bf16 autocast where the CPU has native bf16 (AMX or AVX512-BF16; the training default there, `precision: auto`);
on CUDA (`--device cuda`): fp32, and fp16 autocast with gradient scaling (the training default there).
`--freeze N` adds each variant with its first N conv blocks frozen (a fine-tune's `freeze_cnn`).
`--distill` adds each variant with a frozen teacher of its own size (a fine-tune's `distill_from`: one more forward
pass per step). They are timed in interleaved rounds, so that a shared machine's slow and fast spells fall on all of them alike.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import statistics
import time
from dataclasses import replace

import numpy as np
import torch

from common.cli import numbers
from common.device import autocast_for, cpu_has_fast_bf16, cpu_name, resolve_device
from ocr.alphabet import Codec, resolve_alphabet
from ocr.config import OCRConfig
from ocr.data import collate
from ocr.model import CRNN, ModelConfig
from ocr.process import preprocess_batch
from ocr.synth import mix_for, synth_sample
from ocr.train import train_one_epoch


def batches(alphabet: str, n: int, batch: int = 32) -> list[tuple]:
    """`n` training batches (images, targets, lengths, texts) of synthetic plates."""
    rng = np.random.default_rng(0)
    codec, mix = Codec(alphabet), mix_for(alphabet)
    out = []
    for _ in range(n):
        samples = [synth_sample(rng, mix) for _ in range(batch)]
        images = preprocess_batch([img for img, _ in samples], 64, 200)
        out.append(collate([(torch.from_numpy(x), torch.tensor(codec.encode(text), dtype=torch.long), text)
                            for x, (_, text) in zip(images, samples)]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--widths", default=[0.5, 1.0], type=numbers(), help="width multipliers (1.0 = the seed size)")
    ap.add_argument("--steps", type=int, default=6, help="training steps per timed round")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--device", default="cpu", help="cpu, cuda (cuda:0) or auto")
    ap.add_argument("--distill", action="store_true", help="also time each variant with a teacher (distill_from)")
    ap.add_argument("--freeze", type=int, default=0, choices=range(7), metavar="N",
                    help="also time each variant with its first N (0-6) conv blocks frozen")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    device = torch.device(resolve_device("cuda:0" if args.device == "cuda" else args.device))
    alphabet = resolve_alphabet("latin")
    data = batches(alphabet, args.steps)
    cfg = OCRConfig(precision="fp32")
    if device.type == "cuda":
        precisions = ["fp32", "fp16"]
    else:
        precisions = ["fp32"] + (["bf16"] if cpu_has_fast_bf16() else [])
    variants = {}
    for w in args.widths:
        for p in precisions:
            torch.manual_seed(0)
            model = CRNN(ModelConfig(alphabet=alphabet, width_mult=w)).to(device, memory_format=torch.channels_last)
            opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
            ctx, scaled = autocast_for(device.type, p)
            scaler = torch.amp.GradScaler(device.type, enabled=scaled)
            variants[f"width x{w} {p}"] = (model, opt, ctx, scaler, None, 0)
            if args.freeze:
                torch.manual_seed(0)
                frozen = CRNN(model.cfg).to(device, memory_format=torch.channels_last)
                frozen.cnn[:args.freeze].requires_grad_(False)
                frozen_opt = torch.optim.Adam(frozen.parameters(), lr=cfg.lr)
                variants[f"width x{w} {p} frozen {args.freeze}"] = (frozen, frozen_opt, ctx, scaler, None, args.freeze)
            if args.distill:
                teacher = CRNN(model.cfg).to(device, memory_format=torch.channels_last).eval().requires_grad_(False)
                variants[f"width x{w} {p} +teacher"] = (model, opt, ctx, scaler, teacher, 0)

    def run(name: str, steps: list[tuple]) -> float:
        model, opt, ctx, scaler, teacher, freeze = variants[name]
        step_cfg = replace(cfg, freeze_cnn=freeze)
        t0 = time.perf_counter()
        train_one_epoch(model, steps, opt, scaler, device, ctx, step_cfg, 1, None, teacher)  # .item() waits for the GPU
        return sum(len(b[3]) for b in steps) / (time.perf_counter() - t0)

    for name in variants:
        run(name, data[:1])  # warm-up
    rates: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(args.rounds):
        for name in variants:
            rates[name].append(run(name, data))
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else f"{torch.get_num_threads()} CPU threads of a {cpu_name()}")
    print(f"{where}, batch 32, {args.steps} steps x {args.rounds} rounds")
    results = {}
    for name, r in rates.items():
        results[name] = {"samples_per_s": statistics.median(r), "min": min(r), "max": max(r)}
        print(f"{name:29s} {statistics.median(r):7.1f} samples/s (rounds {min(r):.1f}-{max(r):.1f})")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
