"""The OCR training configuration (one frozen dataclass; YAML under configs/, `key=value` overrides)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ocr.alphabet import resolve_alphabet
from ocr.model import ModelConfig


@dataclass(frozen=True)
class OCRConfig:
    # model
    alphabet: str = "digits"
    img_h: int = 64
    img_w: int = 200
    width_mult: float = 1.0
    hidden: int = 256
    lstm_layers: int = 2
    dropout: float = 0.1
    two_row_aspect: float = 0.0
    # decoding
    patterns: tuple[str, ...] = ()
    beam_width: int = 10
    # data
    train: tuple[dict[str, Any], ...] = ()
    val: tuple[dict[str, Any], ...] = ()
    samples_per_epoch: int = 0
    # optimisation
    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.0
    grad_clip: float = 5.0
    plateau_patience: int = 5
    plateau_factor: float = 0.5
    min_lr: float = 1e-6
    early_stop_patience: int = 15
    max_bad_batches: int = 20
    ema_decay: float = 0.0
    # runtime
    device: str = "auto"
    precision: str = "auto"
    num_workers: int = 2
    threads: int = 0
    seed: int = 0
    out_dir: str = "runs/ocr"
    checkpoint_every: int = 10
    time_limit_min: float = 0.0
    resume: str = ""
    init_from: str = ""

    def model_config(self) -> ModelConfig:
        return ModelConfig(alphabet=resolve_alphabet(self.alphabet), img_h=self.img_h, img_w=self.img_w,
                           width_mult=self.width_mult, hidden=self.hidden, lstm_layers=self.lstm_layers,
                           dropout=self.dropout, two_row_aspect=self.two_row_aspect)
