"""The systemd units and examples in deploy/: valid for systemd, their restart policy the exit statuses the plate
reader gives, their cameras file read with the secrets of their environment file."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from common.cli import run_main
from common.errors import UserError
from pipeline.source_list import read_source_list
from tests.bench_loader import bench_module

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
UNITS = sorted(DEPLOY.glob("*.service"))
service_unit = bench_module("service_unit")  # how it reads a unit's [Service] keys and an environment file


def test_there_is_a_unit_for_the_cameras_and_one_for_the_http_service():
    assert [u.name for u in UNITS] == ["plate-reader-serve.service", "plate-reader.service"]


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_systemd_finds_nothing_wrong_in_a_unit(unit, tmp_path):
    """`systemd-analyze verify` (a misspelt key, a command that is not there), with the project's paths moved to this
    checkout and its venv, as an install has them."""
    moved = unit.read_text().replace("/opt/plate-reader/.venv/bin/", str(Path(sys.executable).parent) + "/")
    (tmp_path / unit.name).write_text(moved.replace("/opt/plate-reader", str(ROOT)))
    done = subprocess.run(["systemd-analyze", "verify", str(tmp_path / unit.name)], capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_a_mistake_in_the_settings_is_not_restarted_and_a_crash_is(unit):
    """A mistake (one `error: ...` line) ends the plate reader with status 2: restarting it every 10 s would fill the
    journal with the same line; anything else that ends it with a failure is restarted."""
    def mistake():
        raise UserError("config key 'detector.conf': 3 is out of range (0 to 1)")

    def stopped():
        raise KeyboardInterrupt  # SIGTERM, as run_main takes it

    keys = service_unit.unit_service(unit)
    assert keys["Restart"] == "on-failure" and keys["RestartPreventExitStatus"] == str(run_main(mistake))
    assert keys["SuccessExitStatus"] == str(run_main(stopped, on_interrupt="stopped"))  # `systemctl stop` no failure
    assert keys["EnvironmentFile"] == "/etc/plate-reader/plate-reader.env"
    assert keys["ExecStart"].split()[0] in (f"/opt/plate-reader/.venv/bin/{name}" for name in (
        "plate-reader", "plate-serve"))  # the project's console scripts (pyproject.toml)
    assert keys["ExecStart"].split()[0].rsplit("/", 1)[1] in (ROOT / "pyproject.toml").read_text()


@pytest.mark.parametrize("unit", UNITS, ids=lambda u: u.name)
def test_a_unit_waits_for_ready_and_restarts_a_hang_but_not_a_long_wait(unit):
    """Both commands tell systemd they are ready (`pipeline.runner.run_all`, `pipeline/serve.py`) and alive while their
    work goes on (common/liveness.py); the watchdog's period is longer than a camera's open or read may block
    without a sign of progress (its timeouts), twice over."""
    from pipeline.config import PipelineConfig

    keys, p = service_unit.unit_service(unit), PipelineConfig()
    assert keys["Type"] == "notify" and "NotifyAccess" not in keys  # the main process tells (its threads too)
    assert float(keys["WatchdogSec"]) >= 2 * max(p.open_timeout_s, p.read_timeout_s, p.stall_timeout_s)


def test_the_example_cameras_are_read_with_the_passwords_of_the_environment_file(monkeypatch):
    secrets = service_unit.env_file(DEPLOY / "plate-reader.env")
    named = set(re.findall(r"(?<!\$)\$\{(\w+)", "".join(p.read_text() for p in DEPLOY.iterdir())))
    assert named <= set(secrets) and "PLATE_SERVE_TOKEN" in secrets  # the service's token (pipeline/serve.py)
    for name, value in secrets.items():
        monkeypatch.setenv(name, value)
    cameras = read_source_list(DEPLOY / "cameras.yaml")
    assert [c.name for c in cameras] == ["gate-in", "gate-out"]
    assert all(c.spec.startswith(f"rtsp://admin:{secrets['CAM_PASSWORD']}@") for c in cameras)
    monkeypatch.delenv("CAM_PASSWORD")
    with pytest.raises(UserError, match="environment variable CAM_PASSWORD is not set"):
        read_source_list(DEPLOY / "cameras.yaml")
