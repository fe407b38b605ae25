"""Watchlist (hotlist): plates to alert on. A vehicle whose fused text matches a listed plate is flagged in its
event (`watch`, `watch_label`) and logged as it is written.

File format: one plate per line, optionally followed by a comma and a label (`AB123CD,stolen`; or by a semicolon or
a tab, as spreadsheets save CSV where the comma is decimal, and tab-separated text: the first of them ends the plate);
blank lines and lines starting with `#` are skipped, and so is a spreadsheet's header line (`plate,label`: a header
word not written in capitals); plates are written as the reader writes them (upper case, separators dropped:
`ab-123 cd` is `AB123CD`).
A partial plate, as a witness gives it, is a pattern: `?` one character, `*` any run of them (`AB1*`, `?B123CD`).

A watchlist loaded from a file is read again when the file changes (looked at every `RECHECK_S`), so a camera that
runs for months takes a hotlist updated each day without a restart; an edit that makes it no list (emptied, a plate
the reader never reads) keeps the plates it had, with one warning, until the file changes again.
"""
from __future__ import annotations

import fnmatch
import re
import stat
import time
from dataclasses import dataclass
from pathlib import Path

from loguru import logger

from common.errors import UserError
from common.paths import read_text
from ocr.alphabet import plate_label
from ocr.metrics import EditIndex, edit_budget, edit_distance
from ocr.process import fold_o0

FIELD_END = re.compile(r"[,;\t]")  # what ends a line's plate: a comma, a spreadsheet's semicolon or tab
RECHECK_S = 5.0  # a watchlist's file is looked at this often for a change (its size and time written)
WILDCARDS = "?*"  # a partial plate's: ? one character, * any run of them
PATTERN_CHARS = 2  # a pattern names at least this many characters (`*` alone would match every vehicle)


def is_pattern(plate: str) -> bool:
    """Whether a listed or searched plate is a partial one (`AB1*`, `?B123CD`)."""
    return any(c in plate for c in WILDCARDS)


def plate_pattern(plate: str) -> re.Pattern[str]:
    """A partial plate (`AB1*`, `?B123CD`) as the expression its reads fully match, O read as 0 (`fold_o0`)."""
    return re.compile(fnmatch.translate(fold_o0(plate)))

HEADER_WORDS = frozenset({"plate", "plates", "plate_text", "plate text", "plate number", "licence plate",
                          "license plate", "number plate", "registration", "number"})


@dataclass(frozen=True)
class WatchEntry:
    """A listed plate and its label."""
    plate: str
    label: str = ""

    def __str__(self) -> str:
        return f"{self.plate} ({self.label})" if self.label else self.plate


class Watchlist:
    """`match(text)`: the listed entry `text` reads as, or None: a plate it is, else the first listed pattern it
    matches. O and 0 always count as the same character (plates that never use O are read either way); `max_edits`
    > 0 also matches reads that many edits away from a listed plate (not a pattern), for reads one character off (at
    most a third of the plate's characters). One `load`ed from a file follows it (`refresh`, before each match)."""

    def __init__(self, entries: list[WatchEntry], max_edits: int = 0) -> None:
        if max_edits < 0:
            raise UserError(f"watchlist_max_edits must be 0 or more, not {max_edits}")
        self.max_edits = max_edits
        self._use(entries)
        self.path: Path | None = None  # the file it was loaded from, looked at for changes
        self._alphabet, self._stamp, self._looked = "", (0, 0), 0.0

    def _use(self, entries: list[WatchEntry]) -> None:
        self.entries = tuple(entries)
        partial = [is_pattern(e.plate) for e in self.entries]
        self._plates = tuple(e for e, p in zip(self.entries, partial) if not p)
        self._folded = [fold_o0(e.plate) for e in self._plates]
        self._exact = dict(reversed(list(zip(self._folded, self._plates))))  # the first listing of a plate wins
        self._patterns = tuple((plate_pattern(e.plate), e) for e, p in zip(self.entries, partial) if p)
        self._near = EditIndex(self._folded, self.max_edits) if self.max_edits else None
        self._seen: dict[str, WatchEntry | None] = {}

    @classmethod
    def load(cls, path: str | Path, max_edits: int = 0, alphabet: str = "") -> "Watchlist":
        """Read a watchlist file; with `alphabet`, a plate with another character is an error naming its line."""
        p = Path(path)
        stamp = _stamp(p)
        w = cls(read_entries(p, alphabet), max_edits)
        w.path, w._alphabet, w._stamp, w._looked = p, alphabet, stamp, time.monotonic()
        return w

    def refresh(self) -> None:
        """Read the file again if it changed since it was read (looked at most every `RECHECK_S`)."""
        if self.path is None or time.monotonic() - self._looked < RECHECK_S:
            return
        self._looked = time.monotonic()
        try:
            stamp = _stamp(self.path)
        except UserError:
            stamp = (0, 0)
        if stamp == self._stamp:
            return
        self._stamp = stamp
        if stamp == (0, 0):
            logger.warning(f"watchlist {self.path} is not there (being replaced?): its {len(self.entries)} plates are "
                           "kept until it is back")
            return
        try:
            entries = read_entries(self.path, self._alphabet)
        except UserError as exc:
            logger.warning(f"watchlist {self.path} changed but was not read again ({exc}): its {len(self.entries)} "
                           "plates are kept")
            return
        before, after = {e.plate for e in self.entries}, {e.plate for e in entries}
        self._use(entries)
        logger.info(f"watchlist {self.path} read again: {len(entries)} plates ({len(after - before)} added, "
                    f"{len(before - after)} removed)")

    def match(self, text: str) -> WatchEntry | None:
        self.refresh()
        if not text:
            return None
        if text not in self._seen:
            if len(self._seen) >= 4096:  # reads repeat (a track's text, frame after frame): remember the recent ones
                self._seen.clear()
            self._seen[text] = self._match(fold_o0(text))
        return self._seen[text]

    def alert(self, text: str, where: str) -> WatchEntry | None:
        """`match(text)`, a hit logged as a warning: `watchlist: TEXT matches ENTRY WHERE`."""
        hit = self.match(text)
        if hit is not None:
            logger.warning(f"watchlist: {text} matches {hit} {where}")
        return hit

    def _match(self, folded: str) -> WatchEntry | None:
        hit = self._exact.get(folded) or next((e for rx, e in self._patterns if rx.match(folded)), None)
        if hit is not None or self._near is None:
            return hit
        best = None
        for n in self._near.candidates(folded):  # in listed order: of two as near, the first listed
            e, plate = self._plates[n], self._folded[n]
            limit = edit_budget(plate, folded, self.max_edits)
            if abs(len(plate) - len(folded)) > limit:
                continue
            d = edit_distance(plate, folded)
            if d <= limit and (best is None or d < best[0]):
                best = (d, e)
        return best[1] if best else None

    def __len__(self) -> int:
        return len(self.entries)


def _stamp(path: Path) -> tuple[int, int]:
    """A file's size and time written, which change when it is written; a UserError where it is not a file."""
    try:
        st = path.stat()
    except OSError:
        st = None
    if st is None or not stat.S_ISREG(st.st_mode):
        raise UserError(f"watchlist not found: {path}")
    return st.st_size, st.st_mtime_ns


def read_entries(p: Path, alphabet: str = "") -> list[WatchEntry]:
    """The plates of a watchlist file; with `alphabet`, a plate with another character is an error naming its line."""
    entries: list[WatchEntry] = []
    lines = read_text(p, "a watchlist: one plate per line").splitlines()
    for n, line in enumerate(lines, 1):
        end = FIELD_END.search(line)  # never in a plate; a label may hold any of them after it
        raw, label = (line[:end.start()], line[end.end():]) if end else (line, "")
        raw = raw.strip().strip('"').strip()
        if not raw or raw.startswith("#"):
            continue
        if not entries and raw.lower() in HEADER_WORDS and raw != raw.upper():  # `PLATE` may be a vanity plate
            logger.info(f"watchlist {p}: line {n} {line.strip()!r} taken as a header")
            continue
        plate = plate_label(raw, alphabet)
        bad = sorted({c for c in plate if alphabet and c not in alphabet + WILDCARDS})
        if bad:
            raise UserError(f"{p}, line {n}: plate {raw!r} has {''.join(bad)!r}, which the reader "
                            f"never reads")
        named = sum(c not in WILDCARDS for c in plate)
        if named < len(plate) and named < PATTERN_CHARS:
            raise UserError(f"{p}, line {n}: partial plate {raw!r} names {named} character{'s' * (named != 1)}: "
                            f"it would match nearly every vehicle (name at least {PATTERN_CHARS})")
        entries.append(WatchEntry(plate, label.strip().strip('"').strip()))
    if not entries:
        raise UserError(f"watchlist {p} lists no plate")
    return entries
