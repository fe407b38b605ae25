"""Event sinks (context managers, written as events happen): SQLite, JSON Lines, CSV, best-crop images."""
from __future__ import annotations

import csv
import json
import sqlite3
from dataclasses import asdict
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from pipeline.types import PlateEvent

FIELDS = ("event_id", "source", "track_id", "text", "confidence", "char_confidences", "alternatives",
          "frames_read", "first_frame", "last_frame", "first_time_s", "last_time_s", "best_frame", "box",
          "reason", "direction", "crop_path")


def event_row(e: PlateEvent) -> dict[str, Any]:
    """Flat, JSON-encodable row of an event (lists as JSON text), the same for every sink."""
    d = asdict(e)
    return {k: json.dumps(d[k]) if isinstance(d[k], (list, tuple)) else d[k] for k in FIELDS}


def csv_safe(value: Any) -> Any:
    """Defuse spreadsheet formulas: a text cell starting with = + - @ (or tab/CR) gets a leading quote."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class JsonlSink:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __enter__(self) -> "JsonlSink":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.f = self.path.open("a", encoding="utf-8")
        return self

    def write(self, e: PlateEvent) -> None:
        d = asdict(e)
        self.f.write(json.dumps({k: d[k] for k in FIELDS}) + "\n")
        self.f.flush()

    def __exit__(self, *exc: Any) -> None:
        self.f.close()


class CsvSink:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __enter__(self) -> "CsvSink":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists() or self.path.stat().st_size == 0
        self.f = self.path.open("a", newline="", encoding="utf-8")
        self.w = csv.writer(self.f)
        if new:
            self.w.writerow(FIELDS)
        return self

    def write(self, e: PlateEvent) -> None:
        row = event_row(e)
        self.w.writerow([csv_safe(row[k]) for k in FIELDS])
        self.f.flush()

    def __exit__(self, *exc: Any) -> None:
        self.f.close()


class SqliteSink:
    """Events table in WAL mode with synchronous=FULL: a committed event survives a crash or power loss
    (NORMAL would be faster but may lose the last commits on power loss). One commit per event; the unique
    event_id makes a replayed write a no-op."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    def __enter__(self) -> "SqliteSink":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(self.path)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute("PRAGMA synchronous=FULL")
        cols = ", ".join(f"{k} {'TEXT PRIMARY KEY' if k == 'event_id' else ''}".strip() for k in FIELDS)
        self.db.execute(f"CREATE TABLE IF NOT EXISTS events ({cols})")
        self.db.commit()
        return self

    def write(self, e: PlateEvent) -> None:
        row = event_row(e)
        self.db.execute(f"INSERT OR IGNORE INTO events ({', '.join(FIELDS)}) VALUES ({', '.join('?' * len(FIELDS))})",
                        [row[k] for k in FIELDS])
        self.db.commit()

    def checkpoint(self) -> None:
        self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    def __exit__(self, *exc: Any) -> None:
        self.checkpoint()
        self.db.close()


class CropStore:
    """Saves each event's best crop as `<dir>/<event_id>.jpg`; returns the path."""

    def __init__(self, directory: str | Path) -> None:
        self.dir = Path(directory)

    def __call__(self, event: PlateEvent, crop: np.ndarray) -> str:
        self.dir.mkdir(parents=True, exist_ok=True)
        path = self.dir / f"{event.event_id}.jpg"
        cv2.imwrite(str(path), crop)
        return str(path)
