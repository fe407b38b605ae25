"""The pipeline: frames -> detector -> tracker -> recognizer -> fusion -> outputs (`run_pipeline.py`, `pipeline.app`);
`PlateReader` reads the plates of still images from Python, `VehicleReader` the vehicles in frames you supply.
Imported on first use, so that `pipeline.sources` and the other modules load without the models' libraries."""
from __future__ import annotations

from typing import Any

__all__ = ["ImageRead", "PlateReader", "VehicleReader"]


def __getattr__(name: str) -> Any:
    if name == "PlateReader":
        from pipeline.reader import PlateReader

        return PlateReader
    if name == "VehicleReader":
        from pipeline.vehicles import VehicleReader

        return VehicleReader
    if name == "ImageRead":
        from pipeline.orchestrator import ImageRead

        return ImageRead
    raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
