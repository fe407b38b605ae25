"""The camera unit (deploy/plate-reader.service) run as systemd runs it, against a local snapshot camera.

    python bench/service_unit.py [--seconds 40] [--user plate-reader] [--watchdog-s 6] [--out FILE]

The unit's own ExecStart, EnvironmentFile, WorkingDirectory and Environment are read from the file, with its paths
moved into a temporary folder (/opt/plate-reader: this checkout, its venv: the one running this script; /etc and
/var/lib/plate-reader: folders of their own). Its cameras file lists one camera, `http://admin:${CAM_PASSWORD}@...`, a
local server that answers the bundled clip's frames one per request, only to the login the environment file gives
(Basic). The command runs for `--seconds`, then gets SIGTERM as `systemctl stop` sends it; printed: the exit status
and how long it took to end, the events written, the camera's refused and answered requests, and whether the password
appears in anything the run wrote or logged. As systemd does for a `Type=notify` unit with `WatchdogSec=`, a socket
listens for what the command tells ($NOTIFY_SOCKET: READY=1, STATUS=, WATCHDOG=1, STOPPING=1) and $WATCHDOG_USEC gives
the watchdog's period (`--watchdog-s`, shorter than the unit's so that a run is short); printed: when it was told
ready, its status lines, its pings, first while the camera is still down (503 for two periods: a camera booting after
the server, waited for), then while it answers; then the camera hangs (its answers held for two periods: a camera's
fault, after which the service should go on pinging) and the process is stopped (SIGSTOP for a period and a half: a
hang, during which systemd hears no ping and would restart it), then continued. Then the same unit with a cameras file
naming a variable the environment file lacks: its exit status, against the unit's RestartPreventExitStatus. With
`--user` (as root) the command runs as that user (setpriv), with the folders given to it, as `User=` does. `--unit
serve`: the HTTP service's unit (deploy/plate-reader-serve.service) on a free port, sent a bundled still without and
with the environment file's token, then stopped.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import base64
import configparser
import contextlib
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import cv2

from common.paths import ROOT

UNIT = ROOT / "deploy" / "plate-reader.service"
SECRET = "bench-s3cret"


def unit_service(path: Path) -> dict[str, str]:
    """The [Service] keys of a unit file (a key given twice: the last)."""
    parser = configparser.ConfigParser(strict=False, interpolation=None, comment_prefixes=("#", ";"))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd's keys are case-sensitive
    parser.read_string(path.read_text())
    return dict(parser["Service"])


def env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as systemd's EnvironmentFile= reads them (comments and blank lines left out)."""
    pairs = (ln.split("=", 1) for ln in path.read_text().splitlines() if "=" in ln and not ln.lstrip().startswith("#"))
    return {k.strip(): v.strip() for k, v in pairs}


class Camera:
    """A snapshot camera on 127.0.0.1 answering the clip's frames in turn, to `admin:SECRET` only."""

    def __init__(self, clip: Path) -> None:
        cap, self.frames = cv2.VideoCapture(str(clip)), []
        ok, frame = cap.read()
        while ok:
            self.frames.append(cv2.imencode(".jpg", frame)[1].tobytes())
            ok, frame = cap.read()
        self.asked, self.refused, self.answered = 0, 0, 0
        self.hang_until = 0.0  # its answers held until then (a camera that hangs)
        self.down_until = 0.0  # 503 answered until then (a camera still booting)
        want = "Basic " + base64.b64encode(f"admin:{SECRET}".encode()).decode()
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                camera.asked += 1
                time.sleep(max(0.0, camera.hang_until - time.monotonic()))
                if time.monotonic() < camera.down_until:
                    self.send_error(503)
                    return
                if self.headers.get("Authorization") != want:
                    camera.refused += 1
                    self.send_response(401)
                    self.send_header("WWW-Authenticate", 'Basic realm="camera"')
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                body = camera.frames[camera.answered % len(camera.frames)]
                camera.answered += 1
                self.send_response(200)
                self.send_header("Content-Type", "image/jpeg")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                with contextlib.suppress(ConnectionError):  # a client that gave up waiting (a hung camera's)
                    self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://admin:${{CAM_PASSWORD}}@127.0.0.1:{self.server.server_address[1]}/snapshot.jpg"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


class Systemd:
    """The socket systemd listens on for a `Type=notify` unit's messages (sd_notify), each kept with its time."""

    def __init__(self, path: Path) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(path))
        os.chmod(path, 0o777)  # the unit's user may write to it
        self.path, self.told, self.t0 = path, [], time.monotonic()
        self.sock.settimeout(0.2)
        self.open = True
        threading.Thread(target=self._listen, daemon=True).start()

    def _listen(self) -> None:
        while self.open:
            try:
                message = self.sock.recv(4096).decode()
            except TimeoutError:
                continue
            except OSError:
                return
            self.told.append((time.monotonic() - self.t0, message))  # when it came, not when it was waited for

    def wait_for(self, message: str, timeout: float = 120.0) -> float | None:
        """Seconds from the start until `message` was told (waiting up to `timeout`), None if it was not."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            when = next((t for t, m in self.told if m == message), None)
            if when is not None:
                return when
            time.sleep(0.05)
        return None

    def pings(self, start: float, end: float) -> list[float]:
        return [t for t, m in self.told if m == "WATCHDOG=1" and start <= t < end]

    def close(self) -> None:
        self.open = False
        self.sock.close()


def gaps(times: list[float]) -> str:
    between = [b - a for a, b in zip(times, times[1:])]
    return f"{len(times)} pings, longest gap {max(between):.1f} s" if between else f"{len(times)} pings"


def prepared(unit: Path, tmp: Path, camera_url: str, user: str) -> tuple[list[str], dict[str, str], Path,
                                                                         dict[str, str]]:
    """The unit's command, environment and working folder with its paths moved under `tmp`; its [Service] keys."""
    service = unit_service(unit)
    moved = {"/opt/plate-reader/.venv/bin/": str(Path(sys.executable).parent) + "/", "/opt/plate-reader": str(ROOT),
             "/etc/plate-reader": str(tmp / "etc"), "/var/lib/plate-reader": str(tmp / "var")}

    def move(text: str) -> str:
        for old, new in moved.items():
            text = text.replace(old, new)
        return text

    (tmp / "etc").mkdir()
    (tmp / "var").mkdir()
    secrets = (ROOT / "deploy" / "plate-reader.env").read_text().replace("CAM_PASSWORD=change-me",
                                                                           f"CAM_PASSWORD={SECRET}")
    (tmp / "etc" / "plate-reader.env").write_text(secrets)
    (tmp / "etc" / "cameras.yaml").write_text(f"- source: {camera_url}\n  name: gate-in\n")
    env = {k: v for k, v in os.environ.items() if k not in ("CAM_PASSWORD", "HOOK_TOKEN", "PLATE_SERVE_TOKEN")}
    env.update(env_file(Path(move(service["EnvironmentFile"].lstrip("-")))))
    env.update(dict(x.split("=", 1) for x in shlex.split(move(service.get("Environment", "")))))
    command = shlex.split(move(service["ExecStart"]))
    if user:
        shutil.chown(tmp / "var", user)
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--init-groups", "--"] + command
    return command, env, Path(move(service["WorkingDirectory"])), service


def stopped(proc: subprocess.Popen) -> tuple[int, float]:
    """SIGTERM sent as `systemctl stop` sends it: the exit status, and the seconds the process took to end."""
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    return proc.wait(timeout=60), time.monotonic() - t0


def run(seconds: float, user: str, watchdog_s: float) -> list[str]:
    lines = []
    camera = Camera(ROOT / "samples" / "clip.mp4")
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.chmod(tmp, 0o755)
        command, env, cwd, service = prepared(UNIT, tmp, camera.url, user)
        command += ["snapshot_every_s=0.2", "progress=false"]  # the clip's frames faster than a real camera's 1 s
        lines.append(f"unit {UNIT.relative_to(ROOT)}; command: {' '.join(command)}")
        systemd = Systemd(tmp / "notify")
        env.update(NOTIFY_SOCKET=str(systemd.path), WATCHDOG_USEC=str(int(watchdog_s * 1e6)))
        log = tmp / "journal.txt"
        camera.down_until = time.monotonic() + 2 * watchdog_s  # still booting as the service starts
        with log.open("w") as journal:
            proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=journal,
                                    stderr=subprocess.STDOUT)
            systemd.t0 = time.monotonic()
            up = camera.down_until - systemd.t0
            ready = systemd.wait_for("READY=1", seconds)
            time.sleep(max(0.0, seconds - (time.monotonic() - systemd.t0)))
            hang = time.monotonic() - systemd.t0
            camera.hang_until = time.monotonic() + 2 * watchdog_s
            time.sleep(2 * watchdog_s + 2)
            frozen = time.monotonic() - systemd.t0
            proc.send_signal(signal.SIGSTOP)
            time.sleep(1.5 * watchdog_s)
            proc.send_signal(signal.SIGCONT)
            thawed = time.monotonic() - systemd.t0
            time.sleep(watchdog_s)
            end = time.monotonic() - systemd.t0
            status, took = stopped(proc)
        time.sleep(0.5)
        systemd.close()
        out = cwd / "runs" / "pipeline" / "gate-in"
        events = [json.loads(x) for x in (out / "events.jsonl").read_text().splitlines()] if (
            out / "events.jsonl").is_file() else []
        leaked = [str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file() and p.suffix != ".env"
                  and SECRET.encode() in p.read_bytes()]
        lines.append(f"after {seconds:g} s, SIGTERM: exit status {status} in {took:.2f} s "
                     f"(TimeoutStopSec={service.get('TimeoutStopSec')})")
        lines.append(f"camera: {camera.asked} requests, {camera.refused} refused (no login), {camera.answered} frames "
                     f"answered")
        lines.append(f"events: {len(events)} ({', '.join(e.get('text', '?') for e in events)})")
        lines.append(f"password in files the run wrote or its journal: {leaked or 'none'}")
        lines.append(f"Type={service.get('Type')}, WatchdogSec={service.get('WatchdogSec')} (run with "
                     f"WATCHDOG_USEC for {watchdog_s:g} s): READY=1 "
                     + (f"{ready:.1f} s after the start" if ready is not None else "never told"))
        statuses = [m for _, m in systemd.told if m.startswith("STATUS=")]
        lines.append(f"status lines: {' | '.join(statuses) or 'none'}")
        lines.append(f"the camera down (503) until {up:.0f} s, waited for: {gaps(systemd.pings(ready or 0, up))}")
        lines.append(f"running, {hang - up:.0f} s from then: {gaps(systemd.pings(up, hang))}")
        lines.append(f"the camera's answers held for {2 * watchdog_s:g} s: {gaps(systemd.pings(hang, frozen))}")
        lines.append(f"the process stopped (SIGSTOP) for {1.5 * watchdog_s:g} s: "
                     f"{len(systemd.pings(frozen + 0.5, thawed))} pings (systemd restarts it {watchdog_s:g} s after "
                     f"the last, at {max(systemd.pings(0, thawed), default=0):.1f} s)")
        lines.append(f"continued (SIGCONT): {gaps(systemd.pings(thawed, end))}")
        lines.append(f"STOPPING=1 told at SIGTERM: {any(m == 'STOPPING=1' for _, m in systemd.told)}")
        journal_lines = log.read_text().strip().splitlines()
        lines.append("journal, the watchdog's lines: " + (" | ".join(x for x in journal_lines if "stuck" in x or
                                                                    "no progress" in x) or "none"))
        lines.append("journal, the camera's outages: " + (" | ".join(
            x for x in journal_lines if "not opened" in x or ": stream " in x) or "none"))
        lines.append("journal: " + " | ".join(journal_lines[-3:]))
        (tmp / "etc" / "cameras.yaml").write_text("- source: http://admin:${CAM_PASSWORDS}@127.0.0.1:9/x.jpg\n")
        done = subprocess.run(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=300)
        lines.append(f"a cameras file naming an unset variable: exit status {done.returncode} "
                     f"(RestartPreventExitStatus={service.get('RestartPreventExitStatus')}): {done.stderr.strip()}")
    camera.server.shutdown()
    return lines


def serve(user: str, watchdog_s: float) -> list[str]:
    """The HTTP service's unit: started with a socket listening as systemd listens for a `Type=notify` unit's
    READY=1, asked for /health once told, sent a bundled still without and with the environment file's token, then
    stopped with SIGTERM."""
    unit = ROOT / "deploy" / "plate-reader-serve.service"
    lines, still = [], sorted((ROOT / "samples" / "stills" / "images").glob("*.jpg"))[0].read_bytes()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        os.chmod(tmp, 0o755)
        command, env, cwd, service = prepared(unit, tmp, "", user)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        command = [str(port) if x == "8080" else x for x in command]
        lines.append(f"unit {unit.relative_to(ROOT)}; command: {' '.join(command)}")
        systemd = Systemd(tmp / "notify")  # as systemd listens for a Type=notify unit
        env.update(NOTIFY_SOCKET=str(systemd.path), WATCHDOG_USEC=str(int(watchdog_s * 1e6)))
        proc = subprocess.Popen(command, cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.PIPE, text=True)
        systemd.t0, base = time.monotonic(), f"http://127.0.0.1:{port}"
        ready = systemd.wait_for("READY=1")
        told = "READY=1" if ready is not None else "nothing"
        ready = ready or 0.0
        try:
            urllib.request.urlopen(f"{base}/health", timeout=5).read()
            health = "answered at once"
        except OSError as exc:
            health = f"not answered ({exc})"
        lines.append(f"Type={service.get('Type')}: told systemd {told} {ready:.1f} s after the start; /health then "
                     f"{health}")
        for token in ("", env["PLATE_SERVE_TOKEN"]):
            req = urllib.request.Request(f"{base}/read?name=still.jpg", data=still, method="POST",
                                         headers={"Authorization": f"Bearer {token}"} if token else {})
            try:
                with urllib.request.urlopen(req, timeout=60) as answer:
                    reads = [r["text"] for r in json.loads(answer.read())["reads"]]
                    lines.append(f"POST /read {'with' if token else 'without'} the token: {answer.status}, {reads}")
            except urllib.error.HTTPError as exc:
                lines.append(f"POST /read {'with' if token else 'without'} the token: {exc.code}")
        kept = cwd / "serve" / "reads.jsonl"
        count = len(kept.read_text().splitlines()) if kept.is_file() else 0
        lines.append(f"reads kept in {kept.relative_to(tmp)}: {count}")
        time.sleep(watchdog_s)
        waited = time.monotonic() - systemd.t0
        lines.append(f"WatchdogSec={service.get('WatchdogSec')} (run with WATCHDOG_USEC for {watchdog_s:g} s), from "
                     f"READY=1 to {waited:.0f} s: {gaps(systemd.pings(ready, waited))}; status lines: "
                     + " | ".join(m for _, m in systemd.told if m.startswith("STATUS=")))
        status, took = stopped(proc)
        systemd.close()
        lines.append(f"SIGTERM: exit status {status} (SuccessExitStatus={service.get('SuccessExitStatus')}) in "
                     f"{took:.2f} s; stderr's last line: "
                     f"{(proc.stderr.read().strip().splitlines() or [''])[-1] if proc.stderr else ''}")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--user", default="", help="run as this user (needs root and setpriv)")
    ap.add_argument("--unit", choices=["cameras", "serve"], default="cameras",
                    help="the cameras' unit (plate-reader.service) or the HTTP service's (plate-reader-serve.service)")
    ap.add_argument("--watchdog-s", type=float, default=6.0,
                    help="the watchdog's period the command is given (the unit's WatchdogSec=, shortened)")
    ap.add_argument("--out", default="", help="also write the lines to this file")
    a = ap.parse_args()
    lines = run(a.seconds, a.user, a.watchdog_s) if a.unit == "cameras" else serve(a.user, a.watchdog_s)
    print("\n".join(lines))
    if a.out:
        Path(a.out).write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
