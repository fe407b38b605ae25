"""What the plate reader tells systemd when it runs as a service (deploy/*.service): each journal line's priority,
that it is ready (`Type=notify`), that it is alive (`WatchdogSec=`) and how it goes (`systemctl status`). Outside
systemd, nothing."""
from __future__ import annotations

import faulthandler
import os
import socket
import sys
import threading
import time
from collections.abc import Callable, Mapping
from contextlib import suppress

from loguru import logger

from common import liveness


def to_journal() -> bool:
    """Whether stderr is systemd's journal: a service's stderr, which systemd names in $JOURNAL_STREAM (its device and
    inode) so that a program can tell it from a file or a pipe the service's command sends it on to."""
    try:
        device, inode = (int(x) for x in os.environ.get("JOURNAL_STREAM", "").split(":"))
        st = os.fstat(sys.stderr.fileno())
    except (ValueError, OSError, AttributeError):  # not set; a stderr with no file (a test's capture, a GUI's)
        return False
    return (st.st_dev, st.st_ino) == (device, inode)


def journal_priority(level: int) -> int:
    """The syslog priority journald files a loguru level's line under (sd-daemon's `<N>` prefix): 7 debug, 6 info,
    5 notice (SUCCESS), 4 warning, 3 error, 2 critical."""
    return next((priority for top, priority in ((10, 7), (20, 6), (25, 5), (30, 4), (40, 3)) if level <= top), 2)


def notify(state: str = "READY=1") -> bool:
    """Tell systemd `state` (sd_notify: `READY=1` once the service answers, so that units ordered after it start
    then, and `systemctl start` returns then); whether it was told. Nothing where $NOTIFY_SOCKET is not set (not a
    `Type=notify` service) or cannot be reached."""
    address = os.environ.get("NOTIFY_SOCKET", "")
    if not address.startswith(("/", "@")):
        return False
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
            sock.connect("\0" + address[1:] if address.startswith("@") else address)  # @: the abstract namespace
            sock.sendall(state.encode())
    except OSError:
        return False
    return True


def watchdog_s(environ: Mapping[str, str] = os.environ) -> float:
    """systemd's watchdog period for this process (`WatchdogSec=`: $WATCHDOG_USEC, meant for the process that
    $WATCHDOG_PID names where set), 0 where there is none."""
    try:
        usec = int(environ.get("WATCHDOG_USEC", ""))
    except ValueError:
        return 0.0
    pid = environ.get("WATCHDOG_PID", "")
    return usec / 1e6 if usec > 0 and pid in ("", str(os.getpid())) else 0.0


class Supervisor(threading.Thread):
    """While the service runs, tells systemd twice a watchdog period (`period_s`, default `watchdog_s()`) that it is
    alive (`WATCHDOG=1`) as long as no watched work is stuck (`common.liveness`: none gave a sign of progress for a
    period), so that systemd restarts a service that hangs; and its `status()` (`STATUS=`, the line `systemctl status`
    shows) when that changes, every `every_s` without a watchdog. A stuck work is one error line naming where it is,
    and one line when it goes on again. A context manager: started on entry where $NOTIFY_SOCKET is set (or `send`
    given), stopped on exit."""

    def __init__(self, status: Callable[[], str] | None = None, period_s: float | None = None,
                 send: Callable[[str], bool] | None = None, every_s: float = 5.0) -> None:
        super().__init__(name="systemd", daemon=True)
        self.period_s = watchdog_s() if period_s is None else period_s
        self.status, self.send, self.every_s = status, send or notify, every_s
        self.on = send is not None or bool(os.environ.get("NOTIFY_SOCKET"))
        self.halt = threading.Event()

    def __enter__(self) -> Supervisor:
        if self.on and (self.period_s > 0 or self.status is not None):
            if self.period_s > 0 and sys.stderr is not None and not faulthandler.is_enabled():
                with suppress(AttributeError, ValueError, OSError):  # a stderr with no file: no stacks
                    faulthandler.enable()  # the watchdog's SIGABRT writes each thread's stack to the journal
            self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.halt.set()
        if self.is_alive():
            self.join(timeout=5)

    def run(self) -> None:
        told, late, tick, paused = "", set[str](), self.period_s / 2 if self.period_s > 0 else self.every_s, False
        while True:
            if self.period_s > 0 and not paused:
                late = self.check(late)
            if self.status is not None:
                text = self.status()
                if text != told and self.send(f"STATUS={text}"):
                    told = text
            started = time.monotonic()
            if self.halt.wait(tick):
                return
            # woken far too late, the process itself was paused (SIGSTOP, a VM's pause): its works had no round to
            # give a sign since, so they are judged on the next round
            paused = time.monotonic() - started > 2 * tick

    def check(self, late: set[str]) -> set[str]:
        """`WATCHDOG=1` unless a watched work is stuck; the stuck works' names (`late`: those told already)."""
        stuck = liveness.stuck(self.period_s)
        for work in (w for w in stuck if w.name not in late):
            logger.error(f"{work.name}: no progress for {work.seconds:g} s (in {work.where}): systemd's watchdog "
                         "restarts the service unless it goes on")
        names = {w.name for w in stuck}
        for name in sorted(late - names):
            logger.warning(f"{name}: no longer stuck")
        if not stuck:
            self.send("WATCHDOG=1")
        return names
