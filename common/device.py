"""Device selection shared by the recognizer, its training loop and the detector."""
from __future__ import annotations

from common.errors import UserError


def resolve_device(name: str) -> str:
    """`auto` -> `cuda:0` when CUDA is available, else `cpu`; a CUDA device asked for without CUDA is a UserError."""
    import torch

    if name == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UserError(f"device={name} but CUDA is not available")
    return name
