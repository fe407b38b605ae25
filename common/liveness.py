"""Signs of progress from the threads that do the work (a camera's, a video's, the HTTP service's reader), checked by
systemd's watchdog (`common.systemd.Supervisor`): a work that gives none for a while is stuck, and the service is
restarted. A thread's work is watched inside `watching(name)`; `beat()` anywhere below it says it goes on, and
`doing(what)` what it waits for when it is not reading (`systemctl status` shows it)."""
from __future__ import annotations

import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from common.paths import ROOT

_works: dict[int, list] = {}  # thread ident -> [the work's name, its last sign of progress (monotonic s), doing]
_lock = threading.Lock()
STEP_S = 5.0  # a long wait's signs of progress are this far apart (a watchdog period is minutes)


@dataclass(frozen=True)
class Stuck:
    """A watched work that gave no sign of progress for `seconds`; `where`: the calls its thread is in, innermost
    first (`sinks.py:88 write < orchestrator.py:231 _emit < ...`)."""
    name: str
    seconds: float
    where: str


@contextmanager
def watching(name: str) -> Iterator[None]:
    """This thread's work, called `name`, watched while inside (its first sign of progress now); a work inside
    another is watched under its own name, then the outer one's again."""
    ident = threading.get_ident()
    with _lock:
        outer = _works.get(ident)
        _works[ident] = [name, time.monotonic(), ""]
    try:
        yield
    finally:
        with _lock:
            if outer is None:
                _works.pop(ident, None)
            else:
                _works[ident] = [outer[0], time.monotonic(), outer[2]]


def beat() -> None:
    """This thread's watched work goes on (a frame read, a wait for a camera gone round); nothing where none is."""
    work = _works.get(threading.get_ident())
    if work is not None:
        work[1] = time.monotonic()


def doing(what: str) -> None:
    """What this thread's watched work waits for where it is not reading (`waiting for the camera to open`,
    `reconnecting (stalled)`); "" once it reads again. Nothing where no work is watched."""
    work = _works.get(threading.get_ident())
    if work is not None:
        work[2] = what


def doings() -> dict[str, str]:
    """What each watched work waits for, by its name, where it waits for something."""
    with _lock:
        return {name: what for name, _, what in _works.values() if what}


def wait(event: threading.Event, seconds: float) -> bool:
    """`event.wait(seconds)` with a sign of progress every `STEP_S` (a wait for a camera as long as the back-off
    says is no hang); whether the event was set."""
    end = time.monotonic() + seconds
    while True:
        beat()
        left = end - time.monotonic()
        if event.wait(max(0.0, min(left, STEP_S))):
            return True
        if left <= STEP_S:
            return False


def stuck(limit_s: float) -> list[Stuck]:
    """The watched works that gave no sign of progress for `limit_s` seconds, each with where its thread is."""
    now, frames = time.monotonic(), sys._current_frames()
    with _lock:
        late = [(ident, name, now - last) for ident, (name, last, _) in _works.items() if now - last >= limit_s]
    return [Stuck(name, round(age, 1), _where(frames.get(ident))) for ident, name, age in late]


def _where(frame: object) -> str:
    """Where a thread is, innermost first: the call it is in, then the project's own innermost two (a hang in a
    library shows which of our lines called it), each as `file:line function`; "" when it has ended."""
    if frame is None:
        return ""
    calls = traceback.extract_stack(frame)[::-1]  # type: ignore[arg-type]
    own = [c for c in calls[1:] if c.filename.startswith(str(ROOT)) and "site-packages" not in c.filename][:2]
    return " < ".join(f"{Path(c.filename).name}:{c.lineno} {c.name}" for c in [calls[0], *own])
