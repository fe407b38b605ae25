"""A source's output folder kept to its last `keep_days` days: older events, still images' reads, and the crops,
frames and annotated videos written before then, removed (privacy rules bound how long a plate may be kept).

Rows are told old by their UTC time (an event's `last_seen_utc`, an image's `file_time_utc`, a served read's
`time_utc`); a row without one (a video file of unknown recording time) is kept. Images and videos are told old by
when they were written. Each file is rewritten whole (`common.paths.written_whole`), so a crash leaves it as it was.
"""
from __future__ import annotations

import csv
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TextIO

from loguru import logger

from common.liveness import beat
from common.paths import written_whole
from pipeline.media import VIDEO_CONTAINERS
from pipeline.sinks import TABLE_ENCODING
from pipeline.types import utc_iso

EVERY_S = 3600.0  # a camera or watched folder that goes on is pruned this often
TIMES = ("last_seen_utc", "file_time_utc", "time_utc")  # the first of these a row holds says when it was
MEDIA = (("crops", "*.jpg"), ("frames", "*.jpg"), *((".", f"*.{ext}") for ext in VIDEO_CONTAINERS),
         *(("clips", f"*/*.{ext}") for ext in VIDEO_CONTAINERS))


@dataclass(frozen=True)
class Pruned:
    """What a pruning removed: rows (of events and reads, counted in each file that held them) and files (images
    and videos)."""
    rows: int = 0
    files: int = 0


def _when(row: dict) -> str:
    return next((str(row[k]) for k in TIMES if isinstance(row, dict) and row.get(k)), "")


def _old(when: str, cutoff: str) -> bool:
    return bool(when) and when < cutoff  # ISO 8601 UTC times as utc_iso writes them sort as text


def old_line(line: str, cutoff: str) -> bool:
    """Whether a JSON Lines row (an event, a read) is older than `cutoff`; a line that is no JSON object is not."""
    try:
        return _old(_when(json.loads(line)), cutoff)
    except ValueError:
        return False


def oldest_kept(keep_days: float, now: float | None = None) -> float:
    """The time (epoch s) before which anything is older than `keep_days`."""
    return (time.time() if now is None else now) - keep_days * 86400


def cutoff_of(keep_days: float, now: float | None = None) -> str:
    """The UTC time before which rows are older than `keep_days`."""
    return utc_iso(oldest_kept(keep_days, now))


def _scan(path: Path, count: Callable[[TextIO], int]) -> int:
    """`count(file)` of `path` opened as UTF-8 text, read as it goes (a month of a busy camera's events is never held
    in memory whole); a file that is not UTF-8 (re-saved in another encoding) is not ours to rewrite: 0, warned."""
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            return count(f)
    except UnicodeDecodeError as exc:
        logger.warning(f"{path}: not a UTF-8 text file (byte 0x{exc.object[exc.start]:02x}); not pruned")
        return 0


def _rewrite(path: Path, write: Callable[[TextIO, TextIO], None], encoding: str = "utf-8") -> None:
    """`path` written whole again by `write(its file, the new one)`, the new one in `encoding`."""
    def make(part: Path) -> None:
        with path.open(encoding="utf-8-sig", newline="") as src, part.open("w", encoding=encoding, newline="") as dst:
            write(src, dst)

    written_whole(path, make)


def prune_lines(path: Path, cutoff: str) -> int:
    """JSON Lines rows older than `cutoff` removed from `path`; the number removed. A line that is no JSON object is
    kept."""
    n = _scan(path, lambda f: sum(old_line(line, cutoff) for line in f))
    if n:
        _rewrite(path, lambda src, dst: dst.writelines(line for line in src if not old_line(line, cutoff)))
    return n


def _table(f: TextIO, cutoff: str) -> tuple[list[str], Iterator[tuple[list[str], bool]]]:
    """A CSV's header and its rows, each with whether it is older than `cutoff` (never, without a time column)."""
    reader = csv.reader(f)
    header = next(reader, [])
    column = next((header.index(k) for k in TIMES if k in header), None)
    return header, ((r, column is not None and len(r) > column and _old(r[column], cutoff)) for r in reader)


def prune_table(path: Path, cutoff: str) -> int:
    """CSV rows older than `cutoff` removed from `path` (its header kept); the number removed."""
    n = _scan(path, lambda f: sum(old for _, old in _table(f, cutoff)[1]))

    def write(src: TextIO, dst: TextIO) -> None:
        header, rows = _table(src, cutoff)
        w = csv.writer(dst)
        w.writerow(header)
        w.writerows(r for r, old in rows if not old)

    if n:
        _rewrite(path, write, TABLE_ENCODING)
    return n


def prune_db(path: Path, cutoff: str) -> int:
    """Events older than `cutoff` deleted from the events database `path`; the number deleted."""
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA secure_delete=ON")  # the deleted rows' bytes overwritten, not left in free pages
        n = db.execute("DELETE FROM events WHERE last_seen_utc != '' AND last_seen_utc < ?", (cutoff,)).rowcount
        db.commit()
        if n > 0:
            db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # nor in the write-ahead log's copies of the pages
        return max(n, 0)
    except sqlite3.DatabaseError as exc:  # a damaged database: the run's sink says so and keeps it aside
        logger.warning(f"{path}: not pruned ({exc})")
        return 0
    finally:
        db.close()


def _each(prune: Callable[[Path, str], int], path: Path, cutoff: str) -> int:
    """`prune(path, cutoff)`; a file that cannot be rewritten (a full disk, a file held open by a spreadsheet on
    Windows) is said in a warning and kept as it is, to be pruned the next time: the run goes on."""
    try:
        return prune(path, cutoff)
    except OSError as exc:
        logger.warning(f"{path}: not pruned this time ({exc.strerror or exc})")
        return 0


def prune_folder(out: Path, keep_days: float, now: float | None = None) -> Pruned:
    """`out` kept to its last `keep_days` days (0: nothing removed); one log line when anything was."""
    if keep_days <= 0 or not out.is_dir():
        return Pruned()
    start = oldest_kept(keep_days, now)
    cutoff = utc_iso(start)
    rows = sum(_each(prune_lines, p, cutoff) for p in sorted(out.glob("*.jsonl")) if p.name != "webhook_pending.jsonl")
    beat()  # each step a sign of progress: a month of a camera's files pruned on an SD card takes minutes, no hang
    rows += sum(_each(prune_table, p, cutoff) for p in sorted(out.glob("*.csv")))
    beat()
    rows += prune_db(out / "events.db", cutoff) if (out / "events.db").is_file() else 0
    files = 0
    for folder, pattern in MEDIA:
        for f in (out / folder).glob(pattern) if (out / folder).is_dir() else ():
            beat()
            try:
                if f.stat().st_mtime < start:
                    f.unlink()
                    files += 1
            except OSError:  # gone already, or not ours to remove: left
                continue
    if rows or files:
        logger.info(f"{out}: {rows} rows of events and reads (each file's) and {files} images or videos from before "
                    f"{cutoff[:16]}Z removed (keep_days={keep_days:g})")
    return Pruned(rows, files)


class Keeper:
    """`keeper(sinks)`: the output folder `out` pruned to `keep_days` when it is due (the first call, then every
    `every_s`); the open `sinks` writing files there are opened again after their files were rewritten. Called on the
    thread that writes to them, between writes."""

    def __init__(self, out: Path, keep_days: float, every_s: float | None = None) -> None:
        self.out, self.keep_days, self.every_s = out, keep_days, EVERY_S if every_s is None else every_s
        self._last: float | None = None

    def too_old(self, path: Path) -> float | None:
        """When the file `path` was written (epoch s) if before the days kept (its reads would be removed at once);
        None when within them, or when it cannot be told."""
        try:
            written = path.stat().st_mtime
        except OSError:
            return None
        return written if self.keep_days > 0 and written < oldest_kept(self.keep_days) else None

    def __call__(self, sinks: Iterable[Any] = ()) -> Pruned:
        now = time.monotonic()
        if self.keep_days <= 0 or (self._last is not None and now - self._last < self.every_s):
            return Pruned()
        self._last = now
        pruned = prune_folder(self.out, self.keep_days)
        if pruned.rows:  # files replaced: each sink's handle holds the old one
            for sink in sinks:
                if hasattr(sink, "reopen"):
                    sink.reopen()
        return pruned
