"""Where the fastest CPU variant's time goes: the int8 convolutions against the LSTM and head (bf16 where native).

    python bench/ocr_breakdown.py [--weights weights/ocr_latin_seed.pth] [--json OUT]

Times, at batch 32 (median ms per plate over interleaved rounds, as bench/ocr_speed.py), the whole model
compiled with int8 convolutions (ocr/accel.py: compile_int8), its convolution stack alone compiled the same way,
and the LSTM and head alone in bf16 autocast on the stack's output shape. It also counts the multiply-accumulates
per plate of each part and prints the rate the convolutions reach, which says how far a CPU's int8 units are
from the time asked for. Needs torchao (the `fast` extra). Run it on an otherwise idle machine.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json

import numpy as np
import torch
from torch import nn

from bench.ocr_speed import model_input, timed
from common.device import cpu_has_fast_bf16
from ocr.accel import calibration_batches, compile_int8
from ocr.checkpoint import load_checkpoint, model_from_checkpoint
from ocr.model import CRNN
from ocr.synth import mix_for, synth_sample


class ConvStack(nn.Module):
    """The CRNN's convolution blocks alone, with the `cfg` that ocr/accel.py reads."""

    def __init__(self, model: CRNN) -> None:
        super().__init__()
        self.cnn, self.cfg = model.cnn, model.cfg

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cnn(x)


def macs_per_plate(model: CRNN) -> dict[str, float]:
    """Multiply-accumulates of one plate: convolutions (from their output sizes) and LSTM + head."""
    conv, x = 0, torch.zeros(1, 3, model.cfg.img_h, model.cfg.img_w)
    with torch.no_grad():
        for layer in model.cnn.modules():
            if isinstance(layer, nn.Conv2d):
                x = layer(x)
                conv += x.numel() * layer.in_channels * layer.kernel_size[0] * layer.kernel_size[1]
            elif isinstance(layer, nn.MaxPool2d):
                x = layer(x)
    steps, rnn = x.shape[-1], model.rnn  # the feature map's width: one LSTM step per column
    lstm = sum(2 * 4 * rnn.hidden_size * ((rnn.input_size if i == 0 else 2 * rnn.hidden_size) + rnn.hidden_size)
               for i in range(rnn.num_layers)) * steps
    head = steps * model.head.in_features * model.head.out_features
    return {"conv": float(conv), "lstm_head": float(lstm + head)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="weights/ocr_latin_seed.pth", type=Path)
    ap.add_argument("--rounds", type=int, default=15)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    model = model_from_checkpoint(load_checkpoint(args.weights))
    rng = np.random.default_rng(0)
    x = model_input([synth_sample(rng, mix_for(model.cfg.alphabet))[0] for _ in range(32)], model.cfg)
    calib = calibration_batches(model.cfg)
    with torch.no_grad():
        seq = model.features(torch.from_numpy(x)).contiguous()

    bf16 = cpu_has_fast_bf16()  # as compile_int8 runs the LSTM: bf16 where the CPU has it natively, else fp32

    @torch.no_grad()
    def lstm_head(_: np.ndarray) -> torch.Tensor:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            return model.head(model.rnn(seq)[0])

    variants = {"whole model, compiled int8": compile_int8(model, calib),
                "convolutions, compiled int8": compile_int8(ConvStack(model), calib),
                f"LSTM + head, {'bf16 autocast' if bf16 else 'fp32'}": lstm_head}
    ms = timed(variants, x, args.rounds)
    macs = macs_per_plate(model)
    print(f"model: width x{model.cfg.width_mult}, {torch.get_num_threads()} CPU threads; per plate "
          f"{macs['conv'] / 1e9:.2f} GMAC convolutions, {macs['lstm_head'] / 1e9:.2f} GMAC LSTM + head")
    for name, t in ms.items():
        print(f"{name:30s} {t:6.2f} ms/plate (batch 32)")
    conv_rate = macs["conv"] / (ms["convolutions, compiled int8"] / 1000) / 1e9
    print(f"convolutions run at {conv_rate:.0f} GMAC/s")
    if args.json:
        args.json.write_text(json.dumps({"ms_per_plate": ms, "macs_per_plate": macs, "conv_gmac_per_s": conv_rate},
                                        indent=2))
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
