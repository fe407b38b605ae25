"""Paths named by the shipped configs and defaults (`weights/`, `configs/`, `data_gen/`, `../shared/`) are relative
to the project's root; so the entry points work from any folder, a relative path missing from the working directory
is looked for there too."""
from __future__ import annotations

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
