"""Paths named by the shipped configs and defaults (`weights/`, `configs/`, `data_gen/`, `../shared/`) are relative
to the project's root; so the entry points work from any folder, a relative path missing from the working directory
is looked for there too."""
from __future__ import annotations

import csv
import functools
import io
import json
import re
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping

ROOT = Path(__file__).resolve().parents[1]
# a shipped path as the configs and defaults name it (`weights/ocr_latin.pth`), not part of a longer one
SHIPPED = re.compile(r"(?<![\w./-])(weights|configs|samples)/")
CODE_ONLY = ("this install holds the code alone, as pip install . makes it, without weights/, configs/ or samples/: "
             "run from the project's folder, or install it from there with pip install -e .")


def beside_code() -> bool:
    """Whether the project's shipped folders lie beside its code: a checkout, or an editable install of one
    (`pip install .` copies the packages alone into site-packages)."""
    return (ROOT / "weights").is_dir() and (ROOT / "configs").is_dir()


def code_only_hint(message: str) -> str:
    """`message` with `CODE_ONLY` added when it names a shipped path (`weights/...`) and the shipped folders are not
    beside the code, so that a missing file says why."""
    return f"{message} ({CODE_ONLY})" if SHIPPED.search(message) and not beside_code() else message


def find(path: str | Path) -> Path:
    """`path` as given when it exists (or is absolute), else under the project root when it exists there, else as
    given (so an error names what the user wrote)."""
    p = Path(path)
    if p.is_absolute() or p.exists():
        return p
    under_root = ROOT / p
    return under_root if under_root.exists() else p


# archives a data set or an evening's footage comes as: read once unpacked
ARCHIVES = {".zip": "python -m zipfile -e {p} {d}", ".7z": "7z x {p} -o{d}", ".rar": "unrar x {p} {d}/",
            **dict.fromkeys((".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tar.xz"), "python -m tarfile -e {p} {d}")}


def check_not_archive(path: str | Path) -> None:
    """A UserError saying how to unpack it when `path` names an archive (`plates.zip`, `night.tar.gz`), which no
    command reads inside; nothing for another path."""
    from common.errors import UserError

    name = Path(path).name
    ending = next((e for e in sorted(ARCHIVES, key=len, reverse=True) if name.lower().endswith(e)), None)
    if ending is not None:
        unpack = ARCHIVES[ending].format(p=path, d=Path(path).with_name(name[:-len(ending)] or "unpacked"))
        raise UserError(f"{path} is an archive: unpack it first ({unpack}) and give the folder")


UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")


def read_text(path: str | Path, what: str = "") -> str:
    """The text of a UTF-8 file, or of a UTF-16 one that starts with its byte-order mark (a mark dropped); a file
    that is not UTF-8 text (a video given where a list was asked for, a spreadsheet saved in another encoding) is one
    UserError naming it, `what` it should be."""
    from common.errors import UserError

    p = Path(path)
    expected = f" (expected {what})" if what else ""
    try:
        with p.open("rb") as f:  # Notepad's "Unicode", a spreadsheet's "Unicode Text": marked, so never a guess
            utf16 = f.read(2) in UTF16_BOMS
        text = p.read_text(encoding="utf-16" if utf16 else "utf-8-sig")
    except UnicodeDecodeError as exc:
        check_not_archive(p)  # a data set's zip given for its labels file
        raise UserError(f"{p}: not a UTF-8 text file{expected}: byte 0x{exc.object[exc.start]:02x} at offset "
                        f"{exc.start}") from None
    if "\0" in text:  # valid UTF-8, but no text holds NUL: UTF-16 without its mark, or a binary file
        raise UserError(f"{p}: not a UTF-8 text file{expected}: byte 0x00 at offset {p.read_bytes().index(0)} "
                        "(UTF-16 is read when it starts with its byte-order mark)")
    return text


def read_json(path: Path) -> Any:
    """The JSON a file holds (parsed once per file and change: a folder's label files are looked at, then read; the
    object is shared, so not to be changed), or None for a file that is not JSON text."""
    stat = path.stat()
    return _parsed_json(path, stat.st_mtime_ns, stat.st_size)


@functools.lru_cache(maxsize=8)
def _parsed_json(path: Path, mtime_ns: int, size: int) -> Any:
    from common.errors import UserError

    try:
        return json.loads(read_text(path))
    except (json.JSONDecodeError, UserError):
        return None


DELIMITERS = (",", ";", "\t")  # a spreadsheet's CSV export: commas, or semicolons where the comma is decimal, or tabs


def read_csv(path: str | Path, what: str = "", columns: tuple[str, ...] = (),
             aliases: Mapping[str, tuple[str, ...]] | None = None) -> csv.DictReader:
    """The rows of a UTF-8 CSV file as dicts by its header, read whole through `read_text` (so a file that is not
    UTF-8 text is its one UserError); a header without all of `columns` (or no header at all) is one UserError.

    With `columns`, the header's names are matched whatever their case and surrounding spaces (the rows' keys are
    then the names stripped and in lower case), and the fields may be separated by commas, semicolons or tabs:
    the first of those whose header holds every column is taken. A column missing from the header under its own
    name may be there under one of its `aliases` (the first of them the header holds), which then keys it."""
    from common.errors import UserError

    text = read_text(path, what)
    if not columns:
        return csv.DictReader(io.StringIO(text, newline=""))
    expected = f" (expected {what})" if what else ""
    if not text.strip():
        raise UserError(f"{path}: empty file{expected}")
    first = text.splitlines()[0]

    def names(delimiter: str) -> list[str]:
        found = [n.strip().lower() for n in next(csv.reader([first], delimiter=delimiter))]
        for column, others in (aliases or {}).items():
            k = next((found.index(a) for a in others if a in found), None)
            if column not in found and k is not None:
                found[k] = column
        return found

    delimiter = next((d for d in DELIMITERS if set(columns) <= set(names(d))), ",")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    if reader.fieldnames is not None:  # the header line read (and so not taken for a row), its names replaced
        reader.fieldnames = names(delimiter)
    missing = [c for c in columns if c not in (reader.fieldnames or ())]
    if missing:
        raise UserError(f"{path}: missing column(s) {', '.join(missing)}{expected}")
    return reader


@contextmanager
def naming(path: str | Path) -> Iterator[None]:
    """An OSError raised inside without a file name (a write meeting a full disk: `[Errno 28] No space left on
    device`) raised again naming `path`, which an entry point prints as one line."""
    try:
        yield
    except OSError as exc:
        if exc.filename is not None:
            raise
        raise OSError(exc.errno, exc.strerror or str(exc), str(path)) from exc


def written_whole(out: Path, make: Callable[[Path], object]) -> Path:
    """`out` made by `make(path)` at a sibling path and renamed to `out` once whole: a stop or a failure half-way
    leaves neither a broken `out` nor the previous one damaged (an export that replaces one the pipeline runs), and
    the part is removed (on a full disk, its space given back); an error that names no file names `out`."""
    part = out.with_name(out.stem + ".partial" + out.suffix)  # the suffix kept: writers tell formats by it
    try:
        with naming(out):
            make(part)
            part.replace(out)
    finally:
        part.unlink(missing_ok=True)
    return out


def fresh_output(out: str | Path, made: str = "labels.csv") -> Path:
    """`out` for a generator to write a new set into; one that already holds one (its `made` file) is a UserError, so
    that a set drawn earlier is never written over (its labels replaced, its images mixed with the new ones)."""
    from common.errors import UserError

    p = Path(out)
    if (p / made).exists():
        raise UserError(f"{p} already holds a set ({made}): give another --out, or delete it first")
    return p
