import json

import numpy as np
import pytest
import torch

from ocr import Recognizer
from ocr.checkpoint import load_checkpoint, model_from_checkpoint
from ocr.export import export_torchscript
from ocr.export import main as export_main
from ocr.process import preprocess_batch


def test_onnx_gives_the_same_strings(tiny_ckpt, crops):
    ref = Recognizer.from_checkpoint(tiny_ckpt)
    assert export_main(["--weights", str(tiny_ckpt), "--format", "onnx"]) == 0
    onnx_rec = Recognizer.from_checkpoint(tiny_ckpt.with_suffix(".onnx"), backend="onnx")
    for batch in (crops[:1], crops):  # dynamic batch size
        a, b = ref.probs(batch), onnx_rec.probs(batch)
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, atol=1e-4)
        assert [r.text for r in ref(batch)] == [r.text for r in onnx_rec(batch)]
    assert any(r.text for r in ref(crops))  # the comparison is not between empty strings
    assert onnx_rec.cfg == ref.cfg


def test_torchscript_gives_the_same_strings(tiny_ckpt, crops, tmp_path):
    model = model_from_checkpoint(load_checkpoint(tiny_ckpt))
    path = export_torchscript(model, tmp_path / "m.pt")
    files = {"model_config.json": ""}
    scripted = torch.jit.load(str(path), _extra_files=files)
    assert json.loads(files["model_config.json"])["alphabet"] == model.cfg.alphabet
    ref = Recognizer.from_checkpoint(tiny_ckpt)
    x = torch.from_numpy(preprocess_batch(crops))
    with torch.no_grad():
        probs = scripted(x).softmax(2).numpy()
    assert [ref.decode(p).text for p in probs] == [r.text for r in ref(crops)]


def test_export_missing_weights(tmp_path):
    assert export_main(["--weights", str(tmp_path / "none.pth")]) == 2
