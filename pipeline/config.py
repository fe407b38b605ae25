"""Pipeline configuration (configs/pipeline.yaml); the detector, tracker and fusion have their own files."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from common.config import Clock, Range
from common.device import Precision


@dataclass(frozen=True)
class PipelineConfig:
    """The pipeline's settings (configs/pipeline.yaml): OCR, crops, outputs, sources."""
    ocr_weights: str = "weights/ocr_latin.pth"
    ocr_backend: Literal["auto", "torch", "onnx"] = "auto"
    ocr_decoder: Literal["auto", "greedy", "beam"] = "auto"
    ocr_precision: Precision = "auto"
    ocr_compile: bool = False
    ocr_ensemble: tuple[str, ...] = ()
    ocr_ensemble_below: Annotated[float, Range(0, 1)] = 1.0
    stride: Annotated[int, Range(1)] = 1
    max_fps: Annotated[float, Range(0)] = 0.0
    start_s: Annotated[float, Clock(), Range(0)] = 0.0
    end_s: Annotated[float, Clock(), Range(0)] = 0.0
    video_start_utc: str = ""
    source_fps: Annotated[float, Range(0, 1000)] = 0.0
    photo_utc_offset: str = ""
    crop_margin: Annotated[float, Range(0, 1)] = 0.06
    min_plate_height: Annotated[int, Range(0)] = 8
    deskew_min_deg: Annotated[float, Range(0)] = 8.0
    narrow_both_ways: Literal["stills", "always", "never"] = "stills"
    read_views: Literal["stills", "always", "never"] = "never"
    crop_stretch_below: Annotated[float, Range(0, 255)] = 0.0
    deinterlace_above: Annotated[float, Range(0)] = 1.0
    output_dir: str = "runs/pipeline"
    sqlite: bool = True
    jsonl: bool = True
    csv: bool = True
    save_crops: bool = True
    save_frames: bool = True
    frames_keep: Annotated[int, Range(0)] = 10000
    crops_keep: Annotated[int, Range(0)] = 200000
    video_out: bool = True
    video_container: Literal["mp4", "mkv", "webm"] = "mp4"
    video_fps: Annotated[float, Range(0, 1000)] = 0.0
    video_segment_min: Annotated[float, Range(0)] = 10.0
    video_keep_segments: Annotated[int, Range(0)] = 144
    min_free_mb: Annotated[float, Range(0)] = 500.0
    keep_days: Annotated[float, Range(0)] = 0.0
    show: bool = False
    progress: bool = True
    log_file: str = ""
    status_every_s: Annotated[float, Range(0)] = 60.0
    rotate: Literal[0, 90, 180, 270] = 0
    roi: tuple[tuple[float, float], ...] = ()
    roi_crop: bool = True
    motion_gate: bool = True
    motion_every_s: Annotated[float, Range(0.0, 3600.0)] = 1.0
    motion_level: Annotated[int, Range(1, 255)] = 25
    motion_share: Annotated[float, Range(0.0, 1.0)] = 0.0005
    line: tuple[tuple[float, float], ...] = ()
    directions: tuple[str, ...] = ("in", "out")
    open_timeout_s: Annotated[float, Range(0, above=True)] = 10.0
    read_timeout_s: Annotated[float, Range(0, above=True)] = 10.0
    stall_timeout_s: Annotated[float, Range(0, above=True)] = 20.0
    backoff_start_s: Annotated[float, Range(0, above=True)] = 1.0
    backoff_max_s: Annotated[float, Range(0, above=True)] = 30.0
    open_retry_s: float = 0.0
    frozen_timeout_s: Annotated[float, Range(0)] = 120.0
    snapshot_every_s: Annotated[float, Range(0.05, 3600.0)] = 1.0
    watchlist: str = ""
    watchlist_max_edits: Annotated[int, Range(0)] = 0
    watchlist_early: bool = True
    follow: bool = False
    follow_poll_s: Annotated[float, Range(0, above=True)] = 2.0
    follow_idle_s: Annotated[float, Range(0)] = 0.0
    webhook: str = ""
    webhook_headers: tuple[str, ...] = ()
    webhook_timeout_s: Annotated[float, Range(0, above=True)] = 5.0
    webhook_ca: str = ""  # a PEM file of certificates an https webhook is also trusted by (a LAN service's own)
    webhook_images: bool = False
    webhook_outages: bool = False
