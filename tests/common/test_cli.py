import argparse

import pytest

from common.cli import at_least, fraction


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tool")
    ap.add_argument("--n", type=at_least(1), default=1)
    ap.add_argument("--share", type=fraction, default=0.5)
    return ap


def test_counts_and_shares_in_range_parse():
    args = parser().parse_args(["--n", "1", "--share", "1"])
    assert (args.n, args.share) == (1, 1.0)
    assert parser().parse_args(["--share", "0"]).share == 0.0


@pytest.mark.parametrize("argv, message", [
    (["--n", "0"], "argument --n: 0 is below 1"),
    (["--n", "-3"], "argument --n: -3 is below 1"),
    (["--n", "2.5"], "argument --n: '2.5' is not a whole number"),
    (["--share", "3"], "argument --share: 3 is not within 0-1"),
    (["--share", "half"], "argument --share: 'half' is not a number"),
])
def test_out_of_range_is_argparse_one_line_error(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        parser().parse_args(argv)
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"tool: error: {message}"


def test_error_line_names_the_file_of_an_os_error(tmp_path):
    from common.cli import error_line
    from common.errors import UserError

    try:
        open(tmp_path / "missing" / "x.txt", "w")
    except OSError as exc:
        assert error_line(exc) == f"error: {tmp_path / 'missing' / 'x.txt'}: No such file or directory"
    assert error_line(UserError("video not found: a.mp4")) == "error: video not found: a.mp4"
