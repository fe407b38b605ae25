"""bench/synth_redraw.py: the plates a generator change re-drew, found by their pixels, and the reads compared."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from tests.bench_loader import bench_module

redraw = bench_module("synth_redraw")


def plates(folder: Path, texts: dict[str, str], grey: dict[str, int]) -> Path:
    (folder / "images").mkdir(parents=True)
    (folder / "labels.csv").write_text("image,plate_text\n" + "".join(f"{n},{t}\n" for n, t in texts.items()))
    for name, level in grey.items():
        cv2.imwrite(str(folder / "images" / name), np.full((8, 20, 3), level, np.uint8))
    return folder


TEXTS = {"a.png": "AB12", "b.png": "CD34", "c.png": "EF56", "d.png": "GH78"}


def test_only_the_images_whose_pixels_changed_are_redrawn(tmp_path):
    before = plates(tmp_path / "A", TEXTS, {"a.png": 10, "b.png": 20, "c.png": 30, "d.png": 40})
    after = plates(tmp_path / "B", TEXTS, {"a.png": 10, "b.png": 21, "c.png": 30, "d.png": 41})
    assert redraw.redrawn(before, after, TEXTS) == ["b.png", "d.png"]


def test_reads_compared_on_the_redrawn_plates_and_the_rest():
    labels = dict(TEXTS)
    before = {"a.png": "AB12", "b.png": "CD34", "c.png": "EF55", "d.png": "GH7"}
    after = {"a.png": "AB12", "b.png": "CO34", "c.png": "EF55", "d.png": "GH78"}
    assert redraw.compare(labels, ["b.png", "d.png"], before, after) == {
        "redrawn": 2, "read_before": 1, "read_after": 1, "gained": 1, "lost": 1,
        "rest": 2, "rest_read_before": 1, "rest_read_after": 1}


def test_sets_of_other_plates_are_refused(tmp_path):
    before = plates(tmp_path / "A", TEXTS, {})
    after = plates(tmp_path / "B", {**TEXTS, "d.png": "XY99"}, {})
    with pytest.raises(UserError, match="hold other plates"):
        redraw.redrawn(before, after, TEXTS)


def test_the_predictions_file_gives_pred_and_a_labels_file_its_text(tmp_path):
    (tmp_path / "p.csv").write_text("image,plate_text,pred,confidence\na.png,AB12,AB13,0.5\n")
    (tmp_path / "l.csv").write_text("image,plate_text\na.png,AB12\n")
    assert redraw._rows(tmp_path / "p.csv") == {"a.png": "AB13"}
    assert redraw._rows(tmp_path / "l.csv") == {"a.png": "AB12"}
    (tmp_path / "bom.csv").write_bytes(b"\xef\xbb\xbfimage,plate_text\na.png,AB12\n")  # as a spreadsheet saves it
    assert redraw._rows(tmp_path / "bom.csv") == {"a.png": "AB12"}
    with pytest.raises(UserError, match=r"nope\.csv: no such file"):
        redraw._rows(tmp_path / "nope.csv")
