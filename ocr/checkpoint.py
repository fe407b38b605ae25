"""Self-describing checkpoints, saved as plain tensors and Python literals and loaded with weights_only=True."""
from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import torch

from common.errors import UserError
from common.paths import find, written_whole
from ocr.model import CRNN, ModelConfig

PREPROCESS = {"resize": "stretch", "color": "bgr", "scale": "x*2/255-1"}


def save_checkpoint(path: str | Path, model: CRNN, **extra: Any) -> None:
    """Write model weights, its ModelConfig, decoding patterns and preprocessing, plus `extra` state."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    config = {k: getattr(model.cfg, k) for k in model.cfg.__dataclass_fields__}
    state = {"model_state_dict": model.state_dict(), "model_config": config, "preprocess": PREPROCESS, **extra}
    buf = io.BytesIO()  # saved in memory first: onto a full disk torch.save says only "unexpected pos ..."
    torch.save(state, buf)
    written_whole(p, lambda part: part.write_bytes(buf.getbuffer()))  # a full disk: an OSError naming `p`


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load safely (no code execution); UserError for a missing or foreign file."""
    if not str(path).strip():
        raise UserError("checkpoint not given: the path is empty (ocr_weights= with no value?)")
    p = find(path)
    if not p.is_file():
        raise UserError(f"checkpoint not found: {p}")
    try:
        ckpt = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle refusing a non-tensor object, or a corrupt file
        raise UserError(f"cannot load checkpoint {p}: {_why_unreadable(p, exc)}") from None
    if not isinstance(ckpt, dict) or "model_state_dict" not in ckpt or "model_config" not in ckpt:
        raise UserError(f"{p} is not a plate-reader OCR checkpoint (no model_state_dict/model_config)")
    return ckpt


def _why_unreadable(p: Path, exc: Exception) -> str:
    """What `torch.load` refusing `p` means, in words: torch's own messages are an unpickler's key ('101'), a
    miniz error, or advice to load the file unsafely (not ours to pass on)."""
    with p.open("rb") as f:
        head = f.read(4)
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if not head:
        return "the file is empty"
    if head.startswith(b"PK"):  # torch's zip format
        if "Weights only load failed" in first:
            return "it holds more than weights (loading it could run code: refused)"
        return "the file is damaged or cut short (copy it again)"
    if head[:1] != b"\x80":  # neither a zip archive nor a pickle: not written by torch.save
        return "not a PyTorch checkpoint (torch.save writes a zip archive)"
    if "Weights only load failed" in first:
        return "corrupt, or a pickle holding more than weights (loading it could run code: refused)"
    return first


def model_from_checkpoint(ckpt: dict[str, Any]) -> CRNN:
    """The CRNN a loaded checkpoint dict describes, its weights loaded, in eval mode."""
    model = CRNN(ModelConfig(**ckpt["model_config"]))
    model.load_state_dict(ckpt["model_state_dict"])
    return model.eval()
