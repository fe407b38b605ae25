"""Export a checkpoint to TorchScript or ONNX (dynamic batch), and check the decoded strings match.

    python ocr/export.py --weights weights/ocr_latin.pth --format onnx [--out FILE]
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


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True, type=Path)
    ap.add_argument("--format", choices=("torchscript", "onnx"), default="onnx")
    ap.add_argument("--out", type=Path)
    args = ap.parse_args(argv)
    try:
        ckpt = load_checkpoint(args.weights)
        model = model_from_checkpoint(ckpt)
        if args.format == "onnx":
            out = export_onnx(model, args.out or args.weights.with_suffix(".onnx"), tuple(ckpt.get("patterns", ())))
        else:
            out = export_torchscript(model, args.out or args.weights.with_suffix(".torchscript.pt"))
    except UserError as exc:
        logger.error(f"error: {exc}")
        return 2
    logger.info(f"exported {args.weights} -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
