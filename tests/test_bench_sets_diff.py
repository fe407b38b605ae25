"""bench/ocr_sets_diff.py: validation lines as plates read, and the replacement rule the model rules use."""
import pytest

from common.errors import UserError
from tests.bench_loader import BENCH, bench_module

diff = bench_module("ocr_sets_diff")

PARENT = ("us 96.61 | ar 91.67 | 2row 89.0 | scenes_val 78.59 | scenes_close_val 96.46 | scenes_val_u_gray 80.58 | "
          "scenes_close_val_u_gray 94.55 | scenes_val_m5 69.02 | scenes_val_m9 58.44 | clip 46 of 50")


def test_percentages_become_plates_read():
    read = diff.plates_read(PARENT)
    assert read == {"us": 57, "ar": 11, "2row": 89, "scenes_val": 312, "scenes_close_val": 109,
                    "scenes_val_u_gray": 307, "scenes_close_val_u_gray": 104, "scenes_val_m5": 274,
                    "scenes_val_m9": 232, "clip": 46}


def test_rule_counts_real_ordinary_sets_and_the_worst_loss():
    parent = diff.plates_read(PARENT)
    # six more greyscale scenes (+6), one US crop fewer (-1), the synthetic two-row set -3: total +5, worst -3
    cand = {**parent, "scenes_val_u_gray": 313, "us": 56, "2row": 86}
    lines, ok = diff.compare(parent, cand, min_gain=5, max_loss=2)
    assert "real ordinary total 946 951 +5" in lines and "worst set -3" in lines and not ok
    lines, ok = diff.compare(parent, {**cand, "2row": 87}, min_gain=5, max_loss=2)
    assert ok
    _, ok = diff.compare(parent, {**cand, "2row": 89, "scenes_val_u_gray": 312}, min_gain=5, max_loss=2)
    assert not ok  # +4 only


def test_results_file_lines_by_name(tmp_path):
    f = tmp_path / "r.txt"
    f.write_text(f"# a comment line\nmodel16 {PARENT}\n")
    assert diff.read_lines(f, ["model16"])[0]["clip"] == 46
    with pytest.raises(UserError, match="no line for other"):
        diff.read_lines(f, ["model16", "other"])
    with pytest.raises(UserError, match="unknown validation set 'bogus'"):
        diff.plates_read("bogus 50.0 | clip 1 of 2")
    with pytest.raises(UserError, match="unknown validation set 'clip'"):
        diff.plates_read("us 50.0 | clip 5.0")  # a clip field without its count
    with pytest.raises(UserError, match="not a field of bench/ocr_sets.sh val: 'us 1.2.3'"):
        diff.plates_read("us 1.2.3")


def test_output_appended_to_its_results_file_reads_again(tmp_path):
    """The results files keep the table under the lines it came from; the command must still run on them."""
    import subprocess
    import sys

    f = tmp_path / "r.txt"
    f.write_text(f"model16 {PARENT}\ncand {PARENT.replace('clip 46', 'clip 40')}\n")
    runs = []
    for _ in range(2):
        run = subprocess.run([sys.executable, str(BENCH / "ocr_sets_diff.py"), str(f), "model16", "cand"],
                             capture_output=True, text=True, timeout=60)
        assert run.returncode == 0, run.stderr
        runs.append(run.stdout)
        f.write_text(f.read_text() + run.stdout)
    assert runs[0] == runs[1] and runs[0].endswith("so: cand does not replace model16\n")


def test_fresh_line_counts_its_own_sets():
    """`ocr_sets.sh fresh` lines: the four fresh draws' plates with text (764, 213, 765, 224), all real ordinary."""
    parent = diff.plates_read("scenes_val_f 82.2 | scenes_close_val_f 96.24 | scenes_val_f_gray 80.39 | "
                              "scenes_close_val_f_gray 93.3")
    assert parent == {"scenes_val_f": 628, "scenes_close_val_f": 205, "scenes_val_f_gray": 615,
                      "scenes_close_val_f_gray": 209}
    cand = {**parent, "scenes_close_val_f": 198, "scenes_val_f": 629}
    lines, ok = diff.compare(parent, cand, min_gain=5, max_loss=2)
    assert "real ordinary total 1657 1651 -6" in lines and "worst set -7" in lines and not ok
