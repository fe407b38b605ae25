"""bench/crop_probe.py: the crop probes' arguments name one model, or several read together."""
import json

from ocr.ensemble import EnsembleRecognizer
from ocr.recognizer import Recognizer
from tests.bench_loader import bench_module

probe = bench_module("crop_probe")


def test_ensemble_argument_gives_a_pair_and_is_recorded(tiny_ckpt, tmp_path, crops):
    ap = probe.parser("A probe.\nmore")
    one = ap.parse_args(["--weights", str(tiny_ckpt)])
    pair = ap.parse_args(["--weights", str(tiny_ckpt), "--ensemble", str(tiny_ckpt),
                          "--json", str(tmp_path / "p.json")])
    rec_one = probe.recognizer(one, device="cpu", backend="torch")
    rec_pair = probe.recognizer(pair, device="cpu", backend="torch")
    assert type(rec_one) is Recognizer and isinstance(rec_pair, EnsembleRecognizer)
    texts = [r.text for r in rec_one(crops)]
    assert probe.seq_acc(rec_pair, crops, texts) == 1.0  # a model with itself reads as it does alone
    probe.write_json(pair, rec_pair, len(crops), "by_x", {"a": 1.0})
    record = json.loads((tmp_path / "p.json").read_text())
    assert record["ensemble"] == [str(tiny_ckpt)] and record["source"] == f"{tiny_ckpt}+{tiny_ckpt}"
    assert record["by_x"] == {"a": 1.0} and record["n"] == len(crops)
    assert one.ensemble == []
