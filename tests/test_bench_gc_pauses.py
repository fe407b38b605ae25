"""bench/gc_pauses.py: the collections of the heap while an entry point runs, and its report."""
import dataclasses
import sys

import pytest

from tests.bench_loader import bench_module

gc_pauses = bench_module("gc_pauses")


def test_the_report_lists_each_pause_then_each_generations_count_longest_and_total():
    pauses = [gc_pauses.Pause(1.5, 2, 0.3125, 40), gc_pauses.Pause(9.25, 0, 0.06, 3),
              gc_pauses.Pause(12.0, 2, 0.75, 0)]
    assert gc_pauses.report(pauses, 50).splitlines() == [
        "     1.50 s  gen2    312.5 ms  (40 collected)",
        "     9.25 s  gen0     60.0 ms  (3 collected)",
        "    12.00 s  gen2    750.0 ms  (0 collected)",
        "gen0: 1 collections of 50 ms or more, longest 60 ms, 0.06 s in all",
        "gen2: 2 collections of 50 ms or more, longest 750 ms, 1.06 s in all",
    ]
    assert gc_pauses.report([], 50) == "no collection of 50 ms or more"


class Clock:
    """`time.perf_counter` giving the times asked for, one a call."""

    def __init__(self, *times: float) -> None:
        self.times = list(times)

    def perf_counter(self) -> float:
        return self.times.pop(0)


def test_a_collection_is_noted_from_its_start_to_its_stop_if_it_took_at_least_the_least(monkeypatch):
    monkeypatch.setattr(gc_pauses, "time", Clock(10.004, 11.0, 11.25, 12.0, 12.125, 13.5, 13.75))
    watch = gc_pauses.Watch(0.25)  # begun at 10.004
    watch("start", {"generation": 2})
    watch("stop", {"generation": 2, "collected": 5})  # 0.25 s: noted
    watch("start", {"generation": 0})
    watch("stop", {"generation": 0, "collected": 1})  # 0.125 s: not
    watch("start", {"generation": 1})
    watch("stop", {"generation": 1, "collected": 0})
    assert watch.pauses == [gc_pauses.Pause(1.0, 2, 0.25, 5), gc_pauses.Pause(3.5, 1, 0.25, 0)]  # to 10 ms
    with pytest.raises(dataclasses.FrozenInstanceError):
        watch.pauses[0].seconds = 0


def test_min_ms_is_in_milliseconds_and_50_unless_given(tmp_path, monkeypatch, capsys):
    script = tmp_path / "collects.py"
    script.write_text("import gc\n\n\ndef main(argv):\n    gc.collect()\n")
    for argv, least in ((["--min-ms", "250"], "collections of 250 ms or more"),
                        (["--min-ms", "251"], "no collection of 251 ms or more"), ([], "collections of 50 ms or more")):
        clock = iter(range(10**6))
        monkeypatch.setattr(gc_pauses, "time", type("C", (), {"perf_counter": lambda: next(clock) * 0.25}))
        gc_pauses.main([*argv, str(script)])  # each collection 0.25 s long
        assert least in capsys.readouterr().err.strip().splitlines()[-1]


def test_a_script_imports_what_lies_beside_it_and_an_exit_with_a_message_is_status_1(tmp_path, capsys):
    (tmp_path / "helper.py").write_text("WORD = 'beside'\n")
    (tmp_path / "run.py").write_text("from helper import WORD\n\n\ndef main(argv):\n    raise SystemExit(WORD)\n")
    assert gc_pauses.main([str(tmp_path / "run.py")]) == 1


def test_a_scripts_main_is_called_with_its_arguments_and_its_collections_noted(tmp_path, capsys):
    script = tmp_path / "collects.py"
    script.write_text("import gc\n\n\ndef main(argv):\n    gc.collect()\n"
                      "    return 3 if argv == ['--fast', 'a'] else 0\n")
    out, argv = tmp_path / "report.txt", list(sys.argv)
    assert gc_pauses.main(["--min-ms", "0", "--out", str(out), str(script), "--fast", "a"]) == 3
    assert sys.argv == argv and str(tmp_path) not in sys.path  # as they were
    lines = out.read_text().splitlines()
    assert any(" gen2 " in line for line in lines) and lines[-1].startswith("gen2: ")
    assert capsys.readouterr().err.strip() == out.read_text().strip()


def test_a_module_is_run_as_python_m_runs_it_its_arguments_in_sys_argv(tmp_path, monkeypatch, capsys):
    (tmp_path / "plate_tool.py").write_text("import sys\n\n\ndef main():\n    print(sys.argv)\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert gc_pauses.main(["--module", "plate_tool", "--plate", "AB123CD"]) == 0
    assert capsys.readouterr().out == "['plate_tool', '--plate', 'AB123CD']\n"


@pytest.mark.parametrize("argv, message", [
    ([], "give a script to run, or --module and a module"),
    (["--module"], "give a script to run, or --module and a module"),
    (["{tmp}/none.py"], "script not found: {tmp}/none.py"),
    (["{tmp}/bare.py"], "{tmp}/bare.py has no main() to call"),
    (["--min-ms", "-1", "x.py"], "argument --min-ms: -1 is below 0"),
    (["--module", "no_such_tool"], "no module named no_such_tool"),
    (["--out", "{tmp}", "{tmp}/bare.py"], "{tmp} is a folder: name the file to write"),
])
def test_a_bad_argument_is_argparse_one_line(argv, message, tmp_path, capsys):
    (tmp_path / "bare.py").write_text("MAIN = None\n")
    with pytest.raises(SystemExit) as exc:
        gc_pauses.main([a.format(tmp=tmp_path) for a in argv])
    assert exc.value.code == 2
    assert capsys.readouterr().err.strip().splitlines()[-1].endswith(f"error: {message.format(tmp=tmp_path)}")
