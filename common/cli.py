"""Logging for command-line entry points: messages only, on stderr (an error is the one line `error: ...`)."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Callable

from common.errors import UserError


def setup_logging() -> None:
    """Call once at the start of an entry point's `main` (library code only logs, never configures)."""
    from loguru import logger

    logger.remove()
    logger.add(lambda message: sys.stderr.write(message), format="{message}")  # stderr looked up at each write


def at_least(low: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `low` (`--n`, `--batch`), else argparse's one-line error."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"{value} is below {low}")
        return value

    parse.__name__ = f"whole number >= {low}"
    return parse


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1 (a share)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{value:g} is not within 0-1")
    return value


EXPECTED = (UserError, OSError)  # an entry point's expected mistakes (bad input, a path it cannot read or write)


def error_line(exc: BaseException) -> str:
    """The one line an expected mistake prints: a UserError's message, or an OSError's file and reason
    (`error: /data/out: Permission denied`)."""
    if isinstance(exc, OSError) and not isinstance(exc, UserError) and exc.filename is not None:
        return f"error: {exc.filename}: {exc.strerror or exc}"
    return f"error: {exc}"


def prepare_outputs(*paths: str | Path | None) -> None:
    """Create the folders of the files an entry point will write (None: not asked for), so that a path it cannot
    write to is said before the work rather than after it."""
    for p in paths:
        if p is not None:
            Path(p).parent.mkdir(parents=True, exist_ok=True)
