"""ONNX Runtime session options shared by the detector and the recognizer."""
from __future__ import annotations

from typing import Any


def quiet_session_options() -> Any:
    """Options whose threads spin only while a run lasts, then yield the cores: the detector and the OCR run one
    after the other, and a session left spinning takes the cores from the next one (on 2 cores the OCR went
    from 11 to 17 ms per plate behind a spinning detector session)."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.add_session_config_entry("session.force_spinning_stop", "1")
    return opts
