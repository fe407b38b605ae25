"""Stays: each vehicle's entry matched with its exit, from the events of earlier runs (a car park, a gate).

    python -m pipeline.stays                                   # every run under runs/pipeline; directions in / out
    python -m pipeline.stays /srv/alpr --entry gate-in --exit gate-out --since 2026-12-01 --csv stays.csv

An entry is an event whose crossing direction (`line=`, `directions=`), output folder or source is `--entry`; an exit
likewise `--exit` (one camera with a counting line, or a camera at each gate). Events are taken in time order (their
UTC times: cameras' events; a video file's have none and are left out, said in the last line). Each exit closes the
open stay of the same plate (O and 0 one character; `--max-edits 1` also a read one character off, the nearest and
the longest open first), which gives its duration; an exit with none is listed as such (the car came in before the
period, or its entry was misread), and a plate that enters again before leaving closes its first stay without an
exit. The stays still open at the end are the vehicles inside. Exit status 0.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from loguru import logger

from common.errors import UserError
from ocr.metrics import edit_distance, near_text
from ocr.process import fold_o0
from pipeline.search import folder_events, output_folders, utc_time, write_csv


@dataclass(frozen=True)
class Stay:
    """One vehicle's visit: its entry and exit events (an empty side: not seen)."""

    plate: str  # as read at the entry (at the exit where there was no entry)
    entry_utc: str
    exit_utc: str
    minutes: float | None  # None without both
    status: str  # stayed | inside | no exit seen | no entry seen
    exit_plate: str = ""  # as read at the exit, where it differs
    entry_confidence: float | None = None
    exit_confidence: float | None = None


def _minutes(a: str, b: str) -> float:
    t = [datetime.fromisoformat(x.replace("Z", "+00:00")) for x in (a, b)]
    return round((t[1] - t[0]).total_seconds() / 60, 1)


def _role(e: dict, folder: Path, entry: str, exit_: str) -> str:
    names = {str(e.get("direction") or ""), folder.name, str(e.get("source") or "")}
    return "entry" if entry in names else "exit" if exit_ in names else ""


def stays(tops: list[Path], entry: str = "in", exit_: str = "out", max_edits: int = 0, since: str = "",
          until: str = "") -> tuple[list[Stay], int]:
    """The stays in the events under `tops`, in time order, and how many entry or exit events had no time."""
    if entry == exit_:
        raise UserError(f"--entry and --exit must differ (both {entry!r})")
    if max_edits < 0:
        raise UserError(f"--max-edits must be 0 or more, not {max_edits}")
    lo, hi = utc_time(since) if since else "", utc_time(until, end=True) if until else ""
    moves, untimed, read, placed = [], 0, 0, 0
    for folder in output_folders(tops):
        for e in folder_events(folder):
            role = _role(e, folder, entry, exit_)
            read += bool(e.get("text"))
            if not role or not e.get("text"):
                continue
            placed += 1
            when = e.get("first_seen_utc") or ""
            if not when:
                untimed += 1
            elif (not lo or when >= lo) and (not hi or when <= hi):
                moves.append((when, role, str(e["text"]), float(e.get("confidence") or 0.0)))
    if read and not placed:  # "0 stays" would read as: nobody came; the events only lack an entry or exit
        raise UserError(f"none of the {read} vehicles read under {', '.join(map(str, tops))} is an entry "
                        f"({entry!r}) or an exit ({exit_!r}): a camera's directions come from its counting line "
                        f"(line=...); cameras at each gate are named by --entry / --exit (their output folders)")
    moves.sort()
    open_: dict[str, tuple[str, str, float]] = {}  # folded plate -> (entry time, plate as read, confidence)
    out: list[Stay] = []
    for when, role, text, conf in moves:
        key = fold_o0(text)
        if role == "entry":
            if key in open_:  # in again without having left: the first stay's exit was not seen
                t, plate, c = open_.pop(key)
                out.append(Stay(plate, t, "", None, "no exit seen", entry_confidence=c))
            open_[key] = (when, text, conf)
            continue
        hit = key if key in open_ else min(
            (k for k in open_ if max_edits and near_text(k, key, max_edits)),
            key=lambda k: (edit_distance(k, key), open_[k][0]), default=None)
        if hit is None:
            out.append(Stay(text, "", when, None, "no entry seen", exit_confidence=conf))
            continue
        t, plate, c = open_.pop(hit)
        out.append(Stay(plate, t, when, _minutes(t, when), "stayed", text if text != plate else "", c, conf))
    out += [Stay(plate, t, "", None, "inside", entry_confidence=c) for t, plate, c in sorted(open_.values())]
    return sorted(out, key=lambda s: s.entry_utc or s.exit_utc), untimed


def main(argv: list[str] | None = None) -> int:
    from common.cli import entry_parser, run_main

    ap = entry_parser(__doc__)
    ap.add_argument("folders", nargs="*", type=Path, default=[Path("runs/pipeline")],
                    help="output folders, and the folders below them (default: runs/pipeline)")
    ap.add_argument("--entry", default="in", help="the direction, output folder or source of entries (default: in)")
    ap.add_argument("--exit", default="out", dest="exit_", help="the same for exits (default: out)")
    ap.add_argument("--max-edits", type=int, default=0, help="also match an exit read this many characters off")
    ap.add_argument("--since", default="", help="only events from this UTC date or time on")
    ap.add_argument("--until", default="", help="only events up to this UTC date (the whole day) or time")
    ap.add_argument("--csv", type=Path, help="also write the stays to this CSV file")
    a = ap.parse_args(argv)

    def work() -> None:
        found, untimed = stays(a.folders, a.entry, a.exit_, a.max_edits, a.since, a.until)
        for s in found:
            span = f"{s.minutes:8.1f} min" if s.minutes is not None else f"{'':12s}"
            times = "  ".join(f"{(t or '-')[:19].replace('T', ' '):19s}" for t in (s.entry_utc, s.exit_utc))
            also = f"  (out as {s.exit_plate})" if s.exit_plate else ""
            logger.info(f"{s.plate:10s} {times}  {span}  {s.status}{also}")
        if a.csv:
            write_csv(a.csv, Stay, found)
        done = [s.minutes for s in found if s.minutes is not None]
        median = f", median {statistics.median(done):.1f} min" if done else ""
        count = {k: sum(s.status == k for s in found) for k in ("inside", "no exit seen", "no entry seen")}
        note = f"; {untimed} entry/exit events without a time (video files) left out" if untimed else ""
        logger.info(f"{len(done)} stays{median}; {count['inside']} inside; {count['no exit seen']} with no exit "
                    f"seen, {count['no entry seen']} with no entry seen{note}")

    return run_main(work, sink=lambda m: print(m, end=""))


if __name__ == "__main__":
    raise SystemExit(main())
