"""How long Python's collections of the heap hold every thread while a script runs (`gc.callbacks`).

    python bench/gc_pauses.py [--min-ms 50] [--out FILE] run_pipeline.py output_dir=/tmp/gc
    python bench/gc_pauses.py bench/soak.py --minutes 3
    python bench/gc_pauses.py --module pytest -q -p no:cacheprovider tests

Calls the script's (or the `--module`'s) `main(argv)`, or its `main()` with its arguments in `sys.argv`, in this
process; notes each collection that took at least `--min-ms`, and prints them (seconds since the start, generation,
duration, objects collected), then a count, the longest and the total by generation. A full collection walks every
object the process holds; with torch and ultralytics imported that is 0.3 million and more, so on a slow CPU one
takes tenths of a second.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import gc
import importlib
import inspect
import runpy
import time
from dataclasses import dataclass
from typing import Any

from common.cli import at_least, prepare_outputs
from common.errors import UserError


@dataclass(frozen=True)
class Pause:
    """One collection: when it began (s since the start), its generation, how long it took, what it collected."""
    at_s: float
    generation: int
    seconds: float
    collected: int


class Watch:
    """Notes each collection of at least `min_s` seconds, from a `gc.callbacks` hook."""

    def __init__(self, min_s: float) -> None:
        self.min_s, self.begun = min_s, time.perf_counter()
        self.pauses: list[Pause] = []
        self._start = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        now = time.perf_counter()
        if phase == "start":
            self._start = now
        elif now - self._start >= self.min_s:
            self.pauses.append(Pause(round(self._start - self.begun, 2), info["generation"], now - self._start,
                                     info["collected"]))


def report(pauses: list[Pause], min_ms: float) -> str:
    """The pauses, one a line, then a count, the longest and the total by generation."""
    lines = [f"{p.at_s:9.2f} s  gen{p.generation}  {p.seconds * 1000:7.1f} ms  ({p.collected} collected)"
             for p in pauses]
    for g in sorted({p.generation for p in pauses}):
        own = [p.seconds for p in pauses if p.generation == g]
        lines.append(f"gen{g}: {len(own)} collections of {min_ms:g} ms or more, longest {max(own) * 1000:.0f} ms, "
                     f"{sum(own):.2f} s in all")
    return "\n".join(lines or [f"no collection of {min_ms:g} ms or more"])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--min-ms", type=at_least(0), default=50, help="note collections at least this long")
    ap.add_argument("--out", type=Path, help="also write the report here")
    ap.add_argument("--module", action="store_true", help="the target is a module's name (as python -m), not a script")
    ap.add_argument("target", nargs=argparse.REMAINDER, help="the script (or module) and its arguments")
    args = ap.parse_args(argv)
    if not args.target:
        ap.error("give a script to run, or --module and a module")
    name, rest = args.target[0], args.target[1:]
    script = None if args.module else Path(name)
    if script is not None and not script.is_file():
        ap.error(f"script not found: {script}")
    try:
        prepare_outputs(args.out)  # a report it cannot write said before the run, not after
    except UserError as exc:
        ap.error(str(exc))
    argv0, path0 = sys.argv, list(sys.path)
    if script is not None:
        sys.path.insert(0, str(script.resolve().parent))
    watch = Watch(args.min_ms / 1000)
    try:
        try:
            namespace = vars(importlib.import_module(name)) if script is None else runpy.run_path(str(script))
        except ModuleNotFoundError as exc:
            if exc.name != name:
                raise
            ap.error(f"no module named {name}")
        entry = namespace.get("main")
        if not callable(entry):
            ap.error(f"{name} has no main() to call")
        sys.argv = [name, *rest]  # for a main() that reads them there
        gc.callbacks.append(watch)
        try:  # (given its arguments, an entry point returns rather than ending the process)
            code = entry(rest) if inspect.signature(entry).parameters else entry()
        except SystemExit as e:
            code = e.code
        finally:
            gc.callbacks.remove(watch)
    finally:
        sys.argv, sys.path[:] = argv0, path0
    text = report(watch.pauses, args.min_ms)
    print(text, file=sys.stderr)
    if args.out:
        args.out.write_text(text + "\n")
    return code if isinstance(code, int) else (0 if code is None else 1)


if __name__ == "__main__":
    raise SystemExit(main())
