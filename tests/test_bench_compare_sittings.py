"""bench/compare_sittings.py: two sittings' figures compared, times and speeds left out."""
import json

import pytest

from common.errors import UserError
from tests.bench_loader import bench_module

cs = bench_module("compare_sittings")


def test_timing_keys_are_left_out_and_figures_are_not():
    for key in ("ms_per_plate", "fps", "stage_ms/detect", "samples_per_s", "batch32_ms_per_plate",
                "conv_gmac_per_s", "whole model, compiled int8/ms", "photos_per_s_under_load"):
        assert cs.is_timing(key), key
    for key in ("seq_acc", "read_acc_by_plate_width/60-120px/read_acc", "misread_events", "n_plates", "ap50",
                "seq_acc_o0", "samples", "per_sample", "pers"):
        assert not cs.is_timing(key), key


def test_a_speeds_spread_beside_it_is_left_out_and_a_min_elsewhere_is_not():
    figs = {"width x0.5 fp32/samples_per_s": 35.3, "width x0.5 fp32/min": 34.2, "width x0.5 fp32/max": 35.6,
            "ms_per_plate": 4.0, "max": 5.0, "conf/min": 0.1, "conf/mean": 0.5}
    assert cs.timing_keys(figs) == {"width x0.5 fp32/samples_per_s", "width x0.5 fp32/min", "width x0.5 fp32/max",
                                    "ms_per_plate", "max"}


def test_differences_listed_by_file_and_key(tmp_path, capsys):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "ocr.json").write_text(json.dumps({"n": 29, "seq_acc": 0.9655, "ms_per_plate": 11.2, "conf": 0.7431113}))
    (b / "ocr.json").write_text(json.dumps({"n": 29, "seq_acc": 0.9310, "ms_per_plate": 26.6, "conf": 0.7431109}))
    (a / "clip.json").write_text(json.dumps({"events": [1, 2, 3], "by": {"x": 1.0}, "fps": 60}))
    (b / "clip.json").write_text(json.dumps({"events": [1, 2, 3], "by": {"x": 1.0, "y": 2.0}, "fps": 20}))
    (a / "only_a.json").write_text("{}")
    (a / "train.json").write_text(json.dumps({"w": {"samples_per_s": 35.3, "min": 34.2, "max": 35.6}}))
    (b / "train.json").write_text(json.dumps({"w": {"samples_per_s": 22.2, "min": 21.5, "max": 22.8}}))
    diffs, only, n_files, n = cs.compare(a, b)
    assert diffs[0][:2] == ("clip.json", "by/y") and diffs[1][:2] == ("ocr.json", "seq_acc")
    # ms, fps and a speed's spread not compared, by/y (in b only) not counted as a shared figure, conf within the
    # float tolerance
    assert len(diffs) == 2 and only == ["only_a.json"] and n_files == 3 and n == 5
    assert cs.main([str(a), str(b)]) == 0
    out = capsys.readouterr().out
    assert "  seq_acc: 0.9655 -> 0.931\n" in out
    assert "  by/y: nan -> 2\n" in out
    assert out.endswith("3 files, 5 figures in both (times left out): 4 the same, 1 differ; 1 figures in one sitting "
                        "only\n")


def test_folders_without_shared_results_are_an_error(tmp_path):
    (tmp_path / "a").mkdir()
    with pytest.raises(UserError, match="no such folder"):
        cs.compare(tmp_path / "a", tmp_path / "missing")
    (tmp_path / "b").mkdir()
    with pytest.raises(UserError, match="share no .json"):
        cs.compare(tmp_path / "a", tmp_path / "b")
