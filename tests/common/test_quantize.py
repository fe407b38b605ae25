"""common/quantize.py on a one-convolution ONNX model: per-channel int8 weights, the activation range its method
calibrates, the source's metadata kept, its folder made, and no part files left when the quantiser fails."""
from pathlib import Path

import numpy as np
import pytest

from common.quantize import graph_ops, quantize_static_int8

onnx = pytest.importorskip("onnx")


def conv_model(path: Path) -> Path:
    """images (B x 3 x 8 x 8) -> a 3x3 convolution to 4 channels, each channel's weights of another size."""
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    w = (rng.normal(size=(4, 3, 3, 3)) * np.array([0.01, 0.1, 1.0, 10.0])[:, None, None, None]).astype(np.float32)
    graph = helper.make_graph([helper.make_node("Conv", ["images", "W"], ["out"])], "conv",
                              [helper.make_tensor_value_info("images", TensorProto.FLOAT, ["B", 3, 8, 8])],
                              [helper.make_tensor_value_info("out", TensorProto.FLOAT, None)],
                              [numpy_helper.from_array(w, "W")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    model.metadata_props.add(key="alphabet", value="0123")
    onnx.save(model, str(path))
    return path


def batches(outlier: float = 1.0) -> list[np.ndarray]:
    """Two batches of values in [0, 1), the first holding one `outlier`."""
    rng = np.random.default_rng(1)
    out = [rng.random((2, 3, 8, 8)).astype(np.float32) for _ in range(2)]
    out[0][0, 0, 0, 0] = outlier
    return out


def scales(path: Path) -> dict[str, np.ndarray]:
    """The scale of each quantised tensor (the weights' `W`, the input's `images`) by the tensor's name."""
    from onnx import numpy_helper

    g = onnx.load(str(path)).graph
    inits = {t.name: numpy_helper.to_array(t) for t in g.initializer}
    out = {}
    for n in g.node:
        if n.op_type == "DequantizeLinear":
            name = n.input[0].removesuffix("_quantized").removesuffix("_QuantizeLinear_Output")
            out[name] = np.atleast_1d(inits[n.input[1]])
    return out


def test_weights_are_int8_per_channel_and_the_sources_metadata_is_kept_in_a_new_folder(tmp_path):
    src = conv_model(tmp_path / "m.onnx")
    out = quantize_static_int8(src, tmp_path / "new" / "dir" / "m_int8.onnx", batches())
    assert "QuantizeLinear" in graph_ops(out)
    s = scales(out)
    assert s["W"].shape == (4,) and s["W"][0] < s["W"][1] < s["W"][2] < s["W"][3]  # one scale per output channel
    assert {p.key: p.value for p in onnx.load(str(out)).metadata_props} == {"alphabet": "0123"}
    assert sorted(p.name for p in out.parent.iterdir()) == ["m_int8.onnx"]  # no part files left


def test_a_model_quantised_in_place_keeps_its_metadata(tmp_path):
    """With the quantiser's own marks beside it (as the shipped exports, re-made in place, were first made)."""
    src = conv_model(tmp_path / "m.onnx")
    assert quantize_static_int8(src, src, batches()) == src and "QuantizeLinear" in graph_ops(src)
    meta = {p.key: p.value for p in onnx.load(str(src)).metadata_props}
    assert meta == {"alphabet": "0123", "onnx.infer": "onnxruntime.quant",
                    "onnx.quant.pre_process": "onnxruntime.quant"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.onnx"]


def test_the_percentile_method_leaves_a_rare_outlier_out_of_the_activation_range(tmp_path):
    src = conv_model(tmp_path / "m.onnx")
    minmax = scales(quantize_static_int8(src, tmp_path / "minmax.onnx", batches(outlier=100.0)))["images"][0]
    pct = scales(quantize_static_int8(src, tmp_path / "pct.onnx", batches(outlier=100.0), method="percentile",
                                      percentile=99.0))["images"][0]
    assert minmax == pytest.approx(100.0 / 255, rel=0.01)  # uint8 activations over 0..100
    assert pct < 1.01 / 255  # the outlier, one value of 768, is left out


def test_a_failed_quantisation_leaves_no_part_files_and_raises_its_own_error(tmp_path):
    (tmp_path / "bad.onnx").write_bytes(b"not a model")
    with pytest.raises(Exception) as exc:
        quantize_static_int8(tmp_path / "bad.onnx", tmp_path / "out.onnx", batches())
    assert not isinstance(exc.value, FileNotFoundError), exc.value  # not the clean-up's, of a part never written
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.onnx"]
