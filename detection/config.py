"""Detector configuration (configs/detector.yaml)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from common.config import ConfigError, Range


@dataclass(frozen=True)
class DetectorConfig:
    """The detector's inference settings (configs/detector.yaml)."""
    weights: str = "weights/detector.pt"  # our trained .pt (SHA-256 checked) or an exported .onnx
    imgsz: Annotated[int, Range(32)] = 640            # inference size (long side); smaller is faster, misses small plates
    conf: Annotated[float, Range(0, 1)] = 0.25          # minimum confidence kept
    iou: Annotated[float, Range(0, 1)] = 0.5            # NMS IoU threshold
    max_det: Annotated[int, Range(1)] = 50           # most plates kept per frame
    batch: Annotated[int, Range(1)] = 16             # most images in one call to the model (tiles, cameras)
    max_overlap: Annotated[float, Range(0, 1)] = 0.6    # drop a box this much inside a more confident one, or holding that much of it
    device: str = "auto"        # auto (cuda:0 if present), cpu, cuda:0
    half: bool = True           # fp16 on CUDA (ignored on the CPU)
    verify_sha256: bool = True  # check shipped weights against weights/MANIFEST.sha256 before loading
    gray_weights: str = ""      # monochrome frames go to this detector instead ("" = weights for every frame)
    onnx_on_cpu: bool = True    # on the CPU, run the exported <weights>.onnx beside a .pt when there is one
    still_tile: int = 1280      # stills over 1.5x this (long side) are also searched in tiles of this size; 0 = off
    still_zoom_out: float = 2.0  # stills with no plate found, or one over still_zoom_above of their width, are also
                                 # searched shrunk onto a canvas this many times their size; 0 = off
    still_zoom_above: float = 0.4  # see still_zoom_out
    dark_below: Annotated[float, Range(0, 255)] = 100.0  # frames whose 99th percentile of luminance is under this are stretched for the
                               # detector (detection/exposure.py); 0 = off
    pale_above: Annotated[float, Range(0, 255)] = 120.0   # ...and frames whose 1st percentile is over this (haze, glare); 0 = off
    deinterlace_above: Annotated[float, Range(0)] = 1.0  # frames combed all over: detected as one field; 0 = off

    def __post_init__(self) -> None:
        if self.still_tile and self.still_tile < 64:
            raise ConfigError(f"detector.still_tile must be 0 (off) or at least 64 px, not {self.still_tile}")
        if self.still_zoom_out and self.still_zoom_out <= 1:
            raise ConfigError(f"detector.still_zoom_out must be 0 (off) or over 1, not {self.still_zoom_out}")
        if not 0 <= self.still_zoom_above <= 1:
            raise ConfigError(f"detector.still_zoom_above must be within 0-1, not {self.still_zoom_above}")
