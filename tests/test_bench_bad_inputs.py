"""The bench scripts that read a video or a stills folder given to them: one error line naming it, exit 2."""
import sys

import pytest

from common.cli import run_main
from tests.bench_loader import bench_module


@pytest.mark.parametrize("script, argv, line", [
    ("plate_sizes", ["--video", "{tmp}/none.mp4"], "error: {tmp}/none.mp4: no frame could be read"),
    ("plate_sizes", ["--video", "{tmp}/notes.txt"], "error: {tmp}/notes.txt: no frame could be read"),
    ("plate_sizes", ["bogus=1"], "error: override 'bogus=1': unknown key 'bogus'"),
    ("video_containers", ["--video", "{tmp}/none.mp4"], "error: {tmp}/none.mp4: no frame could be read"),
    ("turned_stills", ["--stills", "{tmp}"], "error: {tmp}/labels.csv: No such file or directory"),
])
def test_a_bad_input_is_one_line_naming_it(script, argv, line, tmp_path, monkeypatch, capsys):
    (tmp_path / "notes.txt").write_text("not a video\n")
    monkeypatch.setattr(sys, "argv", [script, *(a.format(tmp=tmp_path) for a in argv)])
    assert run_main(bench_module(script).main) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(line.format(tmp=tmp_path)), lines
