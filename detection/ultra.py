"""Import ultralytics offline: no downloads, no installs, no telemetry, restricted (weights_only) loading.

Every use of ultralytics in the project goes through `yolo_class()`, which sets ultralytics' own switches
before its first import: YOLO_OFFLINE=1, YOLO_AUTOINSTALL=False, ULTRALYTICS_SAFE_LOAD=1, and `sync=False`.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from functools import lru_cache
from typing import Iterator

OFFLINE_ENV = {"YOLO_OFFLINE": "1", "YOLO_AUTOINSTALL": "False", "ULTRALYTICS_SAFE_LOAD": "1",
               "YOLO_VERBOSE": "False"}


@lru_cache(maxsize=1)
def yolo_class() -> type:
    """The `ultralytics.YOLO` class, imported with the offline and safe-load switches set."""
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
    from ultralytics import YOLO, settings

    if settings.get("sync", False):
        settings.update({"sync": False})  # no telemetry or crash reports
    return YOLO


@contextmanager
def ultralytics_threads() -> Iterator[None]:
    """Run ultralytics' calls at its own torch thread count (cores - 1, which it sets whenever it picks a CPU
    device: its pre- and post-processing beside ONNX Runtime's pool) and give the caller's count back afterwards,
    so that the rest of the process (a PyTorch OCR) keeps every core."""
    import torch

    yolo_class()  # ultralytics imported with its switches set
    from ultralytics.utils import NUM_THREADS

    threads = torch.get_num_threads()
    torch.set_num_threads(NUM_THREADS)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
