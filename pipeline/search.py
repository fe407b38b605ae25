"""Search earlier runs' outputs for a plate: when and where was it seen?

    python -m pipeline.search AB123CD                      # every run under runs/pipeline
    python -m pipeline.search AB123CD /srv/alpr --max-edits 1 --since 2026-12-01 --source gate
    python -m pipeline.search 'AB1*' --csv hits.csv       # a partial plate: ? one character, * any run of them
    python -m pipeline.search --watchlist stolen.csv --since 2026-11-01   # every plate of a watchlist, searched back

Each output folder under the given folders is searched: its vehicle events (`events.db`, or `events.jsonl` where a
run kept no database) and its still images' reads (`reads.jsonl` and the earlier runs' `reads.prev*.jsonl`). O and 0
count as one character, as in the watchlist; `--max-edits` also finds reads that many characters off (at most a
third of the plate), and a vehicle whose runner-up reading matches is listed too, marked so. The databases are
opened read-only, so a camera that is running keeps writing. Exit status 0 when the plate was seen, 1 when not.
"""
from __future__ import annotations

import csv
import json
import os
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from loguru import logger

from common.errors import UserError
from ocr.alphabet import plate_label
from ocr.metrics import EditIndex, edit_distance, near_text
from ocr.process import fold_o0
from pipeline.sinks import TABLE_ENCODING
from pipeline.types import iso_time, utc_iso
from pipeline.watchlist import WILDCARDS, is_pattern, plate_pattern


@dataclass(frozen=True)
class Sighting:
    """One vehicle event or image read that matches the plate searched for."""

    kind: str  # vehicle (a video's or camera's event) | image (a still image's read)
    seen_utc: str  # ISO 8601 (a camera's events; images: when taken, by their EXIF, else their file's time); empty:
                   # a video file's event (but one whose start was given: video_start_utc)
    folder: str  # the run's output folder
    source: str  # the event's source, or the image's name
    text: str  # what was read
    confidence: float
    match: str  # exact | O/0 | N edit(s) | pattern | runner-up TEXT (with --watchlist: ": PLATE (label)" after it)
    at: str  # where in the source: a video file's seconds, a camera's track times; the box of an image read (and
              # where the photo was taken, when its EXIF says: "at lat,lon")
    direction: str = ""
    watch_label: str = ""
    crop_path: str = ""
    frame_path: str = ""


def matcher(query: str, max_edits: int = 0) -> Callable[[str], str]:
    """How a read `text` matches `query` ('' when it does not): `exact`, `O/0` (equal once O is read as 0),
    `N edits` (within `max_edits`, as the watchlist counts them) or `pattern` (a query with ? and *)."""
    label = plate_label(query)
    if not label or not all(c.isalnum() or c in WILDCARDS for c in label):
        raise UserError(f"plate to search for {query!r}: letters and digits, with ? for one character and * for any")
    if max_edits < 0:
        raise UserError(f"--max-edits must be 0 or more, not {max_edits}")
    want = fold_o0(label)
    if is_pattern(label):
        rx = plate_pattern(label)
        return lambda text: "pattern" if text and rx.match(fold_o0(text)) else ""

    def match(text: str) -> str:
        if not text:
            return ""
        got = fold_o0(text)
        if got == want:
            return "exact" if text == label else "O/0"
        if max_edits and near_text(want, got, max_edits):
            d = edit_distance(want, got)
            return f"{d} edit{'s' if d > 1 else ''}"
        return ""

    return match


def utc_time(text: str, end: bool = False) -> str:
    """`--since` / `--until` as an ISO 8601 UTC string comparable with the events' (`2026-12-01`, `2026-12-01 18:00`,
    `2026-12-01T18:00:00Z`); a bare date `end` of day for `--until`."""
    try:
        t = iso_time(text)
    except ValueError:
        raise UserError(f"not a date or time: {text!r} (e.g. 2026-12-01 or 2026-12-01T18:00)") from None
    if end and len(text.strip()) == 10:
        t = t.replace(hour=23, minute=59, second=59, microsecond=999999)
    return utc_iso(t.timestamp())


def output_folders(tops: list[Path]) -> Iterator[Path]:
    """The run output folders under `tops` (those holding events or reads), in path order. A top that is not a
    folder, or holds no run's outputs (a mistyped or wrong folder: "0 sightings" would mislead), is a UserError."""
    for top in tops:
        if not top.is_dir():
            raise UserError(f"no such folder to search: {top}")
        found = False
        for here, dirs, files in os.walk(top):
            dirs[:] = sorted(d for d in dirs if d not in ("crops", "frames") and not d.startswith("."))
            if {"events.db", "events.jsonl", "reads.jsonl"} & set(files) or any(
                    f.startswith("reads.prev") for f in files):
                found = True
                yield Path(here)
        if not found:
            raise UserError(f"{top} holds no pipeline outputs (no events.db, events.jsonl or reads.jsonl in it or "
                            f"below): give the output_dir of a run, or a folder above it")


def folder_events(folder: Path) -> Iterator[dict]:
    """A folder's vehicle events as dicts (alternatives decoded): from `events.db` where there is one, else, or when
    it cannot be read at all (damaged, or not a database), from `events.jsonl`, which holds the same events."""
    db, jsonl = folder / "events.db", folder / "events.jsonl"
    if db.is_file():
        n = 0
        try:  # row by row: a camera's database of months is not held in memory
            con = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True)
            con.row_factory = sqlite3.Row
            try:
                for row in con.execute("SELECT * FROM events"):
                    r = dict(row)
                    try:
                        r["alternatives"] = json.loads(r.get("alternatives") or "[]")
                    except ValueError:
                        r["alternatives"] = []
                    n += 1
                    yield r
            finally:
                con.close()
        except sqlite3.Error as exc:
            if n == 0 and jsonl.is_file():
                logger.warning(f"{db}: cannot be read ({exc}); its events are read from {jsonl.name} instead")
                yield from json_lines(jsonl)
            else:
                logger.warning(f"{db}: cannot be read ({exc}); its events are not searched"
                               + (f" beyond the first {n}" if n else ""))
    elif jsonl.is_file():
        yield from json_lines(jsonl)


def json_lines(path: Path) -> Iterator[dict]:
    """The JSON objects of a JSON Lines file, a line a crash left unfinished skipped."""
    with path.open(encoding="utf-8", errors="replace") as f:
        for line in f:
            try:
                obj = json.loads(line)
            except ValueError:  # a line a crash left unfinished
                continue
            if isinstance(obj, dict):
                yield obj


def _event_sighting(e: dict, folder: Path, match: str) -> Sighting:
    first, last = e.get("first_time_s") or 0.0, e.get("last_time_s") or 0.0
    return Sighting("vehicle", e.get("first_seen_utc") or "", str(folder), str(e.get("source", "")),
                    str(e.get("text", "")), float(e.get("confidence") or 0.0), match, f"{first:.1f}-{last:.1f} s",
                    e.get("direction") or "", e.get("watch_label") or "", e.get("crop_path") or "",
                    e.get("frame_path") or "")


def _sure(how: str) -> bool:
    """A match of the plate itself, not one a few characters off."""
    return how.split(":")[0] in ("exact", "O/0", "pattern")


def search_folder(folder: Path, match: Callable[[str], str]) -> Iterator[Sighting]:
    """The sightings in one output folder: its events (a runner-up reading counted too) and its image reads."""
    for e in folder_events(folder):
        text = str(e.get("text") or "")
        how = match(text)
        if not _sure(how):  # a runner-up that read the plate itself is said before a near read
            alts = [str(a.get("text", "")) for a in e.get("alternatives") or [] if isinstance(a, dict)]
            hits = [(t, match(t)) for t in alts if t != text]
            pick = next(((t, h) for t, h in hits if _sure(h)), None)
            if pick is None and not how:
                pick = next(((t, h) for t, h in hits if h), None)
            if pick is not None:  # with several plates searched, which one it is stays said
                t, h = pick
                how = f"runner-up {t}" + (h[h.index(":"):] if ":" in h else "")
        if how:
            yield _event_sighting(e, folder, how)
    for path in sorted(folder.glob("reads*.jsonl")):
        for line in json_lines(path):
            for r in line.get("reads") or []:
                how = match(str(r.get("text") or ""))
                if how:  # a photo: when and where its EXIF says it was taken, else its file's time
                    gps = line.get("gps")
                    place = f" at {gps[0]},{gps[1]}" if isinstance(gps, list) and len(gps) == 2 else ""
                    yield Sighting("image", line.get("taken_utc") or line.get("file_time_utc") or "", str(folder),
                                   str(line.get("source", "")), r["text"], float(r.get("confidence") or 0.0), how,
                                   "box " + ",".join(f"{v:.0f}" for v in r.get("box") or []) + place,
                                   watch_label=r.get("watch_label") or "")


def any_of(queries: list[tuple[str, str]], max_edits: int = 0) -> Callable[[str], str]:
    """`matcher` for several plates (plate, label): how a read matches the first that it matches, with that plate
    and its label (`exact: AB123CD (stolen)`); '' when none."""
    labels = [plate_label(q) for q, _ in queries]
    each = [(matcher(q, max_edits), p + (f" ({label})" if label else "")) for (q, label), p in zip(queries, labels)]
    plates = [fold_o0(p) for p in labels]
    partial = [n for n, p in enumerate(plates) if is_pattern(p)]  # few: each tried for every read
    exact: dict[str, list[int]] = {}
    for n, p in enumerate(plates):
        exact.setdefault(p, []).append(n)
    near = EditIndex(plates, max_edits) if max_edits else None  # a hotlist's 100,000 plates not tried in turn

    def match(text: str) -> str:
        got = fold_o0(text)
        tried = {*exact.get(got, ()), *partial, *(near.candidates(got) if near is not None else ())}
        for n in sorted(tried):  # of those it may match, in listed order
            how = each[n][0](text)
            if how:
                return f"{how}: {each[n][1]}"
        return ""

    return match


def find(query: str | list[tuple[str, str]], tops: list[Path], max_edits: int = 0, since: str = "", until: str = "",
         source: str = "") -> tuple[list[Sighting], int]:
    """The sightings of `query` (a plate, or a list of (plate, label): a watchlist searched back) under `tops`,
    oldest first (those without a time after, by folder), and how many were left out for having no time while
    `since` / `until` asked for one. `source`: only folders or sources whose name has it (any case)."""
    match = matcher(query, max_edits) if isinstance(query, str) else any_of(query, max_edits)
    lo, hi = utc_time(since) if since else "", utc_time(until, end=True) if until else ""
    hits, untimed = [], 0
    for folder in output_folders(tops):
        for s in search_folder(folder, match):
            if source and source.lower() not in (folder.name + " " + s.source).lower():
                continue
            if lo or hi:
                if not s.seen_utc:
                    untimed += 1
                    continue
                if (lo and s.seen_utc < lo) or (hi and s.seen_utc > hi):
                    continue
            hits.append(s)
    hits.sort(key=lambda s: (not s.seen_utc, s.seen_utc, s.folder))
    return hits, untimed


def write_csv(path: Path, cls: type, rows: list[Any]) -> None:
    """`rows` (instances of the dataclass `cls`) as a CSV table, its fields the header."""
    with path.open("w", newline="", encoding=TABLE_ENCODING) as f:
        w = csv.writer(f)
        w.writerow([x.name for x in fields(cls)])
        w.writerows(astuple(r) for r in rows)


def main(argv: list[str] | None = None) -> int:
    from common.cli import entry_parser, run_main

    ap = entry_parser(__doc__)
    ap.add_argument("args", nargs="*", metavar="PLATE_THEN_FOLDERS",
                    help="the plate, as printed (AB-123 CD) or read (AB123CD; ? one character, * any), then the "
                         "output folders to search and the folders below them (default: runs/pipeline)")
    ap.add_argument("--watchlist", type=Path, help="search for every plate of this watchlist file (then give no "
                                                   "PLATE): which listed plates were seen, and when")
    ap.add_argument("--max-edits", type=int, default=0, help="also find reads this many characters off")
    ap.add_argument("--since", default="", help="only sightings from this UTC date or time on")
    ap.add_argument("--until", default="", help="only sightings up to this UTC date (the whole day) or time")
    ap.add_argument("--source", default="", help="only output folders or sources whose name has this")
    ap.add_argument("--csv", type=Path, help="also write the sightings to this CSV file")
    a = ap.parse_args(argv)
    found = [False]

    def work() -> None:
        if a.watchlist is not None:
            from pipeline.watchlist import Watchlist

            listed = Watchlist.load(a.watchlist)
            query: str | list[tuple[str, str]] = [(e.plate, e.label) for e in listed.entries]
            what, folders = f"the {len(listed)} plates of {a.watchlist}", a.args
        elif a.args:
            query, what, folders = a.args[0], plate_label(a.args[0]), a.args[1:]
        else:
            raise UserError("give a plate to search for, or --watchlist FILE")
        folders = [Path(f) for f in folders] or [Path("runs/pipeline")]
        hits, untimed = find(query, folders, a.max_edits, a.since, a.until, a.source)
        for s in hits:
            when = s.seen_utc.replace("T", " ")[:19] + " UTC" if s.seen_utc else (
                "(video file)" if s.kind == "vehicle" else "(no time)")
            extra = "  ".join(x for x in (s.direction, s.watch_label and f"watchlist: {s.watch_label}") if x)
            logger.info(f"{when:23s}  {Path(s.folder).name:16s}  {s.text:10s} {s.confidence:.2f}  {s.match:18s}  "
                        f"{s.source} {s.at}  {extra}  {s.crop_path or s.frame_path}".rstrip())
        if a.csv:
            write_csv(a.csv, Sighting, hits)
        note = f"; {untimed} without a time (video files) left out by --since/--until" if untimed else ""
        where = ", ".join(map(str, folders))
        logger.info(f"{len(hits)} sighting{'' if len(hits) == 1 else 's'} of {what} in {where}{note}")
        found[0] = bool(hits)

    status = run_main(work, sink=lambda m: print(m, end=""))  # the sightings on stdout
    return status if status else (0 if found[0] else 1)


if __name__ == "__main__":
    raise SystemExit(main())
