"""Export a checkpoint: TorchScript or ONNX (dynamic batch), or a slim `.pth` for shipping.

    python ocr/export.py --weights weights/ocr_latin.pth --format onnx [--int8-lstm | --int8] [--out FILE]
    python ocr/export.py --weights weights/ocr_latin.pth --format onnx --int8 --calib ../shared/data/us_crops \
        ../shared/data/ar_crops --exclude configs/splits/real_crops_holdout.csv configs/splits/real_crops_val.csv
        # -> weights/ocr_latin_int8.onnx, which the recognizer runs on the CPU in place of ocr_latin.pth
    python ocr/export.py --weights runs/ocr_latin/checkpoints/best_model.pth --format pth --out weights/ocr_latin.pth
    python ocr/export.py --weights runs/ocr_latin/checkpoints/last.pth --ema --format pth --out weights/ocr_latin.pth

`--int8-lstm`: the LSTM weights in int8 (dynamic quantisation, the same reads as fp32). `--int8`: the convolutions
and the head in static int8 too, their activation ranges calibrated (99.99th percentile) on synthetic plates and,
with `--calib`, as many real crops of those labelled folders (those listed in `--exclude` split files left out);
written to `<name>_int8.onnx`, it records the checkpoint's SHA-256, and `Recognizer.from_checkpoint(<name>.pth)`
runs it in the checkpoint's place on the CPU (precision auto or int8) while the two still match.
`pth` keeps the model weights, its config, patterns, epoch, best accuracy and the run config, and drops the
optimizer state (a third of the size). `--ema` takes the moving-average weights of a run's last.pth (the last
epoch's average, where best_model.pth holds the average of the epoch with the best validation accuracy).
"""
from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import io
import json
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from common.cli import at_least, entry_parser, run_main
from common.digest import sha256
from common.errors import UserError
from common.paths import find, written_whole
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
        buf = io.BytesIO()  # in memory first: torch.jit.save onto a full disk aborts the process (a C++ error)
        torch.jit.save(traced, buf, _extra_files=extra)
    out.write_bytes(buf.getbuffer())
    return out


CALIB_PERCENTILE = 99.99  # static int8: min/max ranges read a little worse on validation (docs/findings.md)


def int8_sibling(checkpoint: Path) -> Path:
    """Where `--int8` writes the int8 export of `checkpoint`, and where the recognizer looks for it."""
    return checkpoint.with_name(checkpoint.stem + "_int8.onnx")


def export_onnx(model: CRNN, out: Path, patterns: tuple[str, ...] = (), source_sha256: str = "") -> Path:
    """ONNX with a dynamic batch axis; model config, patterns and the source checkpoint's digest in the metadata."""
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
    if source_sha256:
        meta["source_sha256"] = source_sha256
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


def calibration_crops(folders: list[Path], exclude: list[Path], n: int, seed: int = 0) -> list[np.ndarray]:
    """`n` plate crops drawn with `seed` from labelled dataset folders (images/ + labels.csv, a frame's box cut
    out), leaving out the images listed in the split CSVs `exclude` (`dataset,image`)."""
    from ocr.data import SourceDataset, load_crop

    split = {"split_file": list(exclude), "split": "train"} if exclude else {}  # train: the images not listed
    samples = [s for folder in folders for s in SourceDataset({"path": folder, **split}, None).samples]
    if not samples:
        raise UserError(f"no calibration crops left in {', '.join(map(str, folders))} after the --exclude lists")
    order = np.random.default_rng(seed).permutation(len(samples))[:n]
    return [load_crop(samples[i]) for i in order]


def quantize_static(model: CRNN, src: Path, out: Path, n_calib: int = 256, seed: int = 0,
                    real: Sequence[np.ndarray] = (), lstm: bool = True) -> Path:
    """`src` (the ONNX export of `model`) with its convolutions and head in static int8, their activation ranges
    calibrated on `n_calib` crops pre-processed as the recognizer does: the `real` ones (at most half) and synthetic
    plates of the model's alphabet for the rest; with `lstm`, the LSTM weights in int8 as well (`quantize_lstm`:
    each crop then runs alone)."""
    from common.quantize import quantize_static_int8
    from ocr.accel import calibration_batches

    batches = calibration_batches(model.cfg, n_calib, seed, real=list(real)[:n_calib // 2])
    out = quantize_static_int8(src, out, batches, method="percentile", percentile=CALIB_PERCENTILE)
    return quantize_lstm(out, out) if lstm else out


def with_ema_weights(ckpt: dict) -> dict:
    """`ckpt` (a run's last.pth) with its moving-average weights (`ema_state_dict`) as the model's weights."""
    ema = ckpt.get("ema_state_dict")
    if not ema:
        raise UserError("--ema: this checkpoint has no moving-average weights (a run's last.pth with ema_decay > 0 has)")
    weights = {k.removeprefix("module."): v for k, v in ema.items() if k != "n_averaged"}
    return {**ckpt, "model_state_dict": weights}


def export_slim(ckpt: dict, out: Path) -> Path:
    """A checkpoint for inference only (no optimizer state) written to `out`."""
    from ocr.checkpoint import save_checkpoint

    keep = {k: ckpt[k] for k in ("epoch", "best_seq_acc", "config", "patterns", "val_metrics") if k in ckpt}
    save_checkpoint(out, model_from_checkpoint(ckpt), **keep)
    return out


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = entry_parser(__doc__)
    ap.add_argument("--weights", required=True, type=find)
    ap.add_argument("--format", choices=("torchscript", "onnx", "pth"), default="onnx")
    ap.add_argument("--out", type=Path)
    ap.add_argument("--int8-lstm", action="store_true", help="onnx: the LSTM weights in int8 (faster on the CPU)")
    ap.add_argument("--int8", action="store_true",
                    help="onnx: static int8 convolutions and int8 LSTM weights, to <name>_int8.onnx (fastest on the CPU)")
    ap.add_argument("--calib", type=Path, nargs="*", default=[],
                    help="--int8: labelled crop folders to calibrate on beside synthetic plates (half of --n-calib)")
    ap.add_argument("--exclude", type=Path, nargs="*", default=[], help="--int8: split CSVs of images not to calibrate on")
    ap.add_argument("--n-calib", type=at_least(1), default=256, help="--int8: calibration crops in all")
    ap.add_argument("--ema", action="store_true",
                    help="export the moving-average weights of a run's last.pth (training with ema_decay > 0)")
    args = ap.parse_args(argv)

    def work() -> None:
        named = {"onnx": (".onnx",), "pth": (".pth", ".pt"), "torchscript": (".pt",)}[args.format]
        if args.out is not None and args.out.suffix not in named:
            raise UserError(f"--out {args.out}: a {args.format} export is named *{named[0]} (the readers tell an "
                            f"export's kind by its suffix)")
        ckpt = load_checkpoint(args.weights)
        if args.ema:
            ckpt = with_ema_weights(ckpt)
        model = model_from_checkpoint(ckpt)
        if args.format == "onnx":
            if args.int8_lstm and args.int8:
                raise UserError("--int8-lstm and --int8 exclude each other")
            if (args.calib or args.exclude) and not args.int8:
                raise UserError("--calib and --exclude calibrate the --int8 export: add --int8")
            default = int8_sibling(args.weights) if args.int8 else args.weights.with_suffix(".onnx")
            digest = "" if args.ema else sha256(args.weights)  # ties the export to this very checkpoint
            real = calibration_crops(args.calib, args.exclude, args.n_calib // 2) if args.calib else []

            def make(part: Path) -> None:
                export_onnx(model, part, tuple(ckpt.get("patterns", ())), digest)
                if args.int8_lstm:
                    quantize_lstm(part, part)
                elif args.int8:
                    quantize_static(model, part, part, args.n_calib, real=real)

            out = written_whole(args.out or default, make)  # an export the pipeline runs is replaced only whole
        elif args.format == "pth":
            if not args.out:
                raise UserError("--format pth needs --out")
            out = export_slim(ckpt, args.out)
        else:
            out = written_whole(args.out or args.weights.with_suffix(".torchscript.pt"),
                                lambda part: export_torchscript(model, part))
        logger.info(f"exported {args.weights} -> {out}")

    return run_main(work, on_interrupt="interrupted: nothing written (an export there before is kept as it was)")


if __name__ == "__main__":
    raise SystemExit(main())
