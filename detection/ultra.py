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
def yolo_class():
    """The `ultralytics.YOLO` class, imported with the offline and safe-load switches set."""
    for k, v in OFFLINE_ENV.items():
        os.environ.setdefault(k, v)
    from ultralytics import YOLO, settings

    if settings.get("sync", False):
        settings.update({"sync": False})  # no telemetry or crash reports
    return YOLO


@contextmanager
def keep_torch_threads() -> Iterator[None]:
    """Undo ultralytics' `torch.set_num_threads(cpu_count - 1)`, which it calls whenever it picks a CPU device (on
    loading a model and building its predictor): on two cores it would leave every later PyTorch call in the
    process, the OCR's included, on one thread."""
    import torch

    threads = torch.get_num_threads()
    try:
        yield
    finally:
        if torch.get_num_threads() != threads:
            torch.set_num_threads(threads)
