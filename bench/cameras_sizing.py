"""How many cameras a machine reads: the process's memory and each camera's frame rate with 1, 2, 3 ... cameras.

    python bench/cameras_sizing.py [--cameras 1 2 3] [--seconds 40] [--every-s 0.2] [--max-fps N] [--out FILE]

For each count, `run_pipeline.py --sources` (as the cameras' unit runs it, each camera in a thread of its own with its
own models) reads that many local snapshot cameras (bench/service_unit.py's `Camera`: the bundled clip's frames, one
per request, behind a login), each asked for a picture every `--every-s` seconds, for `--seconds`, then SIGTERM;
with `--max-fps`, each camera's frames are processed at most that many a second (`max_fps=`). Printed for each count:
the process's peak resident memory (Linux's `VmHWM`, before the stop), what each extra camera added to it, the CPU
time it took over those seconds (a share of one core: 200 % = both of a 2-core machine's, model loading included), and
each camera's frames read per second and vehicles from its summary.json. The frame rate a camera
gets is its share of the CPU's cores once they are full: on this 2-core machine the detector and the OCR of all the
cameras share two cores. Linux only (/proc).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import argparse
import json
import os
import signal
import subprocess
import tempfile

from common.cli import at_least, positive, prepare_outputs
from common.device import cpu_name
from common.paths import ROOT
from serve_burst import peak_mb
from service_unit import SECRET, Camera


def cpu_s(pid: int) -> float:
    """The CPU seconds process `pid` has taken (user and system, its threads'), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(n: int, seconds: float, every_s: float, max_fps: float = 0.0) -> dict:
    """`n` cameras read for `seconds`: the peak memory, the CPU share, each camera's frames per second and vehicles."""
    cameras = [Camera(ROOT / "samples" / "clip.mp4") for _ in range(n)]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        listed = "".join(f"- source: {c.url}\n  name: cam{i}\n" for i, c in enumerate(cameras))
        (tmp / "cameras.yaml").write_text(listed)
        command = [sys.executable, str(ROOT / "run_pipeline.py"), "--sources", str(tmp / "cameras.yaml"),
                   f"output_dir={tmp / 'out'}", f"snapshot_every_s={every_s}", f"max_fps={max_fps}", "progress=false"]
        env = dict(os.environ, CAM_PASSWORD=SECRET, YOLO_OFFLINE="1")
        with (tmp / "log").open("w") as log:
            proc = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=seconds)  # ended early: a mistake (its exit status and line below)
            peak = cpu = 0.0
        except subprocess.TimeoutExpired:
            peak = peak_mb(proc.pid)  # the kernel's own peak (VmHWM) before the stop
            cpu = cpu_s(proc.pid) / seconds
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=120)
        said = (tmp / "log").read_text().strip().splitlines()
        cams = []
        for i in range(n):
            summary = tmp / "out" / f"cam{i}" / "summary.json"
            s = json.loads(summary.read_text()) if summary.is_file() else {}
            cams.append({"fps": s.get("fps", 0.0), "frames": s.get("frames", 0), "vehicles": s.get("events", 0)})
    for c in cameras:
        c.server.shutdown()
    return {"cameras": n, "peak_rss_mb": peak, "cpu_share": cpu, "each": cams, "exit": proc.returncode,
            "error": said[-1] if proc.returncode not in (0, 130) and said else ""}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cameras", type=at_least(1), nargs="+", default=[1, 2, 3])
    ap.add_argument("--seconds", type=positive, default=40.0)
    ap.add_argument("--every-s", type=positive, default=0.2,
                    help="each camera asked for a picture this often (snapshot_every_s: 0.05 at least)")
    ap.add_argument("--max-fps", type=float, default=0.0, help="max_fps: each camera's frames processed at most this "
                    "many a second (0: as many as the machine keeps up with)")
    ap.add_argument("--out", default="", help="also write the lines to this file")
    a = ap.parse_args()
    prepare_outputs(a.out or None)  # a file it cannot write said before the minutes of measuring, not after
    lines = [f"{cpu_name()}, {os.cpu_count()} cores; each camera asked for a picture every {a.every_s:g} s "
             f"({1 / a.every_s:g} fps offered), {a.seconds:g} s a count"
             + (f", max_fps={a.max_fps:g}" if a.max_fps else "")]
    first = None
    for n in a.cameras:
        r = run(n, a.seconds, a.every_s, a.max_fps)
        first = first if first is not None else (n, r["peak_rss_mb"])
        added = (r["peak_rss_mb"] - first[1]) / (n - first[0]) if n > first[0] else 0.0
        each = ", ".join(f"{c['fps']:.2f} fps {c['vehicles']} vehicles" for c in r["each"])
        lines.append(f"{n} camera{'s' * (n != 1)}: peak {r['peak_rss_mb']:.0f} MB"
                     + (f" (+{added:.0f} MB a camera beyond {first[0]})" if n > first[0] else "")
                     + f"; CPU {100 * r['cpu_share']:.0f} % of a core; each: {each}; exit {r['exit']}"
                     + (f" ({r['error']})" if r["error"] else ""))
        print(lines[-1], flush=True)
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
