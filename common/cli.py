"""Logging for command-line entry points: messages only, on stderr (an error is the one line `error: ...`)."""
from __future__ import annotations

import argparse
import sys
from typing import Callable


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
