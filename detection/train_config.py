"""Detector training configuration (configs/detector_train.yaml)."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args

from common.config import Range

Publish = Literal["best", "last"]  # which of the trainer's weights become weights_out
PUBLISH: tuple[str, ...] = get_args(Publish)


@dataclass(frozen=True)
class DetectorTrainConfig:
    """The detector's training settings (configs/detector_train.yaml)."""
    model: str = "yolo11n.yaml"
    train: tuple[str, ...] = ()
    val: tuple[str, ...] = ()
    split_file: str = ""
    unboxed: tuple[str, ...] = ()
    gray_share: Annotated[float, Range(0, 1)] = 0.0
    dataset_dir: str = "data_gen/detector_yolo"
    epochs: Annotated[int, Range(1)] = 100
    hours: Annotated[float, Range(0)] = 0.0
    imgsz: Annotated[int, Range(32)] = 640
    batch: Annotated[int, Range(1)] = 16
    workers: Annotated[int, Range(0)] = 2
    device: str = "auto"
    patience: Annotated[int, Range(0)] = 30
    seed: Annotated[int, Range(0)] = 0
    out_dir: str = "runs/detector"
    name: str = "train"
    resume: str = ""
    weights_out: str = "weights/detector.pt"
    publish: Publish = "best"
    extra: dict[str, Any] = field(default_factory=dict)
