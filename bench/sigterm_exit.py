"""Seconds from SIGTERM to the end of a run_pipeline.py process reading a long clip (a fake detector and reader, so
only the stop is timed): as the command line ends it (`leave`: os._exit once the outputs are closed) and with the
interpreter's teardown (main called from Python, then sys.exit), in interleaved rounds.

    python bench/sigterm_exit.py [--rounds 3] [--json bench/results/sigterm_exit.json]

Run it on an idle machine, and again just after a large install or a CI run, when this VM's teardown is slowest.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import signal
import statistics
import subprocess
import tempfile
import textwrap
import time

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CHILD = """
    import sys
    import numpy as np
    sys.path.insert(0, {root!r})
    import detection, pipeline.app, run_pipeline
    from detection.detections import Detections
    from ocr.recognizer import PlateRead

    class Bright:  # finds the bright plate
        def __init__(self, cfg): pass
        def detect(self, f):
            ys, xs = np.nonzero(f.max(axis=2) > 150)
            if not len(xs):
                return Detections(np.zeros((0, 4), np.float32), np.zeros(0, np.float32))
            return Detections(np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32),
                              np.array([0.9], np.float32))

    class Reader:
        def probs(self, crops): return np.ones((len(crops), 1), np.float32)
        def decode(self, p): return PlateRead("AB123CD", 0.9, (0.9,) * 7)
        def rows(self, crop): return 1

    detection.PlateDetector = Bright
    pipeline.app._recognizer = lambda cfg, patterns: Reader()
    print("ready", flush=True)
    mode = sys.argv.pop(1)  # leave: as the command line runs it (arguments from sys.argv); teardown: from Python
    sys.exit(run_pipeline.main() if mode == "leave" else run_pipeline.main(sys.argv[1:]))
"""


def long_clip(path: Path, frames: int = 3000) -> None:
    """A 320x240 clip with one bright plate moving back and forth: one track that never ends by itself."""
    vw = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25, (320, 240))
    for i in range(frames):
        img = np.zeros((240, 320, 3), np.uint8)
        x = 40 + abs(i % 200 - 100)
        img[100:130, x:x + 100] = 220
        vw.write(img)
    vw.release()


def stop_seconds(child: Path, clip: Path, out: Path, mode: str) -> float:
    """Start the child on `clip`, let it run a second, SIGTERM it, and return the seconds until it ended."""
    proc = subprocess.Popen([sys.executable, str(child), mode, str(clip), f"output_dir={out}", "progress=false",
                             "fusion.decisive_reads=9999"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    deadline = time.time() + 60
    while not (out / "long" / "annotated.mp4").exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    t0 = time.time()
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=300)
    if proc.returncode != 0:
        raise SystemExit(f"error: the {mode} run ended with status {proc.returncode}")
    return time.time() - t0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    times: dict[str, list[float]] = {"leave": [], "teardown": []}
    with tempfile.TemporaryDirectory() as tmp:
        t = Path(tmp)
        clip, child = t / "long.avi", t / "child.py"
        long_clip(clip)
        child.write_text(textwrap.dedent(CHILD.format(root=str(ROOT))))
        for r in range(a.rounds):
            for mode in times:
                times[mode].append(round(stop_seconds(child, clip, t / f"{mode}{r}", mode), 2))
    result = {mode: {"median_s": statistics.median(v), "runs_s": v} for mode, v in times.items()}
    for mode, v in result.items():
        print(f"{mode:9s} SIGTERM -> exit {v['median_s']:6.2f} s median  {v['runs_s']}")
    if a.json:
        a.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
