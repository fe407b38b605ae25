"""Batched plate recognition: BGR crops of any size in, one frozen PlateRead per crop out.

Backends: PyTorch (GPU when there is one) or ONNX Runtime (CPU, or CUDA provider when installed).
"""
from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import torch

from common.device import autocast_for, check_precision, resolve_device, resolve_precision
from common.errors import UserError
from common.onnx import quiet_session_options
from common.paths import find
from ocr.checkpoint import load_checkpoint, model_from_checkpoint
from ocr.decode import Decoded, beam_decode, check_patterns, greedy_decode, softmax
from ocr.model import CRNN, ModelConfig
from ocr.process import as_bgr, plate_rows, preprocess_batch


@dataclass(frozen=True)
class PlateRead:
    """One crop's read: its text, confidence and one confidence per character."""
    text: str
    confidence: float  # product of the per-character confidences
    char_confidences: tuple[float, ...]


class Recognizer:
    """`Recognizer.from_checkpoint(path)(crops) -> list[PlateRead]`; `.probs(crops)` gives B x T x C posteriors."""

    def __init__(self, cfg: ModelConfig, run_batch: Callable[[np.ndarray], np.ndarray], patterns: tuple[str, ...] = (), decoder: str = "auto",
                 beam_width: int = 10, max_batch: int = 64) -> None:
        self.cfg, self._run, self.patterns = cfg, run_batch, tuple(patterns)
        if decoder not in ("auto", "greedy", "beam"):
            raise UserError(f"decoder must be auto, greedy or beam, not {decoder!r}")
        check_patterns(self.patterns, cfg.alphabet)
        self.decoder = ("beam" if self.patterns else "greedy") if decoder == "auto" else decoder
        self.beam_width, self.max_batch = beam_width, max_batch
        self.best_seq_acc: float | None = None  # validation accuracy recorded in a .pth checkpoint, if any
        self.precision = "fp32"  # what the model runs in: fp32, bf16, fp16 (torch) or int8 (LSTM weights, onnx)
        self.source = ""  # the file the model was loaded from

    @classmethod
    def from_checkpoint(cls, path: str | Path, device: str = "auto", backend: str = "torch",
                        decoder: str = "auto", patterns: tuple[str, ...] | None = None,
                        precision: str = "fp32", compiled: bool = False) -> "Recognizer":
        """Load a `.pth` checkpoint (torch or onnx backend) or an exported `.onnx` file (onnx backend).

        `backend="auto"`: torch when the device resolves to CUDA, else ONNX Runtime (the faster one on the CPU),
        unless `precision` asks bf16 or fp16 (torch) or int8 (ONNX Runtime): `resolve_backend`.
        `precision` (torch backend): fp32, bf16 (autocast; fast only on CPUs with AMX/AVX512-BF16), fp16 (CUDA),
        or auto (fp16 on CUDA, bf16 where the CPU has native bf16, else fp32). ONNX Runtime runs fp32, or with
        `precision="int8"` (and `auto` on the CPU) the checkpoint's int8 export `<name>_int8.onnx` beside it when
        that was made from this very file (`ocr/export.py --int8`: convolutions in static int8, calibrated), else
        the checkpoint with its LSTM weights in int8 (convolutions fp32). Int8 LSTM inputs are quantised per call,
        so each crop runs alone and its read never depends on the other crops of a batch. `.precision` tells
        which one runs, `.source` from which file.

        `compiled=True` (torch backend on the CPU) compiles the model with `torch.compile` (ocr/accel.py): fp32, bf16,
        or int8 convolutions calibrated on synthetic plates (needs torchao); the fastest on AMX CPUs, at the cost
        of compiling each batch-size bucket (ocr/accel.py: BUCKETS) when it loads."""
        p = find(path)
        backend = resolve_backend(p, backend, precision, compiled, device)
        int8 = precision == "int8" or (precision == "auto" and backend == "onnx"
                                       and not resolve_device(device).startswith("cuda"))
        if p.suffix == ".onnx":
            return _from_onnx(p, device, decoder, patterns, int8)
        ckpt = load_checkpoint(p)
        model = model_from_checkpoint(ckpt)
        pats = tuple(ckpt.get("patterns", ())) if patterns is None else tuple(patterns)
        check_fit(path, pats, model.cfg.alphabet)
        if backend == "onnx":
            from ocr.export import export_onnx

            sibling = matching_int8_export(p) if int8 else None  # calibrated beforehand: static int8 convolutions
            if sibling is not None:
                rec = _from_onnx(sibling, device, decoder, patterns, int8)
            else:  # exported for this run only: the session keeps the model in memory
                with tempfile.TemporaryDirectory(prefix="ocr_onnx_") as tmp:
                    rec = _from_onnx(export_onnx(model, Path(tmp) / (p.stem + ".onnx"), pats), device, decoder,
                                     patterns, int8)
            rec.source = str(sibling or p)
        elif compiled:
            rec = _compiled(model, device, precision, pats, decoder)
        else:
            dev = torch.device(resolve_device(device))
            model = model.to(dev).to(memory_format=torch.channels_last)
            amp_ctx, _ = autocast_for(dev.type, precision)

            @torch.no_grad()
            def run(x: np.ndarray) -> np.ndarray:
                t = torch.from_numpy(x).to(dev).contiguous(memory_format=torch.channels_last)
                with amp_ctx:
                    return model(t).float().cpu().numpy()

            rec = cls(model.cfg, run, pats, decoder)
            rec.precision = resolve_precision(dev.type, precision)
        rec.best_seq_acc = ckpt.get("best_seq_acc")
        rec.source = rec.source or str(p)
        return rec

    def probs(self, crops: list[np.ndarray]) -> np.ndarray:
        """CTC posteriors B x T x C (softmaxed) of a list of BGR crops."""
        crops = [as_bgr(c, f"crop {i}") for i, c in enumerate(crops)]
        x = preprocess_batch(crops, self.cfg.img_h, self.cfg.img_w, self.cfg.two_row_aspect)
        if len(x) == 0:
            return np.zeros((0, self.cfg.img_w // 4, self.cfg.num_classes), np.float32)
        out = [self._run(x[i:i + self.max_batch]) for i in range(0, len(x), self.max_batch)]
        return softmax(np.concatenate(out).astype(np.float32))

    def rows(self, crop: np.ndarray) -> int:
        """The layout this recognizer reads `crop` in: 1 row, or 2 (cut apart and read side by side)."""
        return plate_rows(crop.shape[0], crop.shape[1], self.cfg.two_row_aspect)

    def decode(self, probs: np.ndarray) -> PlateRead:
        """One T x C posterior -> PlateRead, with this recognizer's decoder and patterns."""
        d: Decoded = (beam_decode(probs, self.cfg.alphabet, self.patterns, self.beam_width)
                      if self.decoder == "beam" else greedy_decode(probs, self.cfg.alphabet))
        return PlateRead(d.text, d.confidence, d.char_confidences)

    def __call__(self, crops: list[np.ndarray]) -> list[PlateRead]:
        return [self.decode(p) for p in self.probs(crops)]


def _compiled(model: CRNN, device: str, precision: str, patterns: tuple[str, ...], decoder: str) -> Recognizer:
    from ocr.accel import compile_cpu

    if resolve_device(device) != "cpu":
        raise UserError(f"compiled=True compiles for the CPU, but device={device} resolves to "
                        f"{resolve_device(device)}: pass device=cpu, or run uncompiled on the GPU")
    if precision != "int8":
        precision = resolve_precision("cpu", precision)
    try:
        run = compile_cpu(model, precision)
    except ImportError as exc:
        raise UserError(str(exc)) from None
    except Exception as exc:  # torch.compile needs a C++ compiler and the Python headers
        raise UserError(f"cannot compile the recognizer ({precision}): {str(exc).strip().splitlines()[0]}") from None
    rec = Recognizer(model.cfg, run, patterns, decoder)
    rec.precision = f"{precision} compiled"
    return rec


def resolve_backend(path: Path, backend: str, precision: str, compiled: bool = False, device: str = "auto") -> str:
    """The backend (torch or onnx) model file `path` runs on with these settings: `auto` gives ONNX Runtime on the
    CPU (fastest there in fp32 and int8) and torch on CUDA, but torch where bf16 or fp16 is asked (only torch runs
    them) and ONNX Runtime where int8 is (an `.onnx` file is ONNX Runtime's). A UserError for settings that cannot
    run together (said before any model loads: `--check`)."""
    if backend not in ("auto", "torch", "onnx"):
        raise UserError(f"backend must be auto, torch or onnx, not {backend!r}")
    check_precision(precision)
    if compiled and (backend == "onnx" or path.suffix == ".onnx"):
        raise UserError(f"compiled=True compiles a .pth checkpoint on the torch backend, not {path.name} on {backend}")
    kind = resolve_device(device).split(":")[0]
    cuda = kind == "cuda"
    if backend == "auto":
        torch_asked = compiled or precision in ("bf16", "fp16")
        backend = "onnx" if not torch_asked and (precision == "int8" or not cuda) else "torch"
    if path.suffix == ".onnx":
        backend = "onnx"
    if backend == "onnx" and precision in ("bf16", "fp16"):
        raise UserError(f"precision={precision}: {path.name} is an ONNX model, which ONNX Runtime runs in fp32 or int8 "
                        f"(precision fp32, int8 or auto); {precision} runs a .pth checkpoint on the torch backend"
                        if path.suffix == ".onnx" else
                        f"precision={precision} runs on the torch backend, not on ONNX Runtime (fp32 or int8): "
                        "backend=torch, or precision fp32, int8 or auto")
    if backend == "torch" and not compiled:
        resolve_precision(kind, precision)  # fp16 on the CPU, int8 on torch: said here as when the model runs
    return backend


def check_model_file(path: str | Path) -> ModelConfig:
    """A recognizer's file, checked before it is loaded: a `.pth` checkpoint read (safely), an `.onnx` export's
    graph and metadata read; the model's config (its alphabet, input size). UserError naming the file when it is
    missing or unreadable."""
    p = find(path)
    if p.suffix == ".onnx":
        return _stored_config(_onnx_meta(_onnx_file(p)), p)  # the file read once: its graph and its metadata
    return ModelConfig(**load_checkpoint(path)["model_config"])  # as given: an empty path is its error


def check_fit(path: str | Path, patterns: tuple[str, ...], alphabet: str) -> None:
    """`check_patterns`, its error line naming the model file whose alphabet no read of a pattern could fit."""
    try:
        check_patterns(patterns, alphabet)
    except UserError as exc:
        raise UserError(f"{path}: {exc}") from None


def _onnx_meta(model: Any) -> dict[str, str]:
    """The metadata an ONNX model holds."""
    return {m.key: m.value for m in model.metadata_props}


def _stored_config(meta: dict[str, str], source: Path) -> ModelConfig:
    """The model config an ONNX export's metadata holds."""
    if "model_config" not in meta:
        raise UserError(f"{source} has no plate-reader metadata (export it with ocr/export.py)")
    return ModelConfig(**json.loads(meta["model_config"]))


def _onnx_file(path: Path) -> Any:
    """The ONNX model in the file `path` (`common.quantize.onnx_model`); UserError when there is none to read."""
    from common.quantize import onnx_model

    if not path.is_file():
        raise UserError(f"ONNX model not found: {path}")
    return onnx_model(path)


def _from_onnx(path: Path, device: str, decoder: str, patterns: tuple[str, ...] | None,
               int8: bool = False) -> Recognizer:
    import onnxruntime as ort

    from common.quantize import op_types

    source = path
    ops = op_types(_onnx_file(path))
    static = "QuantizeLinear" in ops  # exported with --int8: already int8, batched (fixed activation scales)
    quantized = "DynamicQuantizeLSTM" in ops  # exported with --int8-lstm
    lstm8 = quantized or (int8 and not static)  # int8 LSTM, its inputs quantised per call: one crop at a time
    providers = ["CPUExecutionProvider"]
    if device in ("auto", "cuda") and "CUDAExecutionProvider" in ort.get_available_providers():
        providers.insert(0, "CUDAExecutionProvider")
    with tempfile.TemporaryDirectory(prefix="ocr_int8_") as tmp:  # the session keeps the model in memory
        if lstm8 and not quantized:
            from ocr.export import quantize_lstm

            try:
                path = quantize_lstm(path, Path(tmp) / path.name)
            except Exception as exc:
                raise UserError(f"cannot quantise the LSTM of {source}: {str(exc).splitlines()[0]}") from None
        try:
            sess = ort.InferenceSession(str(path), quiet_session_options(), providers=providers)
        except Exception as exc:
            raise UserError(f"cannot load ONNX model {source}: {str(exc).splitlines()[0]}") from None
    meta = sess.get_modelmeta().custom_metadata_map
    cfg = _stored_config(meta, source)
    pats = tuple(json.loads(meta.get("patterns", "[]"))) if patterns is None else tuple(patterns)
    check_fit(source, pats, cfg.alphabet)
    name = sess.get_inputs()[0].name
    rec = Recognizer(cfg, lambda x: sess.run(None, {name: x})[0], pats, decoder, max_batch=1 if lstm8 else 64)
    rec.precision = "int8 static" if static else "int8" if lstm8 else "fp32"
    rec.source = str(source)
    return rec


def matching_int8_export(checkpoint: Path) -> Path | None:
    """The int8 export beside `checkpoint` (`<name>_int8.onnx`) when its recorded source digest is this file's."""
    from common.digest import sha256
    from common.quantize import onnx_model
    from ocr.export import int8_sibling

    sibling = int8_sibling(checkpoint)
    if not sibling.is_file():
        return None
    try:
        meta = _onnx_meta(onnx_model(sibling))  # the file is there: checked just above
    except Exception:
        return None  # not an ONNX model: the checkpoint runs as it is
    return sibling if meta.get("source_sha256") == sha256(checkpoint) else None


def load_model(path: str | Path, device: str = "cpu") -> CRNN:
    """The guide's API: the CRNN of a checkpoint, in eval mode (its config at `model.cfg`)."""
    model = model_from_checkpoint(load_checkpoint(path))
    return model.to(device)


def predict_image(model: CRNN, image: Any) -> str:
    """The guide's API: greedy-decoded text of one plate image (path, BGR array or PIL image)."""
    from ocr.process import read_bgr

    img = read_bgr(image) if isinstance(image, (str, Path)) else as_bgr(image)
    x = torch.from_numpy(preprocess_batch([img], model.cfg.img_h, model.cfg.img_w, model.cfg.two_row_aspect))
    dev = next(model.parameters()).device
    with torch.no_grad():
        logits = model.eval()(x.to(dev)).float().cpu().numpy()[0]
    return greedy_decode(softmax(logits), model.cfg.alphabet).text
