"""Static int8 quantisation of an exported ONNX model (ONNX Runtime's quantiser), shared by both exporters."""
from __future__ import annotations

import contextlib
import io
import logging
from pathlib import Path
from typing import Any, Iterable

import numpy as np

from common.paths import written_whole

QDQ_OPS = ("Conv", "MatMul", "Gemm")


def quantize_static_int8(src: Path, out: Path, batches: Iterable[np.ndarray], input_name: str = "images",
                         ops: tuple[str, ...] = QDQ_OPS, method: str = "minmax", percentile: float = 99.99,
                         reduce_range: bool = True) -> Path:
    """`src` with the weights of `ops` in int8 (per channel) and their activations in uint8, QDQ format, the
    activation ranges calibrated on `batches` by `method`: `minmax`, `percentile` (the range that holds `percentile`
    % of the values, so that a rare outlier no longer coarsens every other value's step) or `entropy`; the model's
    metadata is kept. Each activation's scale is fixed, so one input's output never depends on the others of its
    batch.

    `reduce_range`: weights in 7 bits (-64..64). x86 CPUs without VNNI (AVX2, AVX-512 before VNNI) multiply uint8 by
    int8 with an instruction that adds each pair of products in 16 bits with saturation (255 x 127 x 2 overflows
    it), so a full-range model reads worse there than where it was measured (the OCR's close-ups 96.5 -> 91.2 % on
    an AVX2 EPYC); with 7-bit weights the pair sums fit, and these layers compute the same on every x86 CPU."""
    import onnx
    from onnxruntime.quantization import (CalibrationDataReader, CalibrationMethod, QuantFormat, QuantType,
                                          quantize_static)
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.it = iter({input_name: np.ascontiguousarray(b, np.float32)} for b in batches)

        def get_next(self):  # noqa: ANN202 (ONNX Runtime's interface)
            return next(self.it, None)

    methods = {"minmax": CalibrationMethod.MinMax, "percentile": CalibrationMethod.Percentile,
               "entropy": CalibrationMethod.Entropy}
    out.parent.mkdir(parents=True, exist_ok=True)
    pre, quantized = out.with_name(out.stem + ".pre.onnx"), out.with_name(out.stem + ".quantized.onnx")
    root = logging.getLogger()
    level, root.level = root.level, logging.ERROR  # the quantiser's advice lines
    try:
        with contextlib.redirect_stdout(io.StringIO()):  # the percentile calibrator prints its progress
            quant_pre_process(str(src), str(pre), skip_symbolic_shape=True)
            quantize_static(str(pre), str(quantized), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
                            op_types_to_quantize=list(ops), reduce_range=reduce_range,
                            calibrate_method=methods[method],
                            extra_options={"CalibPercentile": percentile} if method == "percentile" else {})
        proto = onnx.load(str(quantized))
        # the metadata of `src`; for a model quantised in place (`src` is `out`) the quantised model's own, which is
        # what reading `src` gave when `out` was overwritten first (so the shipped exports re-make byte for byte)
        own = proto if src.resolve() == out.resolve() else onnx.load(str(src))
        meta = {p.key: p.value for p in own.metadata_props}
    finally:
        root.setLevel(level)
        pre.unlink(missing_ok=True)
        quantized.unlink(missing_ok=True)
    del proto.metadata_props[:]
    for k, v in meta.items():
        proto.metadata_props.add(key=k, value=v)
    return written_whole(out, lambda part: onnx.save(proto, str(part)))  # `src` may be `out`: replaced only now


def onnx_model(path: Path) -> Any:
    """The ONNX model in the file `path`, its graph and metadata (external tensor data, if any, left unread):
    UserError naming `path` when no graph can be read from it."""
    import onnx

    from common.errors import UserError

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception:
        model = None
    if model is None or not model.graph.node:
        raise UserError(f"{path} is not an ONNX model (no graph could be read from it)")
    return model


def op_types(model: Any) -> set[str]:
    """The operator types of an ONNX model: one quantised by `quantize_static_int8` holds QuantizeLinear; one with
    int8 LSTM weights DynamicQuantizeLSTM."""
    return {n.op_type for n in model.graph.node}


def graph_ops(path: Path) -> set[str]:
    """`op_types` of the file `path`, which must hold an ONNX model (`onnx_model`'s UserError when it does not)."""
    return op_types(onnx_model(path))
