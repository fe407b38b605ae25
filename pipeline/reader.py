"""Licence plates in still images from Python, as `run_pipeline.py` reads photos: the configured detector (for stills:
tiles, the zoomed-out look), plates cut as configured, the OCR, fusion's `min_chars` / `min_conf` as the floor.

    from pipeline import PlateReader
    reader = PlateReader.from_configs()                  # configs/*.yaml and the shipped weights
    for plate in reader("car.jpg"):                      # or a BGR numpy image, or a PIL image
        print(plate.text, plate.confidence, plate.box)   # ImageRead: box (x1, y1, x2, y2), text, confidence

`PlateReader.from_configs(rgb=True)` takes arrays as RGB (or RGBA), as PIL, imageio and picamera2 give them;
`from_configs(["rotate=180"])` turns each image first, as `run_pipeline.py` does (a camera mounted upside down).
"""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from common.paths import ROOT
from ocr.process import as_bgr, read_bgr, turn
from pipeline.crops import CropSpec
from pipeline.orchestrator import ImageRead, read_image


class PlateReader:
    """`PlateReader(detector, recognizer)(image) -> list[ImageRead]`: every plate of one still image, read. Safe to
    call from several threads (a web app's): the calls take turns, since an ultralytics model must not run in two
    threads at once."""

    def __init__(self, detector: Any, recognizer: Any, crops: CropSpec = CropSpec(), min_chars: int = 0,
                 min_conf: float = 0.0, rotate: int = 0, rgb: bool = False) -> None:
        self.detector, self.recognizer, self.crops = detector, recognizer, crops
        self.min_chars, self.min_conf = min_chars, min_conf
        self.rotate, self.rgb = rotate, rgb  # each image turned clockwise first; arrays' colours taken as RGB(A)
        self._turn = threading.Lock()

    @classmethod
    def from_configs(cls, overrides: list[str] | tuple[str, ...] = (), config_dir: str | Path = ROOT / "configs",
                     rgb: bool = False) -> "PlateReader":
        """Built from the YAML configs in `config_dir` with `key=value` overrides, as `run_pipeline.py` builds it
        (`pipeline.app.still_reader`), `rotate` included; `rgb`: arrays given are RGB or RGBA, not BGR."""
        from pipeline.app import still_reader
        from pipeline.settings import load_configs, override_list

        cfgs = load_configs(config_dir, override_list(overrides))
        return still_reader(cfgs, rotate=cfgs.pipeline.rotate, rgb=rgb)

    def __call__(self, image: Any) -> list[ImageRead]:
        """The plates of `image` (a BGR array, a PIL image, or an image file's path; one that cannot be read is a
        UserError)."""
        image = turn(read_bgr(image) if isinstance(image, (str, Path)) else as_bgr(image, rgb=self.rgb), self.rotate)
        with self._turn:
            return read_image(image, self.detector, self.recognizer, self.crops, self.min_chars, self.min_conf)
