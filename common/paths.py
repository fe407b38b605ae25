"""Paths named by the shipped configs and defaults (`weights/`, `configs/`, `data_gen/`, `../shared/`) are relative
to the project's root; so the entry points work from any folder, a relative path missing from the working directory
is looked for there too."""
from __future__ import annotations

import csv
import io
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def find(path: str | Path) -> Path:
    """`path` as given when it exists (or is absolute), else under the project root when it exists there, else as
    given (so an error names what the user wrote)."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    under_root = ROOT / p
    return under_root if under_root.exists() else p


def read_text(path: str | Path, what: str = "") -> str:
    """The text of a UTF-8 file (a byte-order mark dropped); a file that is not UTF-8 text (a video given where a
    list was asked for, a spreadsheet saved in another encoding) is one UserError naming it, `what` it should be."""
    from common.errors import UserError

    p = Path(path)
    try:
        return p.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        expected = f" (expected {what})" if what else ""
        raise UserError(f"{p}: not a UTF-8 text file{expected}: byte 0x{exc.object[exc.start]:02x} at offset "
                        f"{exc.start}") from None


def read_csv(path: str | Path, what: str = "", columns: tuple[str, ...] = ()) -> csv.DictReader:
    """The rows of a UTF-8 CSV file as dicts by its header, read whole through `read_text` (so a file that is not
    UTF-8 text is its one UserError); a header without all of `columns` (or no header at all) is one UserError."""
    from common.errors import UserError

    reader = csv.DictReader(io.StringIO(read_text(path, what), newline=""))
    if columns:
        expected = f" (expected {what})" if what else ""
        if reader.fieldnames is None:
            raise UserError(f"{path}: empty file{expected}")
        missing = [c for c in columns if c not in reader.fieldnames]
        if missing:
            raise UserError(f"{path}: missing column(s) {', '.join(missing)}{expected}")
    return reader


def fresh_output(out: str | Path, made: str = "labels.csv") -> Path:
    """`out` for a generator to write a new set into; one that already holds one (its `made` file) is a UserError, so
    that a set drawn earlier is never written over (its labels replaced, its images mixed with the new ones)."""
    from common.errors import UserError

    p = Path(out)
    if (p / made).exists():
        raise UserError(f"{p} already holds a set ({made}): give another --out, or delete it first")
    return p
