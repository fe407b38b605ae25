"""A camera read for a long while: does the process's memory, open files or threads grow?

    python bench/soak.py --minutes 20 [--fps 25] [--drop-every-s 120] [--json bench/results/soak.json] [key=value ...]

A camera that never ends (the bundled clip's frames over and over, at `--fps` as a camera gives them) runs through the
product's own path (`pipeline.app.run_video` on a stream, as `run_pipeline.py rtsp://...` runs one) with every output
on: events.db, events.jsonl, events.csv, crops, frames, the annotated video in parts of `video_segment_min` minutes
(1 here) and summary.json rewritten as it runs. `fusion.dedupe_s=0` by default, so that every pass of the clip's
vehicles is written as events, not only the first. Every `--drop-every-s` seconds the camera stops giving frames for
a few seconds, and the stream is lost and reconnected as a real one is (a new capture each time).

Every `--sample-s` seconds it notes the process's resident memory (VmRSS), open file descriptors and threads; after
the first `--warmup-min` minutes (models, allocator pools and the first parts settle) it fits a line to the memory
and reports its slope in MB per hour. A leak of a kilobyte a frame is ~90 MB an hour at 25 fps. Linux only (/proc).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import tempfile
import threading
import time
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]


class LoopCamera:
    """`cv2.VideoCapture` for a live source: `frames` over and over at `fps`; from `fail_at` (monotonic s) on, every
    read fails (the stream dropped) until this capture is released and another opened."""

    def __init__(self, frames: list[np.ndarray], fps: float, fail_at: float = float("inf")) -> None:
        self.frames, self.period, self.fail_at = frames, 1.0 / fps, fail_at
        self.i, self.next_t = 0, time.monotonic()

    def isOpened(self) -> bool:
        return True

    def get(self, prop: int) -> float:
        return 1.0 / self.period if prop == cv2.CAP_PROP_FPS else 0.0

    def read(self) -> tuple[bool, np.ndarray | None]:
        self.next_t += self.period
        time.sleep(max(0.0, self.next_t - time.monotonic()))
        if time.monotonic() >= self.fail_at:
            return False, None
        img = self.frames[self.i % len(self.frames)].copy()  # a decoder hands over a new buffer each frame
        self.i += 1
        return True, img

    def release(self) -> None:
        pass


def process_now(pid: int | str = "self") -> dict[str, float]:
    """A process's resident memory (MB), open file descriptors and threads, from /proc (this one's by default)."""
    proc = Path("/proc") / str(pid)
    status = dict(line.split(":", 1) for line in (proc / "status").read_text().splitlines() if ":" in line)
    return {"rss_mb": round(int(status["VmRSS"].split()[0]) / 1024, 1), "fds": len(os.listdir(proc / "fd")),
            "threads": int(status["Threads"])}


def slope_per_hour(samples: list[dict[str, float]], key: str) -> float:
    """Least-squares slope of `key` against time, per hour (0 with fewer than two samples)."""
    if len(samples) < 2:
        return 0.0
    t = np.array([s["t_s"] for s in samples]) / 3600
    return float(np.polyfit(t, np.array([s[key] for s in samples]), 1)[0])


def main() -> int:
    from loguru import logger

    import pipeline.sources as sources
    from common.device import cpu_name
    from pipeline.app import run_video
    from pipeline.settings import load_configs

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--minutes", type=float, default=20.0, help="how long the camera runs")
    ap.add_argument("--fps", type=float, default=25.0, help="the camera's frame rate")
    ap.add_argument("--drop-every-s", type=float, default=120.0, help="the stream drops this often (0: never)")
    ap.add_argument("--sample-s", type=float, default=10.0, help="how often memory, files and threads are noted")
    ap.add_argument("--warmup-min", type=float, default=3.0, help="minutes left out of the memory's slope")
    ap.add_argument("--clip", default=str(ROOT / "samples" / "clip.mp4"), help="the frames the camera loops")
    ap.add_argument("--json", type=Path, help="write the figures and the samples here")
    ap.add_argument("overrides", nargs="*", help="key=value (pipeline) or component.key=value")
    args = ap.parse_intermixed_args()
    if not Path("/proc/self/status").is_file():
        sys.exit("error: bench/soak.py reads /proc (Linux only)")
    cap = cv2.VideoCapture(args.clip)
    frames = []
    while (got := cap.read())[0]:
        frames.append(got[1])
    cap.release()
    if not frames:
        sys.exit(f"error: cannot read frames from {args.clip}")

    logger.remove()  # the stream's warnings and errors only, not a line per vehicle
    logger.add(sys.stderr, level="WARNING")
    opened = []  # the captures the stream opened: the first, then one per reconnect
    start = time.monotonic()

    def opener(url: Any, cfg: Any) -> LoopCamera:
        now = time.monotonic()
        fail_at = now + args.drop_every_s if args.drop_every_s > 0 else float("inf")
        opened.append(now - start)
        return LoopCamera(frames, args.fps, fail_at)

    def open_source(spec: str, stride: int = 1, live: Any = sources.LiveConfig(), stop: Any = None,
                    *window: float) -> Any:
        return sources.LiveSource(spec, live, opener, stop=stop)

    sources.open_source = open_source  # run_video imports it when it runs
    stop, samples, result = threading.Event(), [], {}
    with tempfile.TemporaryDirectory() as tmp:
        cfgs = load_configs(ROOT / "configs", [
            f"output_dir={tmp}", "progress=false", "video_segment_min=1", "save_frames=true", "status_every_s=30",
            "stall_timeout_s=2", "fusion.dedupe_s=0", *args.overrides])

        def run() -> None:
            result.update(run_video("rtsp://soak/camera", cfgs, stop))

        worker = threading.Thread(target=run, name="soak")
        worker.start()
        end = start + args.minutes * 60
        print(f"{cpu_name()}: a camera at {args.fps:g} fps for {args.minutes:g} min, dropped every "
              f"{args.drop_every_s:g} s", flush=True)
        while worker.is_alive() and time.monotonic() < end:
            time.sleep(min(args.sample_s, max(0.0, end - time.monotonic())))
            s = {"t_s": round(time.monotonic() - start, 1), **process_now()}
            samples.append(s)
            if len(samples) % max(1, round(60 / args.sample_s)) == 0:
                print(f"{s['t_s'] / 60:6.1f} min  rss {s['rss_mb']:7.1f} MB  fds {s['fds']:4}  threads "
                      f"{s['threads']:3}", flush=True)
        stop.set()
        worker.join()
        parts = len(list(Path(tmp).glob("*/annotated*.mp4")))
    if not result:
        sys.exit("error: the camera's run ended in an error (above)")
    settled = [s for s in samples if s["t_s"] >= args.warmup_min * 60]
    figures = {
        "cpu": cpu_name(), "minutes": args.minutes, "camera_fps": args.fps, "frames_read": result["frames"],
        "stale_frames_dropped": result["dropped_frames"], "outages": result["outages"],
        "captures_opened": len(opened), "events": result["events"], "video_parts": parts,
        "rss_mb_after_warmup": settled[0]["rss_mb"] if settled else None,
        "rss_mb_end": samples[-1]["rss_mb"] if samples else None,
        "rss_mb_max": max((s["rss_mb"] for s in samples), default=None),
        "rss_mb_per_hour": round(slope_per_hour(settled, "rss_mb"), 1),
        "fds_after_warmup": settled[0]["fds"] if settled else None, "fds_end": samples[-1]["fds"] if samples else None,
        "threads_after_warmup": settled[0]["threads"] if settled else None,
        "threads_end": samples[-1]["threads"] if samples else None,
    }
    print(json.dumps(figures, indent=1))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({**figures, "samples": samples}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
