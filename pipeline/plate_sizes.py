"""How wide the plates a camera sees get: its set-up told in the run's summary, and a warning where most plates it
tracks never grow wide enough to read (the camera to be zoomed in or brought nearer its lane)."""
from __future__ import annotations

import statistics
from typing import Iterable

# plates narrower than this in the frame are mostly unreadable: the shipped models read 23 % of the pasted set's
# plates under 60 px wide, 91 % at 60-120 px, 94 % wider (bench/results/pipeline_pasted_crops_holdout.json)
SMALL_PX = 60
MIN_FRAMES = 3  # a track seen in fewer frames is not counted (a box that came and went)
MIN_PLATES = 10  # no advice on fewer plates tracked


def plate_widths(widest: Iterable[float]) -> dict[str, float]:
    """The widest each tracked plate got in the frame (px), summed up: how many plates, the median of those widths,
    and the share that never reached `SMALL_PX`."""
    widths = list(widest)
    if not widths:
        return {"plates": 0}
    return {"plates": len(widths), "median": round(statistics.median(widths), 1),
            f"under_{SMALL_PX}": round(sum(w < SMALL_PX for w in widths) / len(widths), 3)}


def size_advice(widths: dict[str, float], source: str) -> str:
    """A warning where at least `MIN_PLATES` plates were tracked and most of them never got `SMALL_PX` wide; ""
    otherwise."""
    n, small = int(widths.get("plates", 0)), widths.get(f"under_{SMALL_PX}", 0.0)
    if n < MIN_PLATES or small <= 0.5:
        return ""
    return (f"{source}: the plates are too small to read well: {small:.0%} of the {n} plates tracked were never "
            f"{SMALL_PX} px wide (median {widths['median']:g} px), and plates under {SMALL_PX} px wide are read about "
            f"1 in 4 (9 in 10 from {SMALL_PX} px up): zoom the camera in or bring it nearer the lane")
