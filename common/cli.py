"""Logging for command-line entry points: messages only, on stderr (an error is the one line `error: ...`)."""
from __future__ import annotations

import sys


def setup_logging() -> None:
    """Call once at the start of an entry point's `main` (library code only logs, never configures)."""
    from loguru import logger

    logger.remove()
    logger.add(lambda message: sys.stderr.write(message), format="{message}")  # stderr looked up at each write
