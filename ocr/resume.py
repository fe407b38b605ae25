"""Carrying on a stopped OCR training run: its checkpoint, its own config, whether anything is left to train, and
the line a stopped run ends with (used by ocr/train.py)."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from common.cli import interrupted_line
from common.config import config_from_dict, parse_override
from common.errors import UserError
from ocr.checkpoint import load_checkpoint
from ocr.config import OCRConfig


def load_run(path: str | Path, device: str | torch.device = "cpu") -> dict[str, Any]:
    """The checkpoint of a run to resume. It is the user's own, from where they are: never looked for under the
    project, as the configs' shipped paths are (`common.paths.find`, inside `load_checkpoint`)."""
    if not Path(path).is_file():
        raise UserError(f"checkpoint not found: {path}")
    return load_checkpoint(path, device)


def check_unfinished(state: dict[str, Any], cfg: OCRConfig) -> None:
    """Refuse, in one line, to resume a run that has nothing left to do under `cfg`: it stopped early, or it has
    trained its epochs. The line says which override carries it on."""
    epoch, stale = int(state["epoch"]), int(state.get("stale_epochs", 0))
    if stale >= cfg.early_stop_patience:
        raise UserError(f"{cfg.resume}: the run stopped early at epoch {epoch} (validation loss not lower for {stale} "
                        f"epochs, early_stop_patience={cfg.early_stop_patience}); to train on, resume with "
                        f"early_stop_patience={stale + 5} or more")
    if epoch >= cfg.epochs:
        done = f"all its {epoch} epochs" if epoch == cfg.epochs else f"{epoch} epochs, more than epochs={cfg.epochs}"
        raise UserError(f"{cfg.resume}: the run has trained {done}; to train on, resume with epochs={epoch + 10} or "
                        f"more")


def resume_config(overrides: list[str]) -> OCRConfig | None:
    """With `resume=PATH` among `overrides`: the interrupted run's own config, stored in its `last.pth`, with the
    given overrides on top (`time_limit_min=30`, `epochs=60`), so the run continues as it was started, whatever
    `--config` says, and in the folder `PATH` lies in (`<run>/checkpoints/last.pth`: a run folder moved or copied
    goes on where it is now, not where it was started), unless `out_dir=` is given. None without `resume`."""
    given = dict(map(parse_override, overrides))
    path = given.get("resume", "")
    if path is None or path == "":
        return None
    path = str(path)  # resume=2024 names a file too
    state = load_run(path)
    if "config" not in state or "history" not in state:
        raise UserError(f"{path} is not a run's checkpoints/last.pth (no config or history): resume needs last.pth")
    cfg = config_from_dict(OCRConfig, state["config"], str(path), overrides)
    here = Path(path).resolve().parent
    if "out_dir" not in given and here.name == "checkpoints":
        cfg = replace(cfg, out_dir=str(Path(path).parent.parent))
    return cfg


def interrupted(out: Path | None) -> str:
    """What a stopped run says: the checkpoint to resume from and its epoch, or that its first epoch had not ended."""
    last = out / "checkpoints" / "last.pth" if out is not None else None
    epoch = None
    if last is not None and last.is_file():
        try:
            epoch = int(load_checkpoint(last)["epoch"])
        except (UserError, KeyError, TypeError, ValueError):  # read as the resume will read it, which will say why
            pass
    return interrupted_line(last, epoch)
