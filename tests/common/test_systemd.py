"""What the plate reader tells systemd: each journal line's priority, and that a service is ready."""
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from common.systemd import journal_priority, notify


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
