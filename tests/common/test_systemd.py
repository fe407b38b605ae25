"""What the plate reader tells systemd: each journal line's priority, that a service is ready, that it lives and how
it goes."""
import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from common.liveness import beat, watching
from common.systemd import Supervisor, journal_priority, notify, watchdog_s
from tests.common.test_liveness import started


def test_messages_to_the_journal_carry_their_priority(tmp_path):
    """Under systemd every line reached the journal at one priority, so `journalctl -p warning` found no outage and
    no error; where stderr is the stream $JOURNAL_STREAM names, each line now starts with its `<N>` (sd-daemon), and
    a file or pipe the service's command sends stderr to instead is written as before."""
    code = ("from common.cli import setup_logging; setup_logging(); from loguru import logger; "
            "logger.info('read {x}'); logger.warning('lost\\nreopened'); logger.error('error: gone'); "
            "logger.debug('d')")
    root = Path(__file__).resolve().parents[2]
    journal, other = tmp_path / "journal", tmp_path / "other"
    for f in (journal, other):
        f.touch()
    st = os.stat(journal)

    def run(stream: str) -> str:
        with journal.open("w") as err:
            env = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
            subprocess.run([sys.executable, "-c", code], stderr=err, cwd=root, check=True, timeout=120,
                           env={**env, **({"JOURNAL_STREAM": stream} if stream else {})})
        return journal.read_text()

    assert run(f"{st.st_dev}:{st.st_ino}") == "<6>read {x}\n<4>lost\n<4>reopened\n<3>error: gone\n<7>d\n"
    plain = "read {x}\nlost\nreopened\nerror: gone\nd\n"
    assert run("") == plain and run(f"{st.st_dev}:{os.stat(other).st_ino}") == plain and run("nonsense") == plain


@pytest.mark.parametrize("level, priority", [(5, 7), (10, 7), (11, 6), (20, 6), (25, 5), (26, 4), (30, 4), (40, 3),
                                             (41, 2), (50, 2)])
def test_each_loguru_level_has_its_journal_priority(level, priority):
    """TRACE and DEBUG debug, INFO info, SUCCESS notice, WARNING warning, ERROR error, CRITICAL critical (and a
    custom level between two, the lower's)."""

    assert journal_priority(level) == priority



@pytest.mark.skipif(not hasattr(socket, "AF_UNIX"), reason="no Unix sockets here")
@pytest.mark.parametrize("abstract", [False, True])
def test_a_service_tells_systemd_it_is_ready_where_systemd_listens(abstract, tmp_path, monkeypatch):
    """`Type=notify`: systemd hands the service a socket in $NOTIFY_SOCKET (a path, or `@name` in Linux's abstract
    namespace) and waits for `READY=1` on it; elsewhere nothing is sent and nothing fails."""
    if abstract and not sys.platform.startswith("linux"):
        pytest.skip("the abstract namespace is Linux's")
    name = f"@plate-reader-test-{os.getpid()}" if abstract else str(tmp_path / "notify")
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as systemd:
        systemd.bind("\0" + name[1:] if abstract else name)
        systemd.settimeout(10)
        monkeypatch.setenv("NOTIFY_SOCKET", name)
        assert notify() is True
        assert systemd.recv(64) == b"READY=1"
        assert notify("STOPPING=1") is True and systemd.recv(64) == b"STOPPING=1"
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "gone"))  # no one listening: not told, no error
    assert notify() is False
    for unset in ("", "relative/path"):
        monkeypatch.setenv("NOTIFY_SOCKET", unset)
        assert notify() is False


@pytest.mark.parametrize("usec, pid, period", [("120000000", None, 120.0), ("500000", "mine", 0.5),
                                               ("120000000", "other", 0.0), ("0", None, 0.0), ("", None, 0.0),
                                               ("2 min", None, 0.0)])
def test_the_watchdogs_period_is_the_units_for_this_process_only(usec, pid, period):
    """`WatchdogSec=120` hands the service $WATCHDOG_USEC (and $WATCHDOG_PID); a child process given the same
    environment (another's pid) has no watchdog of its own."""
    environ = {"WATCHDOG_USEC": usec, **({"WATCHDOG_PID": str(os.getpid() if pid == "mine" else 1)} if pid else {})}
    assert watchdog_s(environ) == period


def _systemd_told(period_s, status=None):
    """A Supervisor with a short watchdog period, sending to a list: (the supervisor, what it sent)."""
    told = []
    return Supervisor(status, period_s=period_s, send=lambda m: told.append((time.monotonic(), m)) or True), told


def test_the_watchdog_is_told_the_service_lives_only_while_no_work_is_stuck(logged, no_gc_pauses):
    """A source that hangs (a read that never returns) was never noticed: the service ran on with a camera unread
    until someone looked. While its work gives signs of progress, systemd hears `WATCHDOG=1` twice a period; once it
    gives none for a period, one error line says where it is and systemd hears nothing more (and restarts the
    service after `WatchdogSec`); if it goes on, so do the pings."""
    hang, resumed, halt, ready = threading.Event(), threading.Event(), threading.Event(), threading.Event()

    def camera():
        with watching("gate-in"):
            ready.set()
            while not halt.is_set():
                beat()
                if hang.is_set():
                    resumed.wait(30)  # hung
                    hang.clear()
                time.sleep(0.01)

    supervisor, told = _systemd_told(0.4)
    t = started(camera, ready)

    def run():
        with supervisor:
            time.sleep(1.0)
            hang.set()
            time.sleep(1.6)
            resumed.set()
            time.sleep(0.8)
            return supervisor.is_alive()

    lines, alive = logged(run)
    halt.set()
    t.join(10)
    assert alive and not supervisor.is_alive()  # stopped on leaving
    pings = [when for when, m in told if m == "WATCHDOG=1"]
    assert {m for _, m in told} == {"WATCHDOG=1"}
    gaps = [b - a for a, b in zip(pings, pings[1:])]
    assert max(gaps) > 0.9 and sorted(gaps)[-2] < 0.4  # one silence (the hang), pings twice a period otherwise
    errors = [m for level, m in lines if level == "ERROR"]
    assert len(errors) == 1 and errors[0].startswith("gate-in: no progress for 0.")
    assert "test_systemd.py:" in errors[0] and " camera):" in errors[0] and "restarts the service" in errors[0]
    assert ("WARNING", "gate-in: no longer stuck") in lines


def test_systemd_is_told_the_status_as_it_changes_and_nothing_outside_systemd(monkeypatch):
    state, asked = ["reading gate-in"], []
    supervisor, told = _systemd_told(0.0, lambda: asked.append(1) or state[0])
    supervisor.every_s = 0.05
    with supervisor:
        time.sleep(0.2)
        state[0] = "1 of 2 cameras running (gate-out stopped on an error)"
        time.sleep(0.2)
    assert [m for _, m in told] == ["STATUS=reading gate-in",
                                    "STATUS=1 of 2 cameras running (gate-out stopped on an error)"]
    assert 4 <= len(asked) <= 12  # every every_s, without a watchdog
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    for quiet in (Supervisor(lambda: "x", period_s=10.0), Supervisor(None, period_s=0.0, send=print)):
        with quiet:
            assert not quiet.is_alive()  # not under systemd; under it with nothing to tell


def test_a_process_paused_as_a_whole_is_not_taken_for_a_stuck_work(logged):
    """SIGSTOP, or a virtual machine paused, stops every thread: woken far too late, the supervisor found the works'
    last signs as old as the pause and named them stuck, wrongly, with where they were. It now gives them a round."""
    frozen, done, ready = threading.Event(), threading.Event(), threading.Event()

    class PausingHalt(threading.Event):
        calls = 0

        def wait(self, timeout=None):
            self.calls += 1
            if self.calls == 3:  # the whole process paused for 1 s
                frozen.set()
                time.sleep(1.0)
                frozen.clear()
                return False
            return super().wait(timeout)

    def camera():
        with watching("gate-in"):
            ready.set()
            while not done.is_set():
                if frozen.is_set():
                    while frozen.is_set():
                        time.sleep(0.005)
                    time.sleep(0.1)  # a thread is scheduled again a moment after the process goes on
                beat()
                time.sleep(0.01)

    supervisor, told = _systemd_told(0.4)
    supervisor.halt = PausingHalt()
    t = started(camera, ready)

    def run():
        with supervisor:
            time.sleep(1.8)

    lines, _ = logged(run, "WARNING")
    done.set()
    t.join(10)
    assert lines == [] and sum(m == "WATCHDOG=1" for _, m in told) >= 4


@pytest.mark.parametrize("period_s, stacks", [(5.0, True), (0.0, False)])
def test_a_service_killed_by_the_watchdog_leaves_each_threads_stack_in_the_journal(period_s, stacks):
    """systemd ends a hung service with SIGABRT: with a watchdog, Python's faulthandler then writes where each thread
    was to stderr (the journal), which says what hung; without one, the process dies as before."""
    code = ("import os, signal, threading, time; from common.systemd import Supervisor\n"
            "def hung_sink_write():\n    threading.Event().wait(60)\n"
            "threading.Thread(target=hung_sink_write, daemon=True).start(); time.sleep(0.2)\n"
            f"with Supervisor(lambda: 'x', period_s={period_s}, send=lambda m: True):\n"
            "    os.kill(os.getpid(), signal.SIGABRT)\n")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    assert ("Fatal Python error: Aborted" in done.stderr and "hung_sink_write" in done.stderr) == stacks, done.stderr
