"""The OCR training configuration (one frozen dataclass; YAML under configs/, `key=value` overrides)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from common.config import Range
from ocr.alphabet import resolve_alphabet
from ocr.model import ModelConfig


@dataclass(frozen=True)
class OCRConfig:
    """The OCR's model, data and training settings (configs/ocr_*.yaml)."""
    # model
    alphabet: str = "digits"
    img_h: Annotated[int, Range(16)] = 64
    img_w: Annotated[int, Range(16)] = 200
    width_mult: Annotated[float, Range(0, above=True)] = 1.0
    hidden: Annotated[int, Range(1)] = 256
    lstm_layers: Annotated[int, Range(1)] = 2
    dropout: Annotated[float, Range(0, 1)] = 0.1
    two_row_aspect: Annotated[float, Range(0)] = 0.0
    # decoding
    patterns: tuple[str, ...] = ()
    beam_width: Annotated[int, Range(1)] = 10
    # data
    train: tuple[dict[str, Any] | str, ...] = ()  # data sources (ocr/data.py), or a folder's path alone
    val: tuple[dict[str, Any] | str, ...] = ()
    samples_per_epoch: Annotated[int, Range(0)] = 0
    # optimisation
    epochs: Annotated[int, Range(1)] = 100
    batch_size: Annotated[int, Range(1)] = 32
    lr: Annotated[float, Range(0, above=True)] = 1e-3
    weight_decay: Annotated[float, Range(0)] = 0.0
    grad_clip: Annotated[float, Range(0, above=True)] = 5.0
    plateau_patience: Annotated[int, Range(0)] = 5
    plateau_factor: Annotated[float, Range(0, 1, above=True)] = 0.5
    min_lr: Annotated[float, Range(0)] = 1e-6
    early_stop_patience: Annotated[int, Range(0)] = 15
    max_bad_batches: Annotated[int, Range(1)] = 20
    ema_decay: Annotated[float, Range(0, 1)] = 0.0
    distill_from: str = ""
    distill_weight: Annotated[float, Range(0)] = 1.0
    freeze_cnn: Annotated[int, Range(0, 6)] = 0
    # runtime
    device: str = "auto"
    precision: Literal["auto", "fp32", "bf16", "fp16"] = "auto"  # int8 is for reading plates, not for training
    num_workers: Annotated[int, Range(0)] = 2
    threads: Annotated[int, Range(0)] = 0
    seed: Annotated[int, Range(0)] = 0
    out_dir: str = "runs/ocr"
    checkpoint_every: Annotated[int, Range(1)] = 10
    time_limit_min: Annotated[float, Range(0)] = 0.0
    resume: str = ""
    init_from: str = ""

    def model_config(self) -> ModelConfig:
        return ModelConfig(alphabet=resolve_alphabet(self.alphabet), img_h=self.img_h, img_w=self.img_w,
                           width_mult=self.width_mult, hidden=self.hidden, lstm_layers=self.lstm_layers,
                           dropout=self.dropout, two_row_aspect=self.two_row_aspect)
