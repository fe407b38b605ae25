import csv
import json

import cv2
import numpy as np
import pytest

from ocr.evaluate import main as evaluate_main
from ocr.evaluate import report, run_eval
from ocr.metrics import wilson_interval
from ocr.model import ModelConfig
from ocr.recognizer import Recognizer

LATIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
GT = ["AB12", "OO12", "XYZ9", "123"]
PRED = ["AB12", "0012", "XY9", "12"]


def fake_recognizer() -> Recognizer:
    """Reads image i (filled with grey 10*i+5) as PRED[i], with one-hot CTC frames."""
    cfg = ModelConfig(alphabet=LATIN)

    def run(x: np.ndarray) -> np.ndarray:
        out = np.zeros((len(x), 50, len(LATIN) + 1), np.float32)
        out[:, :, -1] = 10.0
        for b, img in enumerate(x):
            i = int(round(((img.mean() + 1) * 255 / 2 - 5) / 10))
            for k, ch in enumerate(PRED[i]):
                out[b, 2 * k + 1, -1], out[b, 2 * k + 1, LATIN.index(ch)] = 0.0, 10.0
        return out

    return Recognizer(cfg, run)


@pytest.fixture
def fixture_set(tmp_path):
    (tmp_path / "images").mkdir()
    with (tmp_path / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "plate_text"])
        for i, text in enumerate(GT):
            cv2.imwrite(str(tmp_path / "images" / f"{i}.png"), np.full((30, 90, 3), 10 * i + 5, np.uint8))
            w.writerow([f"{i}.png", text])
    return tmp_path


def test_exact_numbers(fixture_set):
    res = run_eval(fake_recognizer(), fixture_set)
    assert [r[2] for r in res["rows"]] == PRED
    assert res["n"] == 4
    assert res["seq_acc"] == 0.25
    assert res["seq_acc_o0"] == 0.5
    assert res["char_acc"] == pytest.approx((1 + 0.5 + 0.75 + 2 / 3) / 4)
    assert res["by_length"] == {3: (0, 1), 4: (1, 3)}
    assert res["confusions"] == [(("O", "0"), 2)]
    summary = report(res, fixture_set, None, str(fixture_set), 0).split("All 4 images:")[1].splitlines()
    assert summary[1] == "   Sequence accuracy:          25.00%  (1 of 4; 95 % interval 4.6-69.9%)"


@pytest.mark.parametrize("k, n, low, high", [
    (1, 4, 0.0456, 0.6994),  # the textbook example: p = 0.25 of 4
    (27, 29, 0.7804, 0.9809),  # the held-out Argentinian crops read 27 of 29: 95 % asked is inside
    (0, 4, 0.0, 0.4899), (4, 4, 0.5101, 1.0),  # at the edges the interval stays inside [0, 1], never one point
    (0, 0, 0.0, 1.0),  # no plates: no information
])
def test_wilson_interval(k, n, low, high):
    assert wilson_interval(k, n) == pytest.approx((low, high), abs=1e-4)


def test_cli_json_and_predictions(tiny_ckpt, fixture_set, tmp_path, capsys):
    out, preds = tmp_path / "m.json", tmp_path / "p.csv"
    assert evaluate_main(["--weights", str(tiny_ckpt), "--data", str(fixture_set), "--show", "2",
                          "--json", str(out), "--predictions", str(preds)]) == 0
    m = json.loads(out.read_text())
    assert set(m) == {"n", "seq_acc", "seq_acc_o0", "char_acc", "ms_per_plate"} and m["n"] == 4
    assert all(0.0 <= m[k] <= 1.0 for k in ("seq_acc", "seq_acc_o0", "char_acc")) and m["ms_per_plate"] > 0
    rows = list(csv.DictReader(preds.open()))
    assert [r["plate_text"] for r in rows] == GT and list(rows[0]) == ["image", "plate_text", "pred", "confidence"]
    printed = capsys.readouterr().out
    assert "🔍 CRNN OCR INFERENCE" in printed and "GT: AB12 | Pred:" in printed and "Best accuracy: 50.00%" in printed
    assert "📊 Accuracy: " in printed and "All 4 images:" in printed
    assert f"✅ Model loaded from: {tiny_ckpt}\n   Runs as: {tiny_ckpt} (fp32)\n" in printed  # what its ms came from
    assert evaluate_main(["--weights", str(tiny_ckpt), "--data", str(fixture_set), "--show", "0", "--backend", "onnx",
                          "--precision", "int8"]) == 0
    assert f"   Runs as: {tiny_ckpt} (int8)\n" in capsys.readouterr().out


def test_cli_show_0_prints_only_the_summary(tiny_ckpt, fixture_set, capsys):
    assert evaluate_main(["--weights", str(tiny_ckpt), "--data", str(fixture_set), "--show", "0"]) == 0
    printed = capsys.readouterr().out
    assert "All 4 images:" in printed and "GT: " not in printed and "📊 Accuracy: " not in printed


def test_cli_ensemble_says_what_its_other_models_read(tiny_ckpt, fixture_set, capsys):
    assert evaluate_main(["--weights", str(tiny_ckpt), "--data", str(fixture_set), "--show", "0"]) == 0
    alone = capsys.readouterr().out
    assert "Other models read" not in alone
    for below, share in (("1", "100.0%"), ("0", "0.0%")):  # every crop asked; none (no read is less sure than 0)
        assert evaluate_main(["--weights", str(tiny_ckpt), "--ensemble", str(tiny_ckpt), "--ensemble-below", below,
                              "--data", str(fixture_set), "--show", "0"]) == 0
        printed = capsys.readouterr().out
        assert f"Other models read:          {share} of the crops (--ensemble-below {below})" in printed
        assert printed.split("All 4 images:")[1].splitlines()[1] == alone.split("All 4 images:")[1].splitlines()[1]


def test_cli_a_split_file_alone_reads_the_rows_it_lists(tiny_ckpt, fixture_set, tmp_path, capsys):
    split = tmp_path / "split.csv"
    split.write_text(f"dataset,image\n{fixture_set.name},1.png\n{fixture_set.name},3.png\n")
    base = ["--weights", str(tiny_ckpt), "--data", str(fixture_set), "--show", "0", "--split-file", str(split)]
    for extra, n in (([], 2), (["--split", "holdout"], 2), (["--split", "train"], 2), (["--split", "all"], 4)):
        assert evaluate_main(base + extra) == 0
        assert f"All {n} images:" in capsys.readouterr().out, extra


def test_cli_a_split_without_its_file_is_refused(tiny_ckpt, fixture_set, capsys):
    with pytest.raises(SystemExit) as exc:
        evaluate_main(["--weights", str(tiny_ckpt), "--data", str(fixture_set), "--split", "holdout"])
    assert exc.value.code == 2 and "--split holdout needs --split-file" in capsys.readouterr().err


def test_cli_bad_data(tiny_ckpt, tmp_path):
    assert evaluate_main(["--weights", str(tiny_ckpt), "--data", str(tmp_path / "missing")]) == 2


def test_cli_output_that_cannot_be_written_is_said_before_the_run(tiny_ckpt, fixture_set, tmp_path, capsys):
    (tmp_path / "file").write_text("")
    out = tmp_path / "file" / "r.json"  # under a file: its folder cannot be made
    assert evaluate_main(["--weights", str(tiny_ckpt), "--data", str(fixture_set), "--json", str(out)]) == 2
    said = capsys.readouterr()  # the report goes to stdout, an error line to stderr
    assert said.err.strip().splitlines() == [f"error: {tmp_path / 'file'}: File exists"]
    assert said.out == ""  # said before evaluating: no report


def test_cli_patterns_constrain_the_reads(tiny_ckpt, fixture_set, tmp_path):
    from ocr.decode import matches

    free, fixed = tmp_path / "free.csv", tmp_path / "fixed.csv"
    assert evaluate_main(["--weights", str(tiny_ckpt), "--data", str(fixture_set), "--show", "0",
                          "--decoder", "greedy", "--predictions", str(free)]) == 0
    assert evaluate_main(["--weights", str(tiny_ckpt), "--data", str(fixture_set), "--show", "0",
                          "--patterns", "DD, D", "--predictions", str(fixed)]) == 0
    free_reads = [r["pred"] for r in csv.DictReader(free.open())]
    fixed_reads = [r["pred"] for r in csv.DictReader(fixed.open())]
    assert all(not any(matches(f, p) for p in ("DD", "D")) for f in free_reads)  # the free reads are letters...
    assert all(matches(c, "DD") or matches(c, "D") for c in fixed_reads)  # ...the constrained ones fit a format


def test_the_whole_report_as_the_guide_prints_it(fixture_set):
    res = {**run_eval(fake_recognizer(), fixture_set), "ms_per_plate": 1.234}
    bar = "=" * 70
    assert report(res, fixture_set / "w.pth", 0.97125, "plates/", 3).splitlines() == [
        "=" * 60, "🔍 CRNN OCR INFERENCE", "=" * 60, "", "📦 Loading model...",
        f"✅ Model loaded from: {fixture_set / 'w.pth'}", "   Best accuracy: 97.12%",
        "", "🧪 Testing on 3 images from plates/", bar,
        "✅ GT: AB12 | Pred: AB12", "❌ GT: OO12 | Pred: 0012", "❌ GT: XYZ9 | Pred: XY9",
        bar, "📊 Accuracy: 1/3 = 33.33%",
        "", "All 4 images:",
        "   Sequence accuracy:          25.00%  (1 of 4; 95 % interval 4.6-69.9%)",
        "   Sequence accuracy (O=0):    50.00%",
        "   Character accuracy:         72.92%",
        "   Median ms per plate:        1.23",
        "   By plate length:            3: 0/1, 4: 1/3",
        "   Top confusions (gt->pred):  O->0 x2"]
    perfect = {**res, "confusions": []}
    assert report(perfect, fixture_set, None, "", 0).splitlines()[-1] == "   Top confusions (gt->pred):  none"


def test_ms_per_plate_is_each_batch_s_time_over_its_plates(fixture_set):
    import time

    rec = fake_recognizer()
    run = rec._run

    def slow(x):
        time.sleep(0.05)  # 50 ms a batch of 4: 12.5 ms a plate
        return run(x)

    rec._run = slow
    ms = run_eval(rec, fixture_set, batch=4)["ms_per_plate"]
    assert 12.5 <= ms < 45
