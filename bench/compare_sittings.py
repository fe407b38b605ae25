"""Two sittings of `bash bench/all.sh` compared figure by figure, times left out: what another machine reproduces.

    python bench/compare_sittings.py bench/results/sitting_2026-12-03 bench/results/sitting_2026-12-03_zen2

Every JSON file the two folders share is read; each number in it (nested keys joined with `/`) is compared, except
times and speeds (`ms`, `fps`, `per_s`, `stage_ms`, `threads`, ...), which differ by machine and hour. Lists
(events, per-vehicle rows) are compared as their length only: a figure that changed shows in the numbers beside
them. Prints each figure that differs (NaN: a figure one sitting's code did not write yet) and a summary; exit
status 0 either way (a report, not a check).
"""
from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from common.cli import run_main  # noqa: E402
from common.errors import UserError  # noqa: E402

TIMING = {"ms", "fps", "threads", "gmac", "seconds", "elapsed"}  # words of a key that name a time or a speed


def is_timing(key: str) -> bool:
    """Whether a figure's key names a time or a speed (`ms_per_plate`, `stage_ms/detect`, `fps`, `samples_per_s`,
    `photos_per_s_under_load`)."""
    for seg in key.lower().split("/"):
        words = seg.replace("-", "_").replace(" ", "_").split("_")
        if TIMING & set(words) or any(w == "per" and nxt == "s" for w, nxt in zip(words, words[1:])):
            return True
    return False


SPREAD = {"min", "max"}  # a speed's spread over rounds, beside it: {"samples_per_s": 35.3, "min": 34.2, "max": 35.6}


def timing_keys(figs: dict[str, float]) -> set[str]:
    """The keys of `figs` that are times or speeds, with the `min` and `max` beside a speed."""
    timed = {k for k in figs if is_timing(k)}
    parents = {k.rpartition("/")[0] for k in timed}
    return timed | {k for k in figs if k.rpartition("/")[2] in SPREAD and k.rpartition("/")[0] in parents}


def figures(value: Any, prefix: str = "") -> dict[str, float]:
    """The numbers of a JSON value by their key path; a list counts as its length (`key/len`)."""
    if isinstance(value, (int, float)):  # a bool too (an int)
        return {prefix: float(value)}
    if isinstance(value, dict):
        out: dict[str, float] = {}
        for k, v in value.items():
            out.update(figures(v, f"{prefix}/{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        return {f"{prefix}/len" if prefix else "len": float(len(value))}
    return {}


def compare(a: Path, b: Path, tol: float = 1e-5) -> tuple[list[tuple[str, str, float, float]], list[str], int, int]:
    """(figures that differ by more than `tol` or are in one sitting only, as (file, key, a, b) with NaN for the
    missing side; files in only one folder; files compared; figures both sittings have). The tolerance keeps
    float noise (a detector's confidence in its 7th digit) out; one plate in 2,000 is 5e-4."""
    for d in (a, b):
        if not d.is_dir():
            raise UserError(f"{d}: no such folder of results")
    names_a = {p.name for p in a.glob("*.json")}
    names_b = {p.name for p in b.glob("*.json")}
    if not names_a & names_b:
        raise UserError(f"{a} and {b} share no .json results")
    diffs, n = [], 0
    for name in sorted(names_a & names_b):
        try:
            fa, fb = (figures(json.loads((d / name).read_text())) for d in (a, b))
        except json.JSONDecodeError as exc:
            raise UserError(f"{name}: not JSON ({exc.msg}, line {exc.lineno})") from None
        timed = timing_keys(fa) | timing_keys(fb)
        for key in sorted((fa.keys() | fb.keys()) - timed):
            va, vb = fa.get(key, math.nan), fb.get(key, math.nan)
            n += key in fa and key in fb
            if not (abs(va - vb) <= tol):
                diffs.append((name, key, va, vb))
    return diffs, sorted(names_a ^ names_b), len(names_a & names_b), n


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("a", type=Path, help="the first sitting's results folder")
    ap.add_argument("b", type=Path, help="the second sitting's results folder")
    args = ap.parse_args(argv)

    def work() -> None:
        diffs, only, n_files, n = compare(args.a, args.b)
        changed = [d for d in diffs if not (math.isnan(d[2]) or math.isnan(d[3]))]
        files = sorted({d[0] for d in diffs})
        for name in files:
            print(name)
            for _, key, va, vb in (d for d in diffs if d[0] == name):
                print(f"  {key}: {va:.6g} -> {vb:.6g}")
        if only:
            print(f"in one sitting only: {', '.join(only)}")
        print(f"{n_files} files, {n} figures in both (times left out): {n - len(changed)} the same, {len(changed)} "
              f"differ; {len(diffs) - len(changed)} figures in one sitting only")

    return run_main(work, sink=lambda m: print(m, end=""))


if __name__ == "__main__":
    raise SystemExit(main())
