"""PlateDetector: ultralytics YOLO behind a small interface; frames (BGR numpy) in, Detections out."""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from common.device import resolve_device
from common.errors import UserError
from common.onnx import quiet_session_options
from common.paths import find
from detection.config import DetectorConfig
from detection.detections import Detections
from detection.ultra import ultralytics_threads, yolo_class
from detection.weights import verify


def is_monochrome(frame: np.ndarray) -> bool:
    """A frame whose three channels are equal up to a constant offset (a decoder's YUV->BGR conversion of grey video
    gives one of a few levels): an infrared or monochrome camera. Channel differences of colour frames, even at
    night, vary by 5 or more grey levels on average around their median; of greyscale frames by under 1."""
    if frame.ndim < 3 or frame.shape[2] < 3:
        return True
    s = frame[::8, ::8, :3].astype(np.int16)
    diffs = (s[..., 0] - s[..., 1], s[..., 1] - s[..., 2])
    medians = [float(np.median(d)) for d in diffs]
    spread = sum(float(np.abs(d - m).mean()) for d, m in zip(diffs, medians))
    return spread < 1.5 and max(abs(m) for m in medians) <= 8


def to_detections(result: Any) -> Detections:
    """Map one ultralytics result (anything with .boxes.xyxy and .boxes.conf tensors) to Detections."""
    boxes = result.boxes
    if boxes is None or len(boxes) == 0:
        return Detections()
    xyxy = np.asarray(boxes.xyxy.cpu().numpy(), np.float32).reshape(-1, 4)
    conf = np.asarray(boxes.conf.cpu().numpy(), np.float32).reshape(-1)
    return Detections(xyxy, conf)


def check_weights(cfg: DetectorConfig) -> None:
    """The files `cfg` names (its greyscale detector's too; on the CPU the `.onnx` beside a `.pt` where that is the
    one to run), checked as loading checks them, without loading: UserError naming the file."""
    if not cfg.weights.strip():
        raise UserError("detector.weights is empty: name the detector's .pt or .onnx file")
    device = resolve_device(cfg.device)
    for weights in dict.fromkeys(w for w in (cfg.weights, cfg.gray_weights) if w):
        check_weights_file(cfg, PlateDetector._pick(replace(cfg, weights=weights), device))


def check_weights_file(cfg: DetectorConfig, path: Path) -> None:
    """UserError unless `path` is there, a `.pt` listed in the manifest (when `cfg.verify_sha256`) or an ONNX graph."""
    if not path.is_file():
        raise UserError(f"detector weights not found: {path}")
    if cfg.verify_sha256:  # a .pt must be listed (it is a pickle); a listed .onnx must match
        verify(path, required=path.suffix == ".pt")
    if path.suffix not in (".pt", ".onnx"):
        raise UserError(f"detector weights must be .pt or .onnx, not {path.name}")
    if path.suffix == ".onnx":
        from common.quantize import graph_ops

        graph_ops(path)


class PlateDetector:
    """`detector(frames) -> list[Detections]` (one per frame, one batched call); `detector.detect(frame)`.
    With `cfg.gray_weights`, monochrome frames go to a second detector trained for them (`gray`)."""

    def __init__(self, cfg: DetectorConfig, model: Any | None = None, gray: "PlateDetector | None" = None) -> None:
        self.cfg = cfg
        if gray is None and model is None and cfg.gray_weights and cfg.gray_weights != cfg.weights:
            gray = PlateDetector(replace(cfg, weights=cfg.gray_weights, gray_weights=""))
        self.gray = gray
        self.device = resolve_device(cfg.device)
        self.weights = self._pick(cfg, self.device)
        self.model = model if model is not None else self._load(cfg, self.weights)
        if model is None and self.weights.suffix == ".onnx" and self.device == "cpu":
            self._stop_spinning_after_runs()

    @staticmethod
    def _pick(cfg: DetectorConfig, device: str) -> Path:
        """The file to run: the .pt, or on the CPU its exported .onnx sibling (faster) when allowed."""
        path = find(cfg.weights)
        onnx = path.with_suffix(".onnx")
        if path.suffix == ".pt" and cfg.onnx_on_cpu and device == "cpu" and onnx.is_file():
            return onnx
        return path

    @staticmethod
    def _load(cfg: DetectorConfig, path: Path) -> Any:
        check_weights_file(cfg, path)
        try:
            with ultralytics_threads():
                return yolo_class()(str(path), task="detect")
        except Exception as exc:
            raise UserError(f"cannot load detector {path}: {str(exc).splitlines()[0]}") from None

    def _stop_spinning_after_runs(self) -> None:
        """Rebuild ultralytics' ONNX Runtime session with `quiet_session_options` (its own keeps spinning after a
        run and slows the OCR that runs next)."""
        import onnxruntime as ort

        self._run([np.zeros((64, 64, 3), np.uint8)])  # ultralytics builds its predictor and backend on first use
        backend = getattr(getattr(getattr(self.model, "predictor", None), "model", None), "backend", None)
        if backend is None or not hasattr(backend, "session") or getattr(backend, "use_io_binding", False):
            return  # another ultralytics layout, or a session bound to GPU buffers: keep it (only slower)
        providers = backend.session.get_providers()
        backend.session = ort.InferenceSession(str(self.weights), quiet_session_options(), providers=providers)

    def __call__(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        if len(frames) == 0:
            return []
        mono = [is_monochrome(f) for f in frames] if self.gray is not None else []
        if not any(mono):
            return self._run(frames)
        out: list[Detections] = [Detections()] * len(frames)
        for grey, detector in ((True, self.gray), (False, self._run)):
            idx = [i for i, m in enumerate(mono) if m == grey]
            if idx and detector is not None:  # one batched call per detector
                for i, d in zip(idx, detector([frames[i] for i in idx])):
                    out[i] = d
        return out

    def _run(self, frames: Sequence[np.ndarray]) -> list[Detections]:
        """The model on `frames`, `cfg.batch` at a time: ultralytics predicts a list as one batch, and a 900 MP
        photo's 841 tiles as one took 23 GB."""
        found: list[Detections] = []
        with ultralytics_threads():  # its own thread count, ours restored after
            for i in range(0, len(frames), self.cfg.batch):
                results = self.model.predict(list(frames[i:i + self.cfg.batch]), imgsz=self.cfg.imgsz,
                                             conf=self.cfg.conf, iou=self.cfg.iou, max_det=self.cfg.max_det,
                                             device=self.device, half=self.cfg.half and self.device.startswith("cuda"),
                                             verbose=False)
                found += [to_detections(r).drop_contained(self.cfg.max_overlap) for r in results]
        return found

    def detect(self, frame: np.ndarray) -> Detections:
        return self([frame])[0]
