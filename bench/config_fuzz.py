"""Every configuration key given nonsense: each value must be refused in one `error:` line or run, never end in a
traceback. `run_pipeline.py` is given each key of configs/{pipeline,detector,tracker,fusion}.yaml on the bundled
stills (the tracker's keys on the clip, with BoT-SORT, where they are used), `detection/train.py` each key of
configs/detector_train.yaml for one epoch on the bundled stills, and `ocr/train.py` each key of the OCR config for a
one-epoch run of 64 plates; outputs go to a temporary folder.

    python bench/config_fuzz.py [--only pipeline|detector|ocr] [--values xyz -5 "[1, 2"]    # about 25 min on 2 cores

Prints one line per run (key, value, exit status, last line) and ends with the runs that printed a traceback; exits
1 if any did. Output paths (output_dir, log_file, out_dir, dataset_dir, weights_out) are left out: any name is a path
there.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import dataclasses
import os
import subprocess
import tempfile

ROOT = Path(__file__).resolve().parents[1]
PATH_KEYS = {"output_dir", "log_file", "out_dir", "dataset_dir", "weights_out"}


def runs(only: str, tmp: Path) -> list[tuple[str, list[str]]]:
    """(key, argv before its `key=value`) of every run to make."""
    from detection.train_config import DetectorTrainConfig
    from ocr.config import OCRConfig
    from pipeline.settings import COMPONENTS

    out: list[tuple[str, list[str]]] = []
    if only in ("", "pipeline"):
        for comp, cls in COMPONENTS.items():
            for f in dataclasses.fields(cls):
                key = f.name if comp == "pipeline" else f"{comp}.{f.name}"
                clip = ["samples/clip.mp4", "tracker.tracker_type=botsort"]  # where the tracker's keys are used
                source = clip if comp == "tracker" else ["samples/stills"]
                out.append((key, ["run_pipeline.py", *source, f"output_dir={tmp / 'pipeline'}"]))
    if only in ("", "detector"):
        small = ["train=[samples/stills]", "val=[samples/stills]", "epochs=1", "imgsz=64", "batch=2", "workers=0",
                 f"dataset_dir={tmp / 'detector_set'}", f"weights_out={tmp / 'detector' / 'd.pt'}"]
        for f in dataclasses.fields(DetectorTrainConfig):
            out.append((f.name, ["detection/train.py", *small, f"out_dir={tmp / 'detector' / f.name}"]))
    if only in ("", "ocr"):
        base = ["epochs=1", "samples_per_epoch=64", "val=[{synth: digits, size: 32}]", "num_workers=0"]
        for f in dataclasses.fields(OCRConfig):
            out.append((f.name, ["ocr/train.py", *base, f"out_dir={tmp / 'ocr' / f.name}"]))
    return [(k, argv) for k, argv in out if k.split(".")[-1] not in PATH_KEYS]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", choices=("pipeline", "detector", "ocr"), default="")
    ap.add_argument("--values", nargs="+", default=["xyz", "-5", "[1, 2"])
    args = ap.parse_args()
    env = dict(os.environ, YOLO_OFFLINE="1")
    bad = []
    with tempfile.TemporaryDirectory() as tmp:
        for key, argv in runs(args.only, Path(tmp)):
            for value in args.values:
                cmd = [sys.executable, *argv, f"{key}={value}"]
                try:
                    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
                    text, status = r.stdout + r.stderr, str(r.returncode)
                except subprocess.TimeoutExpired:
                    text, status = "", "timeout"
                last = next((line for line in reversed(text.splitlines()) if line.strip()), "")
                if "Traceback" in text:
                    bad.append(f"{key}={value}: {last}")
                print(f"{key}={value!r}: {status}: {last.strip()[:160]}", flush=True)
    print(f"\n{len(bad)} runs ended in a traceback" + "".join(f"\n  {b}" for b in bad))
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
