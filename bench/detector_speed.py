"""Detector speed: median ms per 1280x720 frame, PyTorch and ONNX Runtime (its static int8 export too, when
`detection/export.py --int8` has written it beside the weights; and CUDA when present).

    python bench/detector_speed.py --weights weights/detector.pt --imgsz 640 [--frames DIR] [--only cuda]
Run on an otherwise idle machine.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import statistics
import time

import numpy as np


def median_ms(detector, frames: list[np.ndarray], repeats: int) -> float:
    detector.detect(frames[0])
    times = []
    for i in range(repeats):
        t0 = time.perf_counter()
        detector.detect(frames[i % len(frames)])
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> int:
    import torch

    from detection import DetectorConfig, PlateDetector
    from detection.export import export_onnx
    from ocr.process import read_bgr

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", type=Path, default=Path("weights/detector.pt"))
    ap.add_argument("--imgsz", type=int, default=640)
    ap.add_argument("--frames", type=Path, help="folder of frames (default: random 1280x720 frames)")
    ap.add_argument("--repeats", type=int, default=30)
    ap.add_argument("--only", default="", help="only the variants whose name holds this (e.g. cuda)")
    args = ap.parse_args()
    if "cuda" in args.only and not torch.cuda.is_available():
        raise SystemExit("error: --only cuda, but CUDA is not available")
    if args.frames:
        frames = [read_bgr(p) for p in sorted(args.frames.glob("*.jpg"))[:10]]
    else:
        frames = [np.random.default_rng(i).integers(0, 255, (720, 1280, 3), dtype=np.uint8) for i in range(4)]
    onnx = args.weights.with_suffix(".onnx")
    if not onnx.is_file():
        onnx = export_onnx(args.weights, args.imgsz)
    variants = {"pytorch (cpu)": DetectorConfig(weights=str(args.weights), imgsz=args.imgsz, device="cpu",
                                                onnx_on_cpu=False),
                "onnxruntime (cpu)": DetectorConfig(weights=str(onnx), imgsz=args.imgsz, device="cpu")}
    int8 = onnx.with_name(onnx.stem + "_int8.onnx")  # detection/export.py --int8
    if int8.is_file():
        variants["onnxruntime int8 (cpu)"] = DetectorConfig(weights=str(int8), imgsz=args.imgsz, device="cpu")
    if torch.cuda.is_available():
        variants["pytorch fp32 (cuda)"] = DetectorConfig(weights=str(args.weights), imgsz=args.imgsz, device="cuda:0",
                                                         half=False)
        variants["pytorch fp16 (cuda)"] = DetectorConfig(weights=str(args.weights), imgsz=args.imgsz, device="cuda:0",
                                                         half=True)
    variants = {name: cfg for name, cfg in variants.items() if args.only in name}
    if not variants:
        raise SystemExit(f"error: no variant's name holds --only {args.only!r}")
    print(f"imgsz {args.imgsz}, frames {frames[0].shape[1]}x{frames[0].shape[0]}, {torch.get_num_threads()} threads")
    for name, cfg in variants.items():
        print(f"{name:24s} {median_ms(PlateDetector(cfg), frames, args.repeats):8.1f} ms/frame")
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
