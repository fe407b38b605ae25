"""Average the weights of two OCR checkpoints of one lineage (a "model soup"), to compare it on validation.

    python bench/ocr_soup.py --a weights/ocr_latin.pth --b runs/ocr_latin_ft18/checkpoints/last.pth --b-ema \
        --out /tmp/soup/s18last.pth
    python ocr/export.py --weights /tmp/soup/s18last.pth --format onnx --int8 --calib ...   # as the shipped export
    python -m pipeline.evaluate --labels data_gen/scenes_val/labels.csv ocr_weights=/tmp/soup/s18last.pth

Both models must share the architecture; averaging only makes sense for fine-tunes of one parent (here model 13
and its fine-tune ft18). The result keeps `--a`'s metadata (config, patterns) with the averaged weights; BN running
statistics are averaged too. `--b-ema` takes `--b`'s moving-average weights (a run's last.pth).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse

import torch

from common.errors import UserError
from ocr.checkpoint import load_checkpoint
from ocr.export import export_slim, with_ema_weights


def soup(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor], w: float) -> dict[str, torch.Tensor]:
    """(1 - w) * a + w * b for floating tensors; integer buffers (BN's batch count) are taken from `a`."""
    if a.keys() != b.keys() or any(a[k].shape != b[k].shape for k in a):
        raise UserError("the two checkpoints have different architectures")
    return {k: ((1 - w) * v + w * b[k].to(v.dtype)) if v.is_floating_point() else v for k, v in a.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--a", required=True, type=Path)
    ap.add_argument("--b", required=True, type=Path)
    ap.add_argument("--b-ema", action="store_true", help="use --b's moving-average weights")
    ap.add_argument("--w", type=float, default=0.5, help="weight of --b")
    ap.add_argument("--out", required=True, type=Path)
    args = ap.parse_args(argv)
    a, b = load_checkpoint(args.a), load_checkpoint(args.b)
    if args.b_ema:
        b = with_ema_weights(b)
    out = {k: v for k, v in a.items() if k in ("model_config", "preprocess", "config", "patterns", "epoch")}
    out["model_state_dict"] = soup(a["model_state_dict"], b["model_state_dict"], args.w)
    print(f"{args.a} x {1 - args.w:g} + {args.b} x {args.w:g} -> {export_slim(out, args.out)}")
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
