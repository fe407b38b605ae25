"""Export a checkpoint: TorchScript or ONNX (dynamic batch), or a slim `.pth` for shipping.

    python ocr/export.py --weights weights/ocr_latin.pth --format onnx [--int8-lstm | --int8] [--out FILE]
    python ocr/export.py --weights runs/ocr_latin/checkpoints/best_model.pth --format pth --out weights/ocr_latin.pth
    python ocr/export.py --weights runs/ocr_latin/checkpoints/last.pth --ema --format pth --out weights/ocr_latin.pth

`--int8-lstm`: the LSTM weights in int8 (dynamic quantisation, the same reads as fp32); `--int8`: the whole network
in int8 (static, calibrated on synthetic plates; ~2x faster on AVX-512 VNNI CPUs, a little less accurate).
`pth` keeps the model weights, its config, patterns, epoch, best accuracy and the run config, and drops the
optimizer state (a third of the size). `--ema` takes the moving-average weights of a run's last.pth (the last
epoch's average, where best_model.pth holds the average of the epoch with the best validation accuracy).
"""
from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import argparse
import json
import warnings
from pathlib import Path

import torch

from common.errors import UserError
from ocr.checkpoint import load_checkpoint, model_from_checkpoint
from ocr.model import CRNN


def _example(model: CRNN, batch: int = 2) -> torch.Tensor:
    return torch.zeros(batch, 3, model.cfg.img_h, model.cfg.img_w)


def export_torchscript(model: CRNN, out: Path) -> Path:
    """Traced TorchScript module; the model config travels as an extra file `model_config.json`."""
    model = model.eval().cpu()
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(model, _example(model), check_trace=False)
    extra = {"model_config.json": json.dumps({k: getattr(model.cfg, k) for k in model.cfg.__dataclass_fields__})}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch marks TorchScript deprecated; the format is asked for
        torch.jit.save(traced, str(out), _extra_files=extra)
    return out


def export_onnx(model: CRNN, out: Path, patterns: tuple[str, ...] = ()) -> Path:
    """ONNX with a dynamic batch axis; model config and patterns in the metadata."""
    import onnx

    model = model.eval().cpu()
    out.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, (_example(model),), str(out), input_names=["images"], output_names=["logits"],
                          dynamic_axes={"images": {0: "batch"}, "logits": {0: "batch"}}, opset_version=17,
                          dynamo=False)
    proto = onnx.load(str(out))
    meta = {"model_config": json.dumps({k: getattr(model.cfg, k) for k in model.cfg.__dataclass_fields__}),
            "patterns": json.dumps(list(patterns))}
    for k, v in meta.items():
        entry = proto.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.save(proto, str(out))
    return out


def quantize_lstm(src: Path, out: Path) -> Path:
    """`src` (an exported ONNX model) with its LSTM weights in int8: ONNX Runtime's dynamic quantisation (the
    LSTM inputs are quantised on the fly, per call; the convolutions stay fp32). Metadata is kept."""
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR  # its advice to pre-process concerns static quantisation
    try:
        quantize_dynamic(str(src), str(out), op_types_to_quantize=["LSTM"], weight_type=QuantType.QInt8)
    finally:
        root.setLevel(level)
    return out


def quantize_static(model: CRNN, src: Path, out: Path, n_calib: int = 256, seed: int = 0) -> Path:
    """`src` (the ONNX export of `model`) as a static int8 model, its activation ranges calibrated on `n_calib`
    synthetic plates of the model's alphabet, pre-processed as the recognizer does."""
    from common.quantize import quantize_static_int8
    from ocr.accel import calibration_batches

    batches = calibration_batches(model.cfg, n_calib, seed)
    return quantize_static_int8(src, out, batches)


def with_ema_weights(ckpt: dict) -> dict:
    """`ckpt` (a run's last.pth) with its moving-average weights (`ema_state_dict`) as the model's weights."""
    ema = ckpt.get("ema_state_dict")
    if not ema:
        raise UserError("--ema: this checkpoint has no moving-average weights (a run's last.pth with ema_decay > 0 has)")
    weights = {k.removeprefix("module."): v for k, v in ema.items() if k != "n_averaged"}
    return {**ckpt, "model_state_dict": weights}


def export_slim(ckpt: dict, out: Path) -> Path:
    from ocr.checkpoint import save_checkpoint

    keep = {k: ckpt[k] for k in ("epoch", "best_seq_acc", "config", "patterns", "val_metrics") if k in ckpt}
    save_checkpoint(out, model_from_checkpoint(ckpt), **keep)
    return out


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, type=Path)
    ap.add_argument("--format", choices=("torchscript", "onnx", "pth"), default="onnx")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--int8-lstm", action="store_true", help="onnx: the LSTM weights in int8 (faster on the CPU)")
    ap.add_argument("--int8", action="store_true", help="onnx: the whole network in static int8 (fastest on the CPU)")
    ap.add_argument("--ema", action="store_true",
                    help="export the moving-average weights of a run's last.pth (training with ema_decay > 0)")
    args = ap.parse_args(argv)
    from common.cli import setup_logging

    setup_logging()
    try:
        ckpt = load_checkpoint(args.weights)
        if args.ema:
            ckpt = with_ema_weights(ckpt)
        model = model_from_checkpoint(ckpt)
        if args.format == "onnx":
            out = export_onnx(model, args.out or args.weights.with_suffix(".onnx"), tuple(ckpt.get("patterns", ())))
            if args.int8_lstm and args.int8:
                raise UserError("--int8-lstm and --int8 exclude each other")
            if args.int8_lstm:
                out = quantize_lstm(out, out)
            elif args.int8:
                out = quantize_static(model, out, out)
        elif args.format == "pth":
            if not args.out:
                raise UserError("--format pth needs --out")
            out = export_slim(ckpt, args.out)
        else:
            out = export_torchscript(model, args.out or args.weights.with_suffix(".torchscript.pt"))
    except UserError as exc:
        logger.error(f"error: {exc}")
        return 2
    logger.info(f"exported {args.weights} -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
