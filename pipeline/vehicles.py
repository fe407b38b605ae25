"""Vehicles in frames you supply, from Python, as `run_pipeline.py` reads a camera: detector, tracker, recognizer and
fusion, one event per vehicle when its track ends. For frames from your own capture (GStreamer, a robot, a video
you decode yourself); nothing is written to disk.

    from pipeline import VehicleReader
    reader = VehicleReader.from_configs(["roi=[[0.2,0.4],[0.8,0.4],[0.8,1],[0.2,1]]"])   # key=value as on the
    for image in my_frames():                    # command line; BGR (or greyscale) numpy images, in order (RGB
                                                 # or RGBA ones, as picamera2 gives them: from_configs(rgb=True))
        for vehicle in reader.add(image):        # PlateEvent: text, confidence, box, first_seen_utc, ...
            print(vehicle.text, vehicle.confidence, vehicle.first_seen_utc)
    for vehicle in reader.finish():              # the vehicles still in view when the frames end
        print(vehicle.text)

Frames given with their own times (`reader.add(image, time_s)`: a recording decoded elsewhere) carry positions, and UTC
times too when the configs say when `time_s` 0 was (`video_start_utc=2026-12-05T22:00:00Z`).

`VehicleReader.from_configs(out="runs/pipeline/gate")` also writes each event as `run_pipeline.py` does (events.db,
events.jsonl, events.csv, crops/, frames/, the webhook), until `reader.close()`, which returns the vehicles still in
view as `finish()` does (the end of a `with` block closes it too; those vehicles are then in the outputs only).
"""
from __future__ import annotations

import math
import time
from collections import defaultdict, deque
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import numpy as np

from common.errors import UserError
from common.paths import ROOT
from ocr.process import as_bgr, turn
from pipeline.orchestrator import STAGE_WINDOW, Pipeline
from pipeline.types import Frame, PlateEvent, clock_step


class _Collected:
    """The sink a reader's events wait in until `add` or `finish` hands them over."""

    def __init__(self) -> None:
        self.events: list[PlateEvent] = []

    def write(self, event: PlateEvent) -> None:
        self.events.append(event)


class VehicleReader:
    """`add(image[, time_s]) -> list[PlateEvent]`: the vehicles whose tracks that frame ended; `finish()` ends the
    rest. Times: without `time_s` each frame is timed as it is added and events carry UTC times, as a camera's do;
    with it (seconds from the first frame: a recorded video's positions) they carry those times only."""

    def __init__(self, pipeline: Pipeline, outputs: ExitStack | None = None, rotate: int = 0,
                 rgb: bool = False) -> None:
        self.pipeline, self._out, self._outputs = pipeline, _Collected(), outputs or ExitStack()
        self.rotate, self.rgb = rotate, rgb  # each frame turned clockwise first (`rotate`); its colours taken as RGB(A)
        pipeline.sinks = [self._out, *pipeline.sinks]
        self._times: dict[str, deque[float]] = defaultdict(lambda: deque(maxlen=STAGE_WINDOW))
        self._n, self._t0, self._last = 0, 0.0, -float("inf")

    @classmethod
    def from_configs(cls, overrides: list[str] | tuple[str, ...] = (), config_dir: str | Path = ROOT / "configs",
                     name: str = "frames", out: str | Path | None = None, rgb: bool = False) -> "VehicleReader":
        """Built from the YAML configs in `config_dir` with `key=value` overrides (roi, line, watchlist, fusion and
        tracker keys), as `run_pipeline.py` builds a camera's pipeline; events call their source `name`. With `out`
        (a folder), events are also written there as `run_pipeline.py` writes a camera's (events.db, events.jsonl,
        events.csv, crops/, frames/, the webhook; no annotated video), until `close()`. `rgb`: the frames are RGB or
        RGBA arrays (picamera2's default XBGR8888, PIL, imageio, PyAV's rgb24), not BGR."""
        from pipeline.app import vehicle_reader
        from pipeline.settings import load_configs, override_list

        return vehicle_reader(load_configs(config_dir, override_list(overrides)), name, out=out, rgb=rgb)

    def __enter__(self) -> "VehicleReader":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> list[PlateEvent]:
        """`finish()`, then the outputs closed; returns the last vehicles."""
        try:
            return self.finish()
        finally:
            self._outputs.close()

    def add(self, image: np.ndarray, time_s: float | None = None) -> list[PlateEvent]:
        """Process one frame; returns the vehicles whose tracks ended with it (usually none)."""
        image = turn(as_bgr(image, "a frame", self.rgb), self.rotate)
        if self._n == 0:
            self._t0 = time.monotonic()
            if time_s is None:  # timed as they come: events carry UTC times
                self.pipeline.fuser.clock = time.time()
        elif time_s is None and self.pipeline.fuser.clock is not None:
            step = clock_step(self.pipeline.fuser.clock, self._t0)
            if step:
                self.pipeline.clock_set(step, self.pipeline.name)
        t = time.monotonic() - self._t0 if time_s is None else float(time_s)
        if not math.isfinite(t):
            raise UserError(f"frame {self._n}: time_s must be a number of seconds, not {time_s!r}")
        if not t >= self._last:
            raise UserError(f"frame {self._n}: time {t:g} s is before the frame before it ({self._last:g} s)")
        self._last = t
        self.pipeline.fit(image)
        self.pipeline.step(Frame(image, self._n, t, self.pipeline.name), self._times)
        self._n += 1
        return self._take()

    def finish(self) -> list[PlateEvent]:
        """The vehicles of the tracks still open, as events; the reader then starts afresh (new tracks)."""
        self.pipeline.finish("end")
        self.pipeline.tracker.reset()
        return self._take()

    def _take(self) -> list[PlateEvent]:
        events, self._out.events = self._out.events, []
        return events

