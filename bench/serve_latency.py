"""The HTTP service's speed: milliseconds per photo as a client sees it, and photos per second under load.

    python bench/serve_latency.py [--images samples/stills/images] [--rounds 10] [--clients 4] [--json OUT]
        [key=value ...]
    python bench/serve_latency.py --soak-min 15 --json bench/results/serve_soak.json   # and then for 15 minutes

Starts `python -m pipeline.serve` on a free local port with the shipped models (overrides are passed on), waits for
`GET /health`, then POSTs every image of --images as a request body, one request at a time, --rounds times after a
warm-up round: the median and 90th percentile of the client's round trip, and of the service's own `ms` (the reading
alone), give what HTTP, decoding and queueing add. Then --clients threads POST the same images at once for as many
requests again: photos per second, and the client's median wait while the others' photos are read first (the service
reads one at a time). Run it on an idle machine.

With --soak-min M the service writes its reads (`--out`, a temporary folder) and the clients then go on posting for M
minutes while the service process's resident memory, open files and threads are noted every 10 s (Linux, /proc):
whether a service left running for months grows. The memory's slope is fitted after the first of those minutes.
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
import subprocess
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

from common.cli import at_least
from common.device import cpu_name
from ocr.process import IMAGE_EXTS

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    """A port nothing listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def post(url: str, body: bytes, name: str) -> tuple[float, dict]:
    """One POST /read: (the client's round trip in ms, the answer)."""
    req = urllib.request.Request(f"{url}/read?name={name}", data=body, method="POST",
                                 headers={"Content-Type": "application/octet-stream"})
    start = time.perf_counter()
    with urllib.request.urlopen(req, timeout=120) as resp:
        answer = json.loads(resp.read())
    return (time.perf_counter() - start) * 1000, answer


def wait_healthy(url: str, proc: subprocess.Popen, seconds: float = 300) -> None:
    """Wait until GET /health answers (the models are loaded); fail if the service ends first."""
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise SystemExit(f"the service ended with status {proc.returncode} before answering")
        try:
            with urllib.request.urlopen(f"{url}/health", timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise SystemExit(f"the service did not answer {url}/health within {seconds:.0f} s")


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of values."""
    ranked = sorted(values)
    return round(ranked[min(len(ranked) - 1, int(q / 100 * len(ranked)))], 1)


def soak_service(url: str, pid: int, bodies: list[tuple[str, bytes]], clients: int, minutes: float) -> dict:
    """`clients` threads post `bodies` round and round for `minutes` while the service process `pid` is noted every
    10 s: its memory, open files and threads after the first minute and at the end, and the memory's slope."""
    from bench.soak import process_now, slope_per_hour

    stop, lock, done, start = threading.Event(), threading.Lock(), [0], time.monotonic()

    def client(k: int) -> None:
        i = k
        while not stop.is_set():
            name, body = bodies[i % len(bodies)]
            post(url, body, name)
            i += clients
            with lock:
                done[0] += 1

    workers = [threading.Thread(target=client, args=(k,), daemon=True) for k in range(max(1, clients))]
    for w in workers:
        w.start()
    samples = []
    while time.monotonic() - start < minutes * 60:
        time.sleep(10)
        samples.append({"t_s": round(time.monotonic() - start, 1), "requests": done[0], **process_now(pid)})
        if len(samples) % 6 == 0:
            s = samples[-1]
            print(f"{s['t_s'] / 60:6.1f} min  {s['requests']:7} requests  rss {s['rss_mb']:7.1f} MB  fds {s['fds']:4}  "
                  f"threads {s['threads']:3}", flush=True)
    stop.set()
    for w in workers:
        w.join(timeout=120)
    settled = [s for s in samples if s["t_s"] >= 60] or samples
    return {"soak_min": minutes, "soak_requests": done[0], "soak_rss_mb_after_1_min": settled[0]["rss_mb"],
            "soak_rss_mb_end": samples[-1]["rss_mb"], "soak_rss_mb_per_hour": round(slope_per_hour(settled, "rss_mb"), 1),
            "soak_fds_after_1_min": settled[0]["fds"], "soak_fds_end": samples[-1]["fds"],
            "soak_threads_after_1_min": settled[0]["threads"], "soak_threads_end": samples[-1]["threads"],
            "soak_samples": samples}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", type=Path, default=ROOT / "samples/stills/images")
    ap.add_argument("--rounds", type=at_least(1), default=10,
                    help="timed passes over the images, one request at a time")
    ap.add_argument("--clients", type=at_least(1), default=4, help="threads posting at once in the load test")
    ap.add_argument("--json", type=Path, help="write the figures here")
    ap.add_argument("--soak-min", type=float, default=0.0, help="then post for this many minutes, noting the "
                    "service's memory, files and threads (0: no soak)")
    ap.add_argument("overrides", nargs="*", help="config overrides key=value, passed to the service")
    a = ap.parse_args()
    if a.soak_min > 0 and not Path("/proc/self/status").is_file():
        raise SystemExit("error: --soak-min reads /proc (Linux only)")
    files = sorted(p for p in a.images.iterdir() if p.suffix.lower() in IMAGE_EXTS) if a.images.is_dir() else []
    if not files:
        raise SystemExit(f"{a.images}: no images")
    bodies = [(p.name, p.read_bytes()) for p in files]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "YOLO_OFFLINE": "1"}
    log = tempfile.TemporaryFile(mode="w+")
    out_dir = tempfile.TemporaryDirectory()
    keep = ["--out", out_dir.name] if a.soak_min > 0 else []
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.serve", "--port", str(port), *keep, *a.overrides],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    soak: dict = {}
    try:
        try:
            wait_healthy(url, proc)
        except SystemExit:
            log.seek(0)
            sys.stderr.write(log.read()[-3000:])
            raise
        for name, body in bodies:  # warm-up: first calls allocate
            post(url, body, name)
        trip, served, plates = [], [], 0
        for _ in range(max(1, a.rounds)):
            for name, body in bodies:
                ms, answer = post(url, body, name)
                trip.append(ms)
                served.append(float(answer["ms"]))
                plates += len(answer["reads"])
        jobs = [bodies[i % len(bodies)] for i in range(len(trip))]
        lock, waits = threading.Lock(), []

        def one(job: tuple[str, bytes]) -> None:
            ms, _ = post(url, job[1], job[0])
            with lock:
                waits.append(ms)

        start = time.perf_counter()
        with ThreadPoolExecutor(max_workers=max(1, a.clients)) as pool:
            list(pool.map(one, jobs))
        load_s = time.perf_counter() - start
        if a.soak_min > 0:
            soak = soak_service(url, proc.pid, bodies, a.clients, a.soak_min)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        out_dir.cleanup()
    import torch

    out = {"images": str(a.images), "n_images": len(bodies), "requests": len(trip),
           "plates_per_pass": plates // max(1, a.rounds),
           "client_ms_median": round(statistics.median(trip), 1), "client_ms_p90": pct(trip, 90),
           "service_ms_median": round(statistics.median(served), 1), "service_ms_p90": pct(served, 90),
           "clients": a.clients, "photos_per_s_under_load": round(len(jobs) / load_s, 2),
           "client_ms_median_under_load": round(statistics.median(waits), 1),
           "threads": torch.get_num_threads(), "cpu": cpu_name(),
           "overrides": a.overrides, **soak}
    print(f"{len(bodies)} images x {a.rounds} rounds, one request at a time: {out['client_ms_median']} ms per photo "
          f"as the client sees it (p90 {out['client_ms_p90']}), {out['service_ms_median']} ms of it reading "
          f"(p90 {out['service_ms_p90']}); {out['plates_per_pass']} plates read per pass")
    print(f"{a.clients} clients at once: {out['photos_per_s_under_load']} photos/s, each client waiting "
          f"{out['client_ms_median_under_load']} ms (median)")
    if soak:
        print(f"soak: {soak['soak_requests']} requests in {a.soak_min:g} min; the service's memory "
              f"{soak['soak_rss_mb_after_1_min']} MB after a minute, {soak['soak_rss_mb_end']} MB at the end "
              f"({soak['soak_rss_mb_per_hour']} MB/h); open files {soak['soak_fds_after_1_min']} -> "
              f"{soak['soak_fds_end']}, threads {soak['soak_threads_after_1_min']} -> {soak['soak_threads_end']}")
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
