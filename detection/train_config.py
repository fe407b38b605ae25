"""Detector training configuration (configs/detector_train.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class DetectorTrainConfig:
    model: str = "yolo11n.yaml"
    train: tuple[str, ...] = ()
    val: tuple[str, ...] = ()
    split_file: str = ""
    unboxed: tuple[str, ...] = ()
    gray_share: float = 0.0
    dataset_dir: str = "data_gen/detector_yolo"
    epochs: int = 100
    hours: float = 0.0
    imgsz: int = 640
    batch: int = 16
    workers: int = 2
    device: str = "auto"
    patience: int = 30
    seed: int = 0
    out_dir: str = "runs/detector"
    name: str = "train"
    resume: str = ""
    weights_out: str = "weights/detector.pt"
    publish: str = "best"
    extra: dict[str, Any] = field(default_factory=dict)
