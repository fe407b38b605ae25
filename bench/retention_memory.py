"""How much memory `keep_days` pruning takes on a busy camera's month of events (pipeline/retention.py).

    python bench/retention_memory.py [--events 60000]

Writes an events.jsonl and an events.csv of `--events` vehicles (half of them 40 days old, half 1 day) into a
temporary folder, prunes it to 30 days, and prints each file's size and the peak memory Python allocated while
pruning (`tracemalloc`): the files are read and rewritten line by line, never held whole.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import tempfile
import time
import tracemalloc

from common.cli import at_least
from pipeline.retention import prune_folder
from pipeline.sinks import CsvSink, JsonlSink
from pipeline.types import PlateEvent, utc_iso

DAY = 86400


def month(out: Path, n: int, now: float) -> None:
    """`n` events, alternately 40 days and 1 day old, in events.jsonl and events.csv under `out`."""
    with JsonlSink(out / "events.jsonl") as js, CsvSink(out / "events.csv") as cs:
        for i in range(n):
            when = utc_iso(now - (40 if i % 2 else 1) * DAY)
            e = PlateEvent(f"id{i:08d}", "gate-in", i, "AB123CD", 0.97, (0.99,) * 7, (), 5, i, i + 30, 0.0, 1.2, i + 12,
                           (410.0, 300.0, 520.0, 330.0), "lost", first_seen_utc=when, last_seen_utc=when)
            js.write(e)
            cs.write(e)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--events", type=at_least(1), default=60000)
    args = ap.parse_args(argv)
    now = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp)
        month(out, args.events, now)
        sizes = {p.name: p.stat().st_size for p in sorted(out.glob("events.*"))}
        tracemalloc.start()
        t0 = time.perf_counter()
        pruned = prune_folder(out, 30, now=now)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    print(f"{args.events} events: " + ", ".join(f"{k} {v / 1e6:.1f} MB" for k, v in sizes.items()))
    print(f"pruned to 30 days: {pruned.rows} rows removed in {seconds:.1f} s, peak memory {peak / 1e6:.2f} MB "
          f"({peak / max(sizes.values()):.1%} of the larger file)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
