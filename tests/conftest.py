"""Shared fixtures: tiny configs and synthetic data made in tmp_path; everything offline on the CPU."""
from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("YOLO_OFFLINE", "1")
SHARED = ROOT.parent / "shared" / "data"


@pytest.fixture(scope="session")
def digits_dir(tmp_path_factory) -> Path:
    """16 synthetic 11-digit plates in the labels.csv layout."""
    from ocr.synth import write_dataset

    out = tmp_path_factory.mktemp("digits")
    write_dataset(out, 16, {"digits11": 1.0}, seed=3)
    return out


@pytest.fixture
def tiny_cfg(digits_dir, tmp_path):
    """A very small CRNN (width x0.125, hidden 16) on the synthetic digits, 1 epoch of 32 samples."""
    from ocr.config import OCRConfig

    return OCRConfig(alphabet="digits", width_mult=0.125, hidden=16, dropout=0.0,
                     train=({"path": str(digits_dir), "augment": "medium"},), val=({"path": str(digits_dir)},),
                     samples_per_epoch=32, epochs=1, batch_size=8, num_workers=0, out_dir=str(tmp_path / "run"),
                     precision="fp32", seed=0)
