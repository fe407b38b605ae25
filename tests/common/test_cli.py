import argparse
from pathlib import Path

import pytest

from common.cli import at_least, fraction, interrupted_line, numbers, port, positive, whole_pair


def parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="tool")
    ap.add_argument("--n", type=at_least(1), default=1)
    ap.add_argument("--share", type=fraction, default=0.5)
    ap.add_argument("--port", type=port, default=8080)
    ap.add_argument("--widths", type=numbers(), default="0.5,1")
    ap.add_argument("--views", type=numbers(int), default=[0])
    ap.add_argument("--seconds", type=positive, default=1.0)
    ap.add_argument("--size", type=whole_pair(), default="1280x720")
    ap.add_argument("--at", type=whole_pair(",", low=0), default=(0, 0))
    return ap


def test_counts_and_shares_in_range_parse():
    args = parser().parse_args(["--n", "1", "--share", "1"])
    assert (args.n, args.share) == (1, 1.0)
    assert parser().parse_args(["--share", "0"]).share == 0.0
    assert [parser().parse_args(["--port", p]).port for p in ("0", "65535")] == [0, 65535]
    args = parser().parse_args(["--views", "0, 3,2"])
    assert (args.widths, args.views) == ([0.5, 1.0], [0, 3, 2])  # a string default parsed as given
    assert parser().parse_args(["--widths", "0.25"]).widths == [0.25]
    args = parser().parse_args(["--seconds", "0.05", "--size", "1X1", "--at", "0,7"])
    assert (args.seconds, args.size, args.at) == (0.05, (1, 1), (0, 7))
    assert parser().parse_args([]).size == (1280, 720)


@pytest.mark.parametrize("argv, message", [
    (["--n", "0"], "argument --n: 0 is below 1"),
    (["--n", "-3"], "argument --n: -3 is below 1"),
    (["--n", "2.5"], "argument --n: '2.5' is not a whole number"),
    (["--share", "3"], "argument --share: 3 is not within 0-1"),
    (["--share", "half"], "argument --share: 'half' is not a number"),
    (["--port", "99999"], "argument --port: 99999 is above 65535, the largest port"),
    (["--port", "-1"], "argument --port: -1 is below 0"),
    (["--widths", "0.5,x"], "argument --widths: 'x' in '0.5,x' is not a number"),
    (["--widths", "0.5,"], "argument --widths: '' in '0.5,' is not a number"),
    (["--views", "1,2.5"], "argument --views: '2.5' in '1,2.5' is not a whole number"),
    (["--seconds", "0"], "argument --seconds: 0 is not above 0"),
    (["--seconds", "soon"], "argument --seconds: 'soon' is not a number"),
    (["--size", "1280x0"], "argument --size: '1280x0': each number must be at least 1"),
    (["--size", "1280"], "argument --size: expected two whole numbers as AxB, got '1280'"),
    (["--size", "1x2x3"], "argument --size: expected two whole numbers as AxB, got '1x2x3'"),
    (["--at", "3,x"], "argument --at: expected two whole numbers as A,B, got '3,x'"),
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
    worker = ("Caught UserError in DataLoader worker process 0.\nOriginal Traceback (most recent call last):\n"
              '  File "/x/ocr/data.py", line 9, in get\n    img = read_bgr(s.path)\n'
              "common.errors.UserError: cannot read image (corrupt or unsupported format): a.png: see row 3\n")
    assert error_line(UserError(worker)) == "error: cannot read image (corrupt or unsupported format): a.png: see row 3"
    head = worker.split("common.errors")[0]
    assert error_line(RuntimeError(head + "MemoryError\n")) == "error: MemoryError"  # a last line with no message
    assert error_line(RuntimeError(head + "the worker said: this\n")) == "error: the worker said: this"  # no `Type: `


def test_a_full_disk_that_names_no_file_is_said_in_words():
    from common.cli import error_line

    assert error_line(OSError(28, "No space left on device")) == (
        "error: no space left on device: a disk this command writes to is full; free some and run it again")
    assert error_line(OSError(28, "No space left on device", "out/e.json")) == (
        "error: out/e.json: No space left on device")
    assert error_line(OSError(5, "Input/output error")) == "error: [Errno 5] Input/output error"  # others as they are


def test_run_main_gives_the_work_status_or_one_error_line_or_130(capsys):
    from common.cli import run_main
    from common.errors import UserError

    said: list[str] = []
    assert run_main(lambda: None, sink=said.append) == 0
    assert run_main(lambda: 1, sink=said.append) == 1

    def bad() -> None:
        raise UserError("label 'AB#1' has '#', not in the alphabet (labels.csv row 3)")

    assert run_main(bad, sink=said.append) == 2  # the report goes to the sink, the error line to stderr
    assert said == [] and capsys.readouterr().err == "error: label 'AB#1' has '#', not in the alphabet (labels.csv row 3)\n"

    def missing() -> None:
        open("/nonexistent/x.mp4")

    assert run_main(missing) == 2
    assert capsys.readouterr().err == "error: /nonexistent/x.mp4: No such file or directory\n"

    def interrupted() -> None:
        raise KeyboardInterrupt

    assert run_main(interrupted, sink=said.append, on_interrupt="interrupted: resume with resume=last.pth") == 130
    assert said[-1] == "interrupted: resume with resume=last.pth\n"
    with pytest.raises(KeyboardInterrupt):  # no way to carry on named: Ctrl-C stays Ctrl-C
        run_main(interrupted, sink=said.append)
    with pytest.raises(ZeroDivisionError):  # a bug is not an expected mistake: its traceback is kept
        run_main(lambda: 1 // 0, sink=said.append)

    def worker_stopped() -> None:  # torch's word, from its SIGCHLD handler, when a stop reached a loader's workers
        raise RuntimeError("DataLoader worker (pid 4242) is killed by signal: Terminated. ")

    assert run_main(worker_stopped, sink=said.append, on_interrupt="interrupted: resume with resume=last.pth") == 130
    assert said[-1] == "interrupted: resume with resume=last.pth\n"
    with pytest.raises(RuntimeError):  # where no way to carry on is named, as Ctrl-C
        run_main(worker_stopped, sink=said.append)

    def worker_crashed() -> None:
        raise RuntimeError("DataLoader worker (pid 4242) is killed by signal: Segmentation fault. ")

    with pytest.raises(RuntimeError):  # a crash is no stop: its traceback is kept
        run_main(worker_crashed, sink=said.append, on_interrupt="interrupted")


class Capture:
    """A camera's capture, a data loader's workers: says in `let_go` when it is finalised."""

    def __init__(self, let_go: list[str]) -> None:
        self.let_go = let_go

    def __del__(self) -> None:
        self.let_go.append("capture")


def raise_holding(error: type[BaseException], message: str, let_go: list[str]) -> None:
    """Raises `error(message)` from a frame that holds a `Capture` and its own error, the two in a cycle (as torch
    re-raises a data worker's error from a local)."""
    held = Capture(let_go)  # noqa: F841 (held by the frame)
    try:
        raise error(message)
    except error as exc:
        raised = exc  # the frame holds its error, the error its frame
        raise raised


@pytest.mark.parametrize("error, status", [(FileNotFoundError, 2), (KeyboardInterrupt, 130)])
def test_what_a_work_held_is_let_go_when_it_ends_on_an_error_or_a_stop(error, status, no_gc_pauses, capsys):
    """A work that ends on an expected error or a stop, its frames in a cycle with the error (torch re-raises a data
    worker's from a local): what they held is let go as the entry point returns, not at a later collection."""
    from common.cli import run_main

    let_go: list[str] = []
    assert run_main(lambda: raise_holding(error, "camera gone", let_go), on_interrupt="stopped") == status
    assert let_go == ["capture"]


def test_what_the_error_behind_an_error_held_is_let_go_too(no_gc_pauses, capsys):
    """The frames of the error a work's error was raised while handling (its context) are cleared too: a reader
    that failed holding its capture, its error told in the entry point's words."""
    from common.cli import run_main

    let_go: list[str] = []

    def work() -> None:
        try:
            raise_holding(OSError, "read failed", let_go)
        except OSError:
            raise FileNotFoundError("camera gone")  # its context: the reader's error

    assert run_main(work) == 2 and let_go == ["capture"]


def test_leave_returns_to_python_and_ends_a_command_lines_process(tmp_path):
    """Called with arguments (from Python) it returns the status; on the command line it ends the process with that
    status, after the log file and stdout have everything written to them."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    from common.cli import leave

    assert leave(3, ["clip.mp4"]) == 3
    log = tmp_path / "run.log"
    code = (f"import sys; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
            "from loguru import logger\n"
            "from common.cli import leave\n"
            f"logger.add({str(log)!r}, format='{{message}}')\n"
            "logger.info('the last event')\n"
            "print('summary', end='')\n"
            "leave(5, None)\n"
            "print('not reached')\n")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}  # stdout buffered, as it usually is
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
    assert run.returncode == 5 and run.stdout == "summary"
    assert log.read_text() == "the last event\n"


@pytest.mark.parametrize("stop", ["SIGTERM", "SIGHUP"])
def test_sigterm_is_taken_as_ctrl_c_where_the_entry_point_says_how_to_carry_on(stop):
    """A job scheduler's or a service manager's stop (SIGTERM), or the terminal or SSH session closed (SIGHUP), ends
    a training run or the service with its `on_interrupt` line and 130, as Ctrl-C does, and the signal's own handling
    is put back afterwards; without `on_interrupt` the signal keeps its default (the process ends at once)."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    if not hasattr(signal, stop):
        pytest.skip(f"no {stop} here")

    def child(on_interrupt: str) -> subprocess.CompletedProcess:
        code = (f"import os, signal, sys, time; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
                f"signal.signal(signal.{stop}, signal.SIG_DFL)\n"  # as a terminal starts it (not under nohup)
                "from common.cli import run_main\n"
                "def work():\n"
                f"    os.kill(os.getpid(), signal.{stop})\n"
                "    time.sleep(30)\n"
                f"status = run_main(work, on_interrupt={on_interrupt})\n"
                f"print(status, signal.getsignal(signal.{stop}) is signal.SIG_DFL)\n")
        return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)

    run = child("'interrupted: resume with resume=last.pth'")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "130 True\n" and run.stderr == "interrupted: resume with resume=last.pth\n"
    run = child("None")
    assert run.returncode == -getattr(signal, stop) and run.stdout == ""


def test_a_run_started_with_nohup_outlives_its_terminal():
    """`nohup python ocr/train.py ... &` (as the guide trains): SIGHUP is ignored, and stays so, rather than taken as a
    stop when the terminal closes."""
    import signal
    import subprocess
    import sys
    from pathlib import Path

    if not hasattr(signal, "SIGHUP"):
        pytest.skip("no SIGHUP here")
    code = (f"import os, signal, sys, time; sys.path.insert(0, {str(Path(__file__).resolve().parents[2])!r})\n"
            "signal.signal(signal.SIGHUP, signal.SIG_IGN)\n"  # what nohup does
            "from common.cli import run_main, stop_signals\n"
            "def work():\n"
            "    os.kill(os.getpid(), signal.SIGHUP)\n"
            "    time.sleep(0.5)\n"
            "    print('still running')\n"
            "status = run_main(work, on_interrupt='interrupted')\n"
            "print(status, signal.getsignal(signal.SIGHUP) is signal.SIG_IGN, stop_signals(signal.SIGINT))\n")
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0 and run.stderr == ""
    assert run.stdout == f"still running\n0 True {[signal.SIGINT]}\n"


def test_a_stopped_run_says_where_to_resume_or_that_nothing_was_saved(tmp_path):
    nothing = "interrupted before a first epoch ended: nothing saved; run the same command again"
    assert interrupted_line(None) == nothing  # its folder not known yet
    assert interrupted_line(tmp_path / "last.pth") == nothing  # no checkpoint written yet
    (tmp_path / "last.pth").write_bytes(b"saved")
    last = tmp_path / "last.pth"
    assert interrupted_line(last, 3) == f"interrupted: epoch 3 is saved; resume with resume={last}"
    assert interrupted_line(last) == f"interrupted: resume with resume={last}"


def test_outputs_are_prepared_before_the_work(tmp_path, monkeypatch):
    import tempfile

    from common.cli import prepare_outputs
    from common.errors import UserError

    report, other = tmp_path / "new" / "deeper" / "report.json", tmp_path / "new" / "b.csv"
    prepare_outputs(None, report, other)  # None: an output not asked for
    assert report.parent.is_dir() and other.parent.is_dir() and not report.exists()
    prepare_outputs(report)  # its folder there already
    with pytest.raises(UserError, match=f"^{tmp_path / 'new'} is a folder: name the file to write$"):
        prepare_outputs(tmp_path / "new")

    def full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(tempfile, "TemporaryFile", full)
    with pytest.raises(UserError, match=f"^cannot write {report}: No space left on device$"):
        prepare_outputs(report)


def test_opencv_s_own_log_lines_are_off_unless_asked_for(monkeypatch):
    import cv2

    from common.cli import setup_logging

    log = cv2.utils.logging
    before = log.getLogLevel()
    try:
        monkeypatch.delenv("OPENCV_LOG_LEVEL", raising=False)
        log.setLogLevel(log.LOG_LEVEL_INFO)
        setup_logging()
        assert log.getLogLevel() == log.LOG_LEVEL_SILENT
        monkeypatch.setenv("OPENCV_LOG_LEVEL", "INFO")  # asked for: left as it is
        log.setLogLevel(log.LOG_LEVEL_INFO)
        setup_logging()
        assert log.getLogLevel() == log.LOG_LEVEL_INFO
    finally:
        log.setLogLevel(before)


def test_progress_in_a_log_is_a_line_a_minute_and_the_last(capsys, monkeypatch):
    from common.cli import progress

    bar = progress(range(3), "Training")
    for i in bar:
        bar.set_postfix(loss=f"{i}", refresh=False)
    first, last = capsys.readouterr().err.splitlines()
    assert first.startswith("Training:   0%|") and " 0/3 [" in first
    assert last.startswith("Training: 100%|") and " 3/3 [" in last and last.endswith("loss=2]")
    ticks = iter(range(0, 1000, 30))  # 30 s a step
    monkeypatch.setattr("tqdm.std.time", lambda: next(ticks))
    list(progress(range(10), "Validation"))
    lines = capsys.readouterr().err.splitlines()
    assert 4 <= len(lines) <= 8 and lines[-1].startswith("Validation: 100%|") and " 10/10 " in lines[-1], lines
    assert len(set(lines)) == len(lines), lines


def test_ultralytics_bars_in_a_log_are_a_line_each_minute_and_their_last(monkeypatch):
    """ultralytics hands each redraw of its bars to the stream's `progress` (its hook for logs): in a log file each bar
    is its first frame, one a minute and its last, as lines; what else is written passes as it is."""
    import io

    from common.cli import LogLines

    now = iter([0.0, 30.0, 61.0, 62.0, 63.0, 64.0, 65.0])
    monkeypatch.setattr("common.cli.time.monotonic", lambda: next(now))
    out = io.StringIO()
    log = LogLines(out)
    log.write("Starting training\n")
    for done in ("0% 0/9", "33% 3/9", "66% 6/9", "100% 9/9"):
        log.progress(1, f"\r\033[K  1/3: {done}")  # at 0, 30, 61 and 62 s
    log.progress(1, "")  # closed: its last frame
    log.write("\n")  # the newline ultralytics writes after a closed bar
    log.progress(2, "\r\033[K  2/3: 0% 0/9")  # a new bar's first frame, at once
    log.progress(2, "")
    log.write("all done\n")
    assert out.getvalue() == ("Starting training\n  1/3: 0% 0/9\n  1/3: 66% 6/9\n  1/3: 100% 9/9\n  2/3: 0% 0/9\n"
                              "all done\n")
    assert log.isatty() is False
