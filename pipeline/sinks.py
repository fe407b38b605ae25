"""Event sinks (context managers, written as events happen): SQLite, JSON Lines, CSV, and still images' reads. A web
service's sink is pipeline/webhook.py; each vehicle's crop and frame images, pipeline/stores.py."""
from __future__ import annotations

import csv
import errno
import json
import sqlite3
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from loguru import logger

from common.paths import naming
from pipeline.photo_meta import PhotoMeta
from pipeline.types import PlateEvent

FIELDS = ("event_id", "source", "track_id", "text", "confidence", "char_confidences", "alternatives",
          "frames_read", "first_frame", "last_frame", "first_time_s", "last_time_s", "first_seen_utc",
          "last_seen_utc", "best_frame", "box", "reason", "direction", "crop_path", "frame_path",
          "watch", "watch_label")


def event_row(e: PlateEvent) -> dict[str, Any]:
    """Flat, JSON-encodable row of an event (lists as JSON text), the same for every sink."""
    d = asdict(e)
    return {k: json.dumps(d[k]) if isinstance(d[k], (list, tuple)) else d[k] for k in FIELDS}


def event_json(e: PlateEvent) -> str:
    """The event as one line of JSON (lists as lists): an `events.jsonl` line, a webhook's body."""
    d = asdict(e)
    return json.dumps({k: d[k] for k in FIELDS})


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """Errors writing `path` (a full disk, a database another program has locked) raised as an OSError naming it,
    which an entry point prints as one line (`error: out/clip/events.db: database or disk is full`)."""
    try:
        with naming(path):
            yield
    except sqlite3.Error as exc:
        full = "disk is full" in str(exc)  # SQLITE_FULL's one message ("database or disk is full")
        raise OSError(errno.ENOSPC if full else errno.EIO, str(exc), str(path)) from exc


def closing_after(path: Path, exc: tuple[Any, ...], close: Callable[[], Any]) -> None:
    """`close()` the file or database at `path` as a sink's `__exit__(*exc)`: a failure (what was still buffered
    meeting a full disk) is raised naming `path`, unless an error is already on its way out, which it would hide."""
    try:
        with writing(path):
            close()
    except OSError:
        if exc[0] is None:
            raise


def _free(path: Path) -> Path:
    """`path`, or with a number before its suffix when it exists."""
    n, out = 1, path
    while out.exists():
        out, n = path.with_name(f"{path.stem}{n}{path.suffix}"), n + 1
    return out


def keep_previous(path: Path) -> Path | None:
    """Move an earlier run's `path` aside (`reads.jsonl` -> `reads.prev.jsonl`, then `reads.prev1.jsonl`, ...) so a
    new run's file of that name loses nothing; returns where it went (None: there was none)."""
    if not path.exists() or path.stat().st_size == 0:
        return None
    old = _free(path.with_name(f"{path.stem}.prev{path.suffix}"))
    path.rename(old)
    logger.info(f"{path.name} of an earlier run kept as {old.name}")
    return old


TABLE_ENCODING = "utf-8-sig"  # a CSV table begins with a byte-order mark: Excel then reads it as UTF-8 (a camera's
# or a watchlist label's accents), as LibreOffice and pandas do with or without it


def open_to_append(path: Path, newline: str | None = None, encoding: str = "utf-8") -> Any:
    """`path` opened to append text (`encoding`'s mark, if it has one, written where the file is empty). A last line
    an interrupted run left unfinished (a crash, a full disk: never a whole event, which each sink writes in one go)
    is cut off first, so the next event starts a line of its own and no open CSV quote swallows it; the whole events
    stay."""
    size = path.stat().st_size if path.exists() else 0
    if size:
        with path.open("rb+") as f:
            f.seek(max(0, size - 65536))
            tail = f.read()
            if not tail.endswith((b"\n", b"\r")):
                cut = max(tail.rfind(b"\n"), tail.rfind(b"\r"))
                keep = size - len(tail) + cut + 1 if cut >= 0 else 0
                f.truncate(keep)
                logger.warning(f"{path}: an unfinished last line ({size - keep} bytes, from an interrupted run) "
                               "cut off")
    return path.open("a", newline=newline, encoding=encoding)


def append_table(path: Path, header: list[str]) -> tuple[Any, Any]:
    """`path`, a CSV table, opened to append rows under `header` (`open_to_append`), and its writer. A table of
    other columns (written by another version, or with other options) is kept aside first, not mixed; a new one
    gets the header."""
    new = not path.exists() or path.stat().st_size == 0
    if not new:
        with path.open(newline="", encoding=TABLE_ENCODING, errors="replace") as f:  # a spreadsheet's too
            if next(csv.reader(f), []) != header:
                logger.warning(f"{path} has other columns than this run writes; moved aside")
                keep_previous(path)
                new = True
    f = open_to_append(path, newline="", encoding=TABLE_ENCODING)
    w = csv.writer(f)
    if new:
        w.writerow(header)
    return f, w


def csv_safe(value: Any) -> Any:
    """Defuse spreadsheet formulas: a text cell starting with = + - @ (or tab/CR) gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class JsonlSink:
    """Events appended to a JSON Lines file, one line each, flushed as written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __enter__(self) -> "JsonlSink":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = open_to_append(self.path)
        return self

    def write(self, e: PlateEvent) -> None:
        with writing(self.path):
            self.f.write(event_json(e) + "\n")
            self.f.flush()

    def reopen(self) -> None:
        """Opened again to append, its file having been rewritten (`pipeline.retention`)."""
        self.f.close()
        self.f = open_to_append(self.path)

    def __exit__(self, *exc: Any) -> None:
        closing_after(self.path, exc, self.f.close)


class CsvSink:
    """Events appended to a CSV file (its header written once), flushed as written."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __enter__(self) -> "CsvSink":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f, self.w = append_table(self.path, list(FIELDS))
        return self

    def write(self, e: PlateEvent) -> None:
        row = event_row(e)
        with writing(self.path):
            self.w.writerow([csv_safe(row[k]) for k in FIELDS])
            self.f.flush()

    def reopen(self) -> None:
        """Opened again to append, its file having been rewritten (`pipeline.retention`)."""
        self.f.close()
        self.f, self.w = append_table(self.path, list(FIELDS))

    def __exit__(self, *exc: Any) -> None:
        closing_after(self.path, exc, self.f.close)


class SqliteSink:
    """Events table in WAL mode with synchronous=FULL: a committed event survives a crash or power loss
    (NORMAL would be faster but may lose the last commits on power loss). One commit per event; the unique
    event_id makes a replayed write a no-op."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __enter__(self) -> "SqliteSink":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._open()
        except sqlite3.DatabaseError as exc:  # not a database (damaged, or another file of that name): kept aside
            self.db.close()
            aside = _free(self.path.with_name(f"{self.path.stem}.damaged{self.path.suffix}"))
            for side in ("-wal", "-shm"):
                extra = self.path.with_name(self.path.name + side)
                if extra.exists():
                    extra.rename(aside.with_name(aside.name + side))
            self.path.rename(aside)
            logger.warning(f"{self.path}: {exc}; kept as {aside.name}, a new one started")
            self._open()
        return self

    def _open(self) -> None:
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        cols = ", ".join(f"{k} {'TEXT PRIMARY KEY' if k == 'event_id' else ''}".strip() for k in FIELDS)
        self.db.execute(f"CREATE TABLE IF NOT EXISTS events ({cols})")
        have = {row[1] for row in self.db.execute("PRAGMA table_info(events)")}
        for k in FIELDS:  # a database from an earlier version gains the new columns (empty in its old rows)
            if k not in have:
                self.db.execute(f"ALTER TABLE events ADD COLUMN {k}")
        self.db.commit()

    def write(self, e: PlateEvent) -> None:
        row = event_row(e)
        with writing(self.path):
            self.db.execute(f"INSERT OR IGNORE INTO events ({', '.join(FIELDS)}) "
                            f"VALUES ({', '.join('?' * len(FIELDS))})", [row[k] for k in FIELDS])
            self.db.commit()

    def checkpoint(self) -> None:
        with writing(self.path):
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def __exit__(self, *exc: Any) -> None:
        try:
            closing_after(self.path, exc, self.checkpoint)
        finally:
            self.db.close()


def read_rows(reads: Iterable[Any]) -> list[dict[str, Any]]:
    """A still image's reads (each with .box, .text, .confidence: `ImageRead`) as `ImageReadsSink.write` takes them."""
    return [{"box": list(r.box), "text": r.text, "confidence": r.confidence} for r in reads]


def with_watch(rows: list[dict[str, Any]], where: str,
               watch: Callable[[str, str], dict[str, str]] | None) -> list[dict[str, Any]]:
    """`rows` of the image named `where`, each with its watchlist fields, `watch(text, "<where>, box [...]")`, added
    (`pipeline.app.watch_fields`); as they are when `watch` is None."""
    if watch is None:
        return rows
    return [{**r, **watch(r["text"], f"{where}, box {r['box']}")} for r in rows]


def turn_field(rotate: int) -> dict[str, int]:
    """A still's `"rotate"` field, where it was turned before it was read (its boxes are in the turn); none else."""
    return {"rotate": rotate} if rotate else {}


class ImageReadsSink:
    """Still images' reads: `reads.jsonl` (one object per image: its `source` and `reads`) and `reads.csv` (a row per
    read), each image written as it is read, and POSTed to `hook` (a `WebhookSink`) when it holds a plate. A new run
    keeps an earlier run's files aside; with `append` (a watched folder) it adds to them, and `read_before` names the
    images they hold. A `reads.csv` of other columns (written with or without a watchlist) is kept aside either way."""

    def __init__(self, out: str | Path, watch_columns: bool, append: bool = False, hook: Any = None,
                 rotate: int = 0) -> None:
        self.out, self.watch, self.append, self.hook = Path(out), watch_columns, append, hook
        self.rotate = rotate  # images turned before reading (`turn_field`), unless a write gives its own
        self.header = ["source", "file_time_utc", "taken_utc", "lat", "lon", "x1", "y1", "x2", "y2", "text",
                       "confidence"] + (
            ["watch", "watch_label"] if watch_columns else [])

    def __enter__(self) -> "ImageReadsSink":
        jsonl, table = self.out / "reads.jsonl", self.out / "reads.csv"
        if not self.append:
            for path in (jsonl, table):
                keep_previous(path)
        self._open()
        return self

    def _open(self) -> None:
        self.js = open_to_append(self.out / "reads.jsonl")
        self.cf, self.w = append_table(self.out / "reads.csv", self.header)

    def reopen(self) -> None:
        """Opened again to append, its files having been rewritten (`pipeline.retention`)."""
        self.js.close()
        self.cf.close()
        self._open()

    def read_before(self) -> set[str]:
        """The images `reads.jsonl` holds (an unfinished last line's image is not among them: it is read again)."""
        names = set()
        for line in (self.out / "reads.jsonl").read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                names.add(json.loads(line)["source"])
            except (ValueError, KeyError, TypeError):
                continue
        return names

    def write(self, name: str, reads: list[dict[str, Any]], file_time: str = "",
              meta: PhotoMeta = PhotoMeta(), rotate: int | None = None) -> None:
        """One image's reads; `file_time` (ISO UTC): when its file was written, for a camera's upload the moment
        the car was there; `meta`: when and where its EXIF says it was taken (`taken_utc`, `gps`: [lat, lon])."""
        turned = turn_field(self.rotate if rotate is None else rotate)
        line = json.dumps({"source": name, "file_time_utc": file_time, **meta.fields(), **turned, "reads": reads})
        with writing(self.out / "reads.jsonl"):
            self.js.write(line + "\n")
            self.js.flush()
        place = list(meta.gps) if meta.gps else ["", ""]
        with writing(self.out / "reads.csv"):
            self.w.writerows([name, file_time, meta.taken_utc, *place, *r["box"], csv_safe(r["text"]), r["confidence"]]
                             + ([csv_safe(r["watch"]), csv_safe(r["watch_label"])] if self.watch else [])
                             for r in reads)
            self.cf.flush()
        if self.hook is not None and any(r["text"] for r in reads):
            self.hook.send(line)

    def __exit__(self, *exc: Any) -> None:
        try:
            closing_after(self.out / "reads.jsonl", exc, self.js.close)
        finally:
            closing_after(self.out / "reads.csv", exc, self.cf.close)
