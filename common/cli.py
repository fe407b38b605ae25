"""Logging for command-line entry points: messages only, on stderr (an error is the one line `error: ...`)."""
from __future__ import annotations

import argparse
import errno
import os
import sys
import time
from contextlib import contextmanager, redirect_stdout
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, TextIO

from common.errors import UserError
from common.systemd import journal_priority, to_journal


def setup_logging(sink: Callable[[str], None] | None = None) -> None:
    """Call once at the start of an entry point (library code only logs, never configures): messages only, on
    stderr (looked up at each write, so that a test's capture sees it; above a running progress bar, not through
    it: tqdm.write); with `sink` (a report on stdout, lines between progress bars), everything below ERROR goes
    there and errors still go to stderr. Lines bound with `vehicle=True` (one per vehicle event:
    pipeline/orchestrator.py) are for a log file an entry point adds, not the console. OpenCV's own log lines (a
    damaged image's `[ERROR:0@...] readHeader ...`, also from data-loading workers) are off unless OPENCV_LOG_LEVEL
    asks for them: our one line says what is wrong."""
    from loguru import logger
    from tqdm import tqdm

    if os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF").upper() == "OFF":
        import cv2

        cv_log = getattr(getattr(cv2, "utils", None), "logging", None)
        if cv_log is not None:  # read at cv2's import only: set it now, for this process and those it forks
            cv_log.setLogLevel(cv_log.LOG_LEVEL_SILENT)
    logger.remove()
    journal = to_journal()  # a systemd service's stderr

    def stderr(message: Any) -> None:
        if journal:  # each line with its priority, which journald takes off: `journalctl -p warning` finds it
            level = journal_priority(message.record["level"].no)
            message = "".join(f"<{level}>{line}\n" for line in str(message).rstrip("\n").split("\n"))
        tqdm.write(message, end="", file=sys.stderr)

    if sink is None:
        logger.add(stderr, format="{message}", filter=lambda record: not record["extra"].get("vehicle"))
    else:
        logger.add(sink, format="{message}",
                   filter=lambda record: record["level"].no < 40 and not record["extra"].get("vehicle"))
        logger.add(stderr, format="{message}", level="ERROR")


class LogLines:
    """A stream for progress bars where it is no terminal (a run under `nohup ... > train.log`), which writes each
    redraw as a line of its own: tqdm's (each begun with a carriage return; tqdm keeps them apart in time), the same
    line never twice, and ultralytics' (handed to `progress`, its hook for logs), one a bar each `every_s` and its
    last; anything else as it comes. The newline a bar writes when it closes is left out (its line has one)."""

    def __init__(self, file: TextIO, every_s: float = 60.0) -> None:
        self.file, self.every_s = file, every_s
        self.encoding = getattr(file, "encoding", None)  # tqdm draws its bar in blocks for UTF-8, else in #
        self.last = ""  # the last line written, for a bar's redraw
        self.bars: dict[int, tuple[str, float]] = {}  # an ultralytics bar: its newest frame, when one was written

    def _line(self, frame: str) -> None:
        line = frame.replace("\r", "").replace("\033[K", "").rstrip()
        if line and line != self.last:  # not the end's line again when the last step drew it
            self.file.write(line + "\n")
            self.last = line

    def write(self, text: str) -> None:
        if "\r" in text:  # a tqdm redraw
            self._line(text)
        elif text == "\n" and self.last:  # a closed bar's newline: its line has one
            self.last = ""
        else:
            self.file.write(text)
            self.last = ""

    def progress(self, bar: int, frame: str) -> None:
        """ultralytics' redraw of `bar` ("": the bar closed, its last frame is written)."""
        now = time.monotonic()
        if not frame:
            last, _ = self.bars.pop(bar, ("", 0.0))
            self._line(last)
            return
        _, written = self.bars.get(bar, ("", -self.every_s))
        if now - written >= self.every_s:
            self._line(frame)
            written = now
        self.bars[bar] = (frame, written)

    def isatty(self) -> bool:
        return False

    def flush(self) -> None:
        self.file.flush()


@contextmanager
def bars_as_lines() -> Iterator[None]:
    """Inside, where stdout is no terminal, progress bars drawn on stdout (ultralytics' training bars) written as
    lines (`LogLines`); on a terminal, nothing changes."""
    if sys.stdout.isatty():
        yield
        return
    with redirect_stdout(LogLines(sys.stdout)):  # type: ignore[type-var]  # a text stream for what writes to it
        yield


def progress(items: Iterable[Any], desc: str, log_every_s: float = 60.0) -> Any:
    """tqdm's progress bar over `items` on a terminal; where stderr is a file or a pipe, the same bar as a line at
    the start, once every `log_every_s` and at the end (a bar redrawn ten times a second made one line of a log
    megabytes long). Its postfix is set with `refresh=False`, so that it shows at the next line."""
    from tqdm import tqdm

    if sys.stderr.isatty():
        return tqdm(items, desc=desc, leave=True, dynamic_ncols=True)
    return tqdm(items, desc=desc, leave=True, file=LogLines(sys.stderr), mininterval=log_every_s)


def entry_parser(doc: str | None) -> argparse.ArgumentParser:
    """An entry point's argument parser: its module docstring as the help, laid out as written, and no flag taken
    for a longer one it begins (argparse's abbreviations read `--conf 0.3` as --config / --config-dir)."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter,
                                   allow_abbrev=False)


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


def numbers(kind: Callable[[str], Any] = float) -> Callable[[str], list[Any]]:
    """An argparse type: comma-separated numbers of `kind` (`0.5,1.0`), else argparse's one-line error naming the
    one that is not."""
    name = "whole number" if kind is int else "number"

    def parse(text: str) -> list[Any]:
        out = []
        for part in (t.strip() for t in text.split(",")):
            try:
                out.append(kind(part))
            except ValueError:
                raise argparse.ArgumentTypeError(f"{part!r} in {text!r} is not a {name}") from None
        return out

    parse.__name__ = f"comma-separated {name}s"
    return parse


def _number(text: str) -> float:
    """`text` as a number, else argparse's error saying it is not one (`positive`, `fraction`)."""
    try:
        return float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None


def positive(text: str) -> float:
    """An argparse type: a number above 0 (seconds, minutes, a rate, megabytes)."""
    value = _number(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{value:g} is not above 0")
    return value


def whole_pair(sep: str = "x", low: int = 1) -> Callable[[str], tuple[int, int]]:
    """An argparse type: two whole numbers of at least `low` as A{sep}B (`1280x720`, `1280,1080` with `sep=","`)."""

    def parse(text: str) -> tuple[int, int]:
        try:
            a, b = (int(v) for v in text.lower().split(sep))
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected two whole numbers as A{sep}B, got {text!r}") from None
        if min(a, b) < low:
            raise argparse.ArgumentTypeError(f"{text!r}: each number must be at least {low}")
        return a, b

    parse.__name__ = f"A{sep}B"
    return parse


def port(text: str) -> int:
    """An argparse type: a TCP port, 0-65535 (0: any free one)."""
    value = at_least(0)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"{value} is above 65535, the largest port")
    return value


def fraction(text: str) -> float:
    """An argparse type: a number from 0 to 1 (a share)."""
    value = _number(text)
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"{value:g} is not within 0-1")
    return value


EXPECTED = (UserError, OSError)  # an entry point's expected mistakes (bad input, a path it cannot read or write)


def error_line(exc: BaseException) -> str:
    """The one line an expected mistake prints: a UserError's message, or an OSError's file and reason
    (`error: /data/out: Permission denied`); one raised in a data-loading worker (which torch re-raises with the
    worker's traceback as its message) by the worker's own message. A shipped file missing from an install that
    holds the code alone says so (`common.paths.code_only_hint`); a full disk where no file is named, in words."""
    from common.paths import code_only_hint

    if isinstance(exc, OSError) and not isinstance(exc, UserError) and exc.filename is not None:
        return f"error: {code_only_hint(f'{exc.filename}: {exc.strerror or exc}')}"
    if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:  # a write that names no file (most of them)
        return "error: no space left on device: a disk this command writes to is full; free some and run it again"
    message = str(exc)
    if "\nOriginal Traceback (most recent call last):" in message:  # raised in a DataLoader worker, re-raised here
        last = message.rstrip().splitlines()[-1]  # the worker's own `module.Type: message`
        message = last.split(": ", 1)[1] if ": " in last and " " not in last.split(": ", 1)[0] else last
    return f"error: {code_only_hint(message)}"


def run_main(work: Callable[[], int | None], sink: Callable[[str], None] | None = None,
             on_interrupt: str | Callable[[], str] | None = None) -> int:
    """An entry point's exit status: logging set up (`setup_logging(sink)`), then `work()`'s own status (0 when it
    returns None). An expected mistake (`EXPECTED`) logs its one `error: ...` line and gives 2; Ctrl-C, when
    `on_interrupt` says how to carry on (a line, or a function giving it then), logs that and gives 130 (otherwise it
    propagates). With `on_interrupt`, SIGTERM (a service manager's or a job scheduler's stop, `kill`) and SIGHUP (the
    terminal or SSH session it runs in closed) are taken as Ctrl-C while `work()` runs in the main thread, so they too
    end with that line and what a stop writes (a camera's open tracks, the last checkpoint) rather than silently."""
    import signal
    import threading

    from loguru import logger

    setup_logging(sink)
    takes_sigterm = on_interrupt is not None and threading.current_thread() is threading.main_thread()
    previous = {s: signal.signal(s, _as_interrupt) for s in stop_signals(signal.SIGTERM)} if takes_sigterm else {}
    try:
        status = work()
    except EXPECTED as exc:
        logger.error(error_line(exc))
        let_go(exc)
        return 2
    except (KeyboardInterrupt, RuntimeError) as exc:
        if on_interrupt is None or (isinstance(exc, RuntimeError) and not stopped_worker(exc)):
            raise
        for stop in previous:  # a second stop (a group's SIGTERM reaching this process late) does not cut the line short
            signal.signal(stop, signal.SIG_IGN)
        logger.warning(on_interrupt() if callable(on_interrupt) else on_interrupt)
        let_go(exc)
        return 130
    finally:
        for stop, handler in previous.items():
            signal.signal(stop, handler)
    return 0 if status is None else status


def let_go(exc: BaseException) -> None:
    """What the work that raised `exc` held is let go now: the locals of the frames it went through (its cause's and
    context's too) are cleared. A raise keeps them alive in a cycle (torch re-raises a data worker's error from a
    local), left to a collection of the heap that may come any time later; a data loader's workers let go that way
    were waited for 5 s, in whatever thread the collection ran (`bench/gc_pauses.py` found it), and lived until then."""
    import traceback

    seen: set[int] = set()
    link: BaseException | None = exc
    while link is not None and id(link) not in seen:
        seen.add(id(link))
        traceback.clear_frames(link.__traceback__)
        link = link.__cause__ or link.__context__


def stopped_worker(exc: RuntimeError) -> bool:
    """Whether `exc` is torch's word that a data worker died of SIGTERM: a stop sent to the whole process group
    (`timeout`, a service manager's, a job scheduler's) reaches the workers of a loader that is not ours too
    (ultralytics' on a GPU; the OCR's end quietly, `ocr.train.end_on_stop`), and torch may say so before this
    process's own handler takes the stop. A stop all the same."""
    return "DataLoader worker" in str(exc) and "killed by signal: Terminated" in str(exc)


def interrupted_line(last: Path | None, epoch: int | None = None) -> str:
    """What a stopped training run says: its checkpoint `last` to resume from (and the `epoch` saved in it, when
    known), or, when it has none yet, that its first epoch had not ended."""
    if last is None or not last.is_file():
        return "interrupted before a first epoch ended: nothing saved; run the same command again"
    return f"interrupted: {'' if epoch is None else f'epoch {epoch} is saved; '}resume with resume={last}"


@contextmanager
def stopped_when_full(where: Callable[[], Path | None], then: Callable[[], str]) -> Iterator[None]:
    """A training run that meets a full disk inside: one error line naming the file (or `where()`, the run's folder,
    when the error names none) and what a stop says (`then()`: the checkpoint to resume from once space is freed)."""
    try:
        yield
    except OSError as exc:
        if exc.errno != errno.ENOSPC:
            raise
        raise UserError(f"{exc.filename or where()}: {exc.strerror}; {then()}") from None


NO_METRICS = "interrupted before the end: no metrics reported"  # what an evaluation stopped by Ctrl-C or SIGTERM says


def unfinished(out: Path, made: str = "labels.csv") -> str:
    """What a generator stopped before the end says: its set, whose `made` file is written last, is no set yet."""
    return f"interrupted: {out} is unfinished (no {made} written); run the same command again"


def stop_signals(*always: int) -> list[int]:
    """The signals a run takes as a stop: `always`, and SIGHUP (its terminal or SSH session closed) unless it is
    ignored, as `nohup` starts a run so that it outlives its terminal (nor on Windows, which has none)."""
    import signal

    hup = getattr(signal, "SIGHUP", None)
    return [*always, *([hup] if hup is not None and signal.getsignal(hup) is not signal.SIG_IGN else [])]


def _as_interrupt(signum: int, _frame: object) -> None:
    raise KeyboardInterrupt


def leave(status: int, argv: list[str] | None) -> int:
    """An entry point's end: `status` returned when called from Python with its arguments (`main([...])`, as tests
    do); on the command line (`argv` None), the process ends here, its outputs already closed: the log's files closed,
    stdout and stderr flushed, then `os._exit`, without the interpreter's teardown, which with torch loaded takes a
    second and, on a machine reclaiming memory, 20 s and more (a service manager's stop would have to wait for it)."""
    if argv is not None:
        return status
    import os

    from loguru import logger

    logger.remove()  # closes (and so flushes) the file sinks, as the teardown would have
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(status)


def prepare_outputs(*paths: str | Path | None) -> None:
    """Create the folders of the files an entry point will write (None: not asked for) and try writing there, so that
    a path it cannot write to is said before the work rather than after it."""
    import tempfile

    for p in paths:
        if p is not None:
            if Path(p).is_dir():
                raise UserError(f"{p} is a folder: name the file to write")
            Path(p).parent.mkdir(parents=True, exist_ok=True)
            try:
                with tempfile.TemporaryFile(dir=Path(p).parent):
                    pass
            except OSError as exc:
                raise UserError(f"cannot write {p}: {exc.strerror or exc}") from None
