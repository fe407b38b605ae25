"""The motion gate against sensor noise that reaches the pipeline whole: a clip's frames with fresh Gaussian noise
added to each as it is decoded (a camera's noise as a lightly compressed stream keeps it; the clips' own noise was
mostly smoothed away by their encoder), read against the clip's vehicles.

    python bench/motion_gate_noise.py --video data_gen/clip_val_quiet/clip.mp4 \\
        --expected data_gen/clip_val_quiet/expected.csv --noise 6 [motion_gate=false] [--json OUT]

Prints the vehicles read, misread events, frames and the frames the detector ran on.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
from dataclasses import replace
from typing import Any, Iterator

import cv2
import numpy as np


class Noisy:
    """A source's frames with Gaussian noise of `sigma` grey levels added to each, drawn afresh (seeded)."""

    def __init__(self, source: Any, sigma: float, seed: int = 0) -> None:
        self.source, self.sigma = source, sigma
        cv2.setRNGSeed(seed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.source, name)

    def __iter__(self) -> Iterator[Any]:
        for f in self.source:
            noise = np.empty(f.image.shape, np.float32)
            cv2.randn(noise, 0.0, self.sigma)
            yield replace(f, image=np.clip(f.image + noise, 0, 255).astype(np.uint8))

    def close(self) -> None:
        self.source.close()


def main() -> int:
    from common.cli import run_main

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--video", required=True)
    ap.add_argument("--expected", type=Path, required=True)
    ap.add_argument("--noise", type=float, default=6.0, help="sigma of the noise added, grey levels")
    ap.add_argument("--json", type=Path)
    ap.add_argument("overrides", nargs="*")
    a = ap.parse_args()

    def work() -> None:
        from pipeline.app import _recognizer, video_detector
        from pipeline.evaluate import run_clip
        from pipeline.settings import load_configs, video_configs

        cfgs = video_configs(load_configs(Path(__file__).resolve().parents[1] / "configs", a.overrides))
        detector = video_detector(cfgs)
        recognizer = _recognizer(cfgs.pipeline, cfgs.fusion.patterns)
        res = run_clip(a.video, a.expected, cfgs, detector, recognizer, lambda source: Noisy(source, a.noise))
        n = res["vehicles"]
        print(f"{a.video} + noise {a.noise:g} ({' '.join(a.overrides) or 'defaults'}): {round(res['read_rate'] * n)} of "
              f"{n} read, {res['misread_events']} misread events, detector on {res['detected_frames']} of "
              f"{res['frames']} frames")
        if a.json:
            a.json.write_text(json.dumps({**res, "noise": a.noise, "overrides": a.overrides}, indent=2))

    return run_main(work)


if __name__ == "__main__":
    raise SystemExit(main())
