"""Self-describing checkpoints, saved as plain tensors and Python literals and loaded with weights_only=True."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from common.errors import UserError
from common.paths import find
from ocr.model import CRNN, ModelConfig

PREPROCESS = {"resize": "stretch", "color": "bgr", "scale": "x*2/255-1"}


def save_checkpoint(path: str | Path, model: CRNN, **extra: Any) -> None:
    """Write model weights, its ModelConfig, decoding patterns and preprocessing, plus `extra` state."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    state = {"model_state_dict": model.state_dict(), 
             "model_config": {k: getattr(model.cfg, k) for k in model.cfg.__dataclass_fields__}, "preprocess": PREPROCESS, **extra}
    tmp = p.with_suffix(p.suffix + ".tmp")
    torch.save(state, tmp)
    tmp.replace(p)  # atomic: an interrupted save never leaves a broken file


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    """Load safely (no code execution); UserError for a missing or foreign file."""
    p = find(path)
    if not p.is_file():
        raise UserError(f"checkpoint not found: {p}")
    try:
        ckpt = torch.load(p, map_location=map_location, weights_only=True)
    except Exception as exc:  # pickle refusing a non-tensor object, or a corrupt file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if "Weights only load failed" in first:  # torch's advice (load it unsafely) is not ours to pass on
            first = "corrupt, or a pickle holding more than weights (loading it could run code: refused)"
        raise UserError(f"cannot load checkpoint {p}: {first}") from None
    if not isinstance(ckpt, dict) or "model_state_dict" not in ckpt or "model_config" not in ckpt:
        raise UserError(f"{p} is not a plate-reader OCR checkpoint (no model_state_dict/model_config)")
    return ckpt


def model_from_checkpoint(ckpt: dict[str, Any]) -> CRNN:
    model = CRNN(ModelConfig(**ckpt["model_config"]))
    model.load_state_dict(ckpt["model_state_dict"])
    return model.eval()
