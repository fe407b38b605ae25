"""What the plate reader tells systemd when it runs as a service (deploy/*.service): each journal line's priority,
and that it is ready (`Type=notify`). Outside systemd, nothing."""
from __future__ import annotations

import os
import socket
import sys


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
