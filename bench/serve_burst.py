"""Many clients at once against the HTTP service: what they are answered, how long they wait, and the service's peak
memory.

    python bench/serve_burst.py [--clients 64] [--mb 8] [service options ...]   # e.g. --max-waiting 16

Starts `python -m pipeline.serve` on a free port (the shipped models; options after `--clients` / `--mb` passed on),
then `--clients` clients POST at once an image of about `--mb` MB (a bundled still's JPEG padded with an APP
segment: read as the still, held as its bytes), each waiting up to 600 s: prints how many got each status, their
median and longest wait, and the service's peak resident memory (Linux's `VmHWM`).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
import os
import socket
import statistics
import struct
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections import Counter

from common.cli import at_least, positive

ROOT = Path(__file__).resolve().parents[1]
STILL = ROOT / "samples" / "stills" / "images" / "train_dayride_type1_003_t00098.jpg"


def padded_jpeg(mb: float) -> bytes:
    """The bundled still's JPEG with APP15 segments of zeros after its start marker, to about `mb` MB."""
    data = STILL.read_bytes()
    pad, left = [], int(mb * 1e6) - len(data)
    while left > 0:
        n = min(left, 65533)
        pad.append(b"\xff\xef" + struct.pack(">H", n + 2) + bytes(n))
        left -= n + 4
    return data[:2] + b"".join(pad) + data[2:]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def post(url: str, body: bytes, got: list[tuple[int, float]]) -> None:
    start = time.perf_counter()
    req = urllib.request.Request(url, data=body, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=600) as r:
            r.read()
            status = r.status
    except urllib.error.HTTPError as e:
        status = e.code
    except OSError:
        status = 0  # no answer: the connection refused or dropped
    got.append((status, time.perf_counter() - start))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=at_least(1), default=64)
    ap.add_argument("--mb", type=positive, default=8.0)
    a, rest = ap.parse_known_args()
    port = free_port()
    env = {**os.environ, "YOLO_OFFLINE": "1"}
    service = subprocess.Popen([sys.executable, "-m", "pipeline.serve", "--port", str(port), *rest], cwd=ROOT,
                               env=env, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=1) as r:
                    json.loads(r.read())
                break
            except OSError:
                time.sleep(0.2)
        idle = peak_mb(service.pid)
        body = padded_jpeg(a.mb)
        got: list[tuple[int, float]] = []
        clients = [threading.Thread(target=post, args=(f"{base}/read", body, got)) for _ in range(a.clients)]
        for c in clients:
            c.start()
        for c in clients:
            c.join()
        waits = [t for _, t in got]
        print(f"{a.clients} clients at once, {len(body) / 1e6:.1f} MB each, service {' '.join(rest) or 'as default'}: "
              f"answers {dict(sorted(Counter(s for s, _ in got).items()))}, wait median {statistics.median(waits):.1f} s"
              f", longest {max(waits):.1f} s; service peak memory {peak_mb(service.pid):.0f} MB "
              f"({idle:.0f} MB with the models loaded)")
    finally:
        service.terminate()
        service.wait(30)


if __name__ == "__main__":
    main()
