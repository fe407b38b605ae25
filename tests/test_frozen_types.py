"""Result types are frozen (STYLE.md): every dataclass of the packages is, but the few that hold a running
component's state, named here with what they hold."""
import dataclasses
import importlib
import pkgutil
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("common", "ocr", "detection", "pipeline")
SCRIPTS = ("run_pipeline",)  # the entry scripts at the top of the repo
MUTABLE = {
    "pipeline.fusion.TrackState": "one track's reads, best crop and path, grown frame by frame",
    "pipeline.orchestrator.Pipeline": "the injected stages and the run's counters",
    "pipeline.motion.MotionGate": "the last frame the detector saw",
}


def _dataclasses() -> dict[str, type]:
    found = {}
    names = [info.name for package in PACKAGES
             for info in pkgutil.iter_modules([str(ROOT / package)], prefix=f"{package}.")]
    for name in [*names, *SCRIPTS]:
        module = importlib.import_module(name)
        for value in vars(module).values():
            if dataclasses.is_dataclass(value) and isinstance(value, type) and value.__module__ == name:
                found[f"{name}.{value.__name__}"] = value
    return found


def test_every_dataclass_is_frozen_but_the_running_state():
    found = _dataclasses()
    assert len(found) > 30  # the scan reaches every package
    thawed = sorted(name for name, cls in found.items() if not cls.__dataclass_params__.frozen)  # type: ignore
    assert thawed == sorted(MUTABLE)

