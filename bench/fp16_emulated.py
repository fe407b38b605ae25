"""The OCR as a GPU runs it by default (fp16 autocast), emulated on the CPU, against fp32, on labelled sets.

    python bench/fp16_emulated.py --weights weights/ocr_latin.pth [--ensemble weights/ocr_latin_m16.pth] \
        --data ../shared/data/ar_crops --split-file configs/splits/real_crops_val.csv --split holdout

On CUDA, `ocr_precision: auto` runs the recognizer in fp16 autocast: convolutions, the LSTM and the head take
fp16 inputs and weights, add up in fp32 (tensor cores) and hand on fp16 outputs. No session had a GPU, so this
emulates that arithmetic on the CPU: the convolutions and the head in the CPU's fp16 autocast (fp16 operands,
fp32 sums), and the LSTM, which the CPU cannot run in fp16, step by step in fp32 with its weights, its inputs and
its hidden and cell states rounded to fp16 at each step. It is an estimate of a GPU's reads, not a GPU's figure
(`bench/cuda.sh` measures those); the rounding is the GPU's, the order of the sums is not.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import json  # noqa: E402
from typing import Any  # noqa: E402

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

from common.cli import run_main  # noqa: E402
from ocr.checkpoint import load_checkpoint, model_from_checkpoint  # noqa: E402
from ocr.ensemble import EnsembleRecognizer, load_recognizer  # noqa: E402
from ocr.ensemble import add_arguments as add_ensemble_arguments  # noqa: E402
from ocr.evaluate import run_eval  # noqa: E402
from ocr.model import CRNN  # noqa: E402
from ocr.recognizer import Recognizer  # noqa: E402


def _h(t: torch.Tensor) -> torch.Tensor:
    """`t` rounded to fp16 and back to fp32."""
    return t.half().float()


def lstm_fp16(rnn: nn.LSTM, x: torch.Tensor) -> torch.Tensor:
    """A bidirectional, batch-first `rnn` run on `x` (B x T x F) with fp16 operands and states, fp32 sums."""
    out = _h(x)
    for layer in range(rnn.num_layers):
        dirs = []
        for d, sfx in enumerate(("", "_reverse")):
            w_ih = _h(getattr(rnn, f"weight_ih_l{layer}{sfx}"))
            w_hh = _h(getattr(rnn, f"weight_hh_l{layer}{sfx}"))
            bias = _h(getattr(rnn, f"bias_ih_l{layer}{sfx}")) + _h(getattr(rnn, f"bias_hh_l{layer}{sfx}"))
            b, t = out.shape[:2]
            h = out.new_zeros(b, rnn.hidden_size)
            c = out.new_zeros(b, rnn.hidden_size)
            xw = out @ w_ih.T + bias  # B x T x 4H, fp32 sums of fp16 operands
            steps = range(t - 1, -1, -1) if d else range(t)
            hs = [h] * t
            for s in steps:
                g = xw[:, s] + h @ w_hh.T
                i, f, gg, o = g.chunk(4, dim=1)  # PyTorch's gate order
                c = _h(torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(gg))
                h = _h(torch.sigmoid(o) * torch.tanh(c))
                hs[s] = h
            dirs.append(torch.stack(hs, dim=1))
        out = torch.cat(dirs, dim=2)
    return out


def forward_fp16(model: CRNN, x: torch.Tensor) -> torch.Tensor:
    """`model`'s logits on `x` with a GPU's fp16 autocast arithmetic, emulated (see the module's docstring)."""
    with torch.autocast("cpu", dtype=torch.float16):
        feats = model.features(x)
    seq = lstm_fp16(model.rnn, feats.float())
    with torch.autocast("cpu", dtype=torch.float16):
        return model.head(seq.half()).float()


def emulated(weights: str) -> Recognizer:
    """A recognizer of `weights` on the CPU whose model runs as `forward_fp16` does."""
    ckpt = load_checkpoint(weights)
    model = model_from_checkpoint(ckpt).eval()

    @torch.no_grad()
    def run(x: np.ndarray) -> np.ndarray:
        return forward_fp16(model, torch.from_numpy(x)).numpy()

    rec = Recognizer(model.cfg, run, tuple(ckpt.get("patterns", ())))  # decoded as from_checkpoint decodes
    rec.precision = "fp16 (emulated)"
    return rec


def main(argv: list[str] | None = None) -> int:
    """Read each set in fp32 and emulated fp16; print both and the images they read apart."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", default="weights/ocr_latin.pth")
    add_ensemble_arguments(ap)  # the models read together in each precision
    ap.add_argument("--data", required=True, nargs="+", help="labelled datasets (OCR format)")
    ap.add_argument("--split-file")
    ap.add_argument("--split", default="all")
    ap.add_argument("--json", help="write the figures here")
    args = ap.parse_args(argv)
    torch.set_num_threads(2)
    paths = [args.weights, *args.ensemble]
    fp16 = [emulated(w) for w in paths]
    recs = {"fp32": load_recognizer(paths, args.ensemble_below, device="cpu", backend="torch", precision="fp32"),
            "fp16 (emulated)": fp16[0] if len(fp16) == 1 else EnsembleRecognizer(fp16, args.ensemble_below)}
    out: dict[str, dict[str, Any]] = {}
    for data in args.data:
        res = {k: run_eval(r, data, args.split_file, args.split) for k, r in recs.items()}
        a, b = res["fp32"]["rows"], res["fp16 (emulated)"]["rows"]
        differ = [(x[0], x[1], x[2], round(x[3], 3), y[2], round(y[3], 3)) for x, y in zip(a, b) if x[2] != y[2]]
        print(f"{data} ({args.split}, {len(a)} images):")
        for k, r in res.items():
            print(f"  {k:16s} seq {r['seq_acc']:.2%}  O/0 {r['seq_acc_o0']:.2%}  char {r['char_acc']:.2%}")
        for row in differ:
            print(f"  differ: {row[0]} label {row[1]}: fp32 {row[2]} ({row[3]}), fp16 {row[4]} ({row[5]})")
        out[data] = {k: {m: r[m] for m in ("n", "seq_acc", "seq_acc_o0", "char_acc")} for k, r in res.items()}
        out[data]["differ"] = differ  # the images the two read apart
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
