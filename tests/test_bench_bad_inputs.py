"""The bench scripts given a video or a stills folder they cannot read, or an argument that cannot be: one error line
naming it, exit 2."""
import sys

import pytest

from common.cli import run_main
from tests.bench_loader import bench_module


@pytest.mark.parametrize("script, argv, line", [
    ("plate_sizes", ["--video", "{tmp}/none.mp4"], "error: video not found: {tmp}/none.mp4"),
    ("plate_sizes", ["--video", "{tmp}/notes.txt"],
     "error: cannot open video (corrupt or unsupported): {tmp}/notes.txt"),
    ("plate_sizes", ["bogus=1"], "error: override 'bogus=1': unknown key 'bogus'"),
    ("video_containers", ["--video", "{tmp}/none.mp4"], "error: video not found: {tmp}/none.mp4"),
    ("turned_stills", ["--stills", "{tmp}"], "error: {tmp}/labels.csv: No such file or directory"),
    ("cameras_sizing", ["--out", "{tmp}/notes.txt/lines.txt"], "error: {tmp}/notes.txt: "),
])
def test_a_bad_input_is_one_line_naming_it(script, argv, line, tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("not a video\n")
    monkeypatch.setattr(sys, "argv", [script, *(a.format(tmp=tmp_path) for a in argv)])
    assert run_main(bench_module(script).main) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line.format(tmp=tmp_path)), lines


@pytest.mark.parametrize("script, argv, message", [
    ("cameras_sizing", ["--cameras", "0"], "argument --cameras: 0 is below 1"),
    ("cameras_sizing", ["--seconds", "-1"], "argument --seconds: -1 is not above 0"),
    ("video_containers", ["--frames", "0"], "argument --frames: 0 is below 1"),
    ("video_window", ["--size", "0x0"], "argument --size: '0x0': each number must be at least 1"),
    ("still_memory", ["--size", "0"], "argument --size: expected two whole numbers as AxB, got '0'"),
    ("retention_memory", ["--events", "-5"], "argument --events: -5 is below 1"),
    ("watchlist_speed", ["--plates", "0"], "argument --plates: 0 is below 1"),
    ("serve_latency", ["--rounds", "0"], "argument --rounds: 0 is below 1"),
    ("serve_burst", ["--mb", "0"], "argument --mb: 0 is not above 0"),
])
def test_a_count_or_size_that_cannot_be_is_argparse_one_line(script, argv, message, monkeypatch, capsys):
    monkeypatch.setattr(sys, "argv", [script, *argv])
    with pytest.raises(SystemExit) as exc:
        bench_module(script).main()
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"error: {message}")


def test_source_fuzz_answers_help_and_refuses_an_unknown_argument_without_fuzzing(monkeypatch, capsys):
    module = bench_module("source_fuzz")
    monkeypatch.setattr(module, "SourceDataset", None)  # building a source now would fail
    for argv, status in ((["--help"], 0), (["--sources", "5"], 2)):
        monkeypatch.setattr(sys, "argv", ["source_fuzz", *argv])
        with pytest.raises(SystemExit) as exc:
            module.main()
        assert exc.value.code == status
    out, err = capsys.readouterr()
    assert out.startswith("usage: source_fuzz [-h]") and "Every key of an OCR data source" in out
    assert err.strip().splitlines()[-1] == "source_fuzz: error: unrecognized arguments: --sources 5"
