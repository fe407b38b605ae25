"""Plates transcribed in Label Studio's OCR template, read from its JSON export."""
import json
import re

import cv2
import numpy as np
import pytest

from common.errors import UserError
from ocr.alphabet import Codec
from ocr.data import read_labels

LATIN = Codec("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def region(rid, x, y, w, h, text=None, rotation=0, size=(400, 200)):
    """A region's results as the OCR template exports them: its box, and its textarea with the box again."""
    box = {"x": x, "y": y, "width": w, "height": h, "rotation": rotation}
    common = {"id": rid, "to_name": "image", "original_width": size[0], "original_height": size[1],
              "image_rotation": 0, "origin": "manual"}
    out = [{**common, "from_name": "bbox", "type": "rectangle", "value": box}]
    if text is not None:
        out.append({**common, "from_name": "transcription", "type": "textarea", "value": {**box, "text": [text]}})
    return out


def task(tid, image, results, cancelled=False):
    return {"id": tid, "data": {"ocr": image}, "annotations": [{"id": tid, "result": results,
                                                                "was_cancelled": cancelled}]}


def export(folder, tasks, name="project-1-at-2026-12-06-12-30-5f1c.json"):
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(json.dumps(tasks))
    return folder / name


def photo(path, size=(400, 200)):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((size[1], size[0], 3), 90, np.uint8))


def crops(samples):
    return [(s.path.name, s.text, s.box) for s in samples]


def test_a_photos_regions_and_a_crops_whole_transcription_are_samples(tmp_path):
    photo(tmp_path / "car.jpg")  # uploaded as 3f2a1b2c-car.jpg: found by its own name
    photo(tmp_path / "images" / "crop.png", (120, 40))
    tasks = [task(1, "/data/upload/1/3f2a1b2c-car.jpg", region("a", 10, 20, 25, 10, "ab-123 cd") +
                  region("b", 60, 50, 20, 15, "KMH306") + region("c", 0, 0, 5, 5)),  # a box left without text
             task(2, "/data/upload/1/crop.png", [{"id": "t", "from_name": "transcription", "to_name": "image",
                                                  "type": "textarea", "value": {"text": ["B58DTK"]}}]),
             task(3, "/data/upload/1/crop.png", region("d", 1, 1, 5, 5, "ZZ99"), cancelled=True)]
    path = export(tmp_path, tasks)
    expected = [("car.jpg", "AB123CD", (40, 40, 140, 60)), ("car.jpg", "KMH306", (240, 100, 320, 130)),
                ("crop.png", "B58DTK", None)]
    assert crops(read_labels(path, LATIN)) == expected
    assert crops(read_labels(tmp_path, LATIN)) == expected  # the folder holding the export


def test_a_turned_region_is_cut_by_its_bounds(tmp_path):
    """Label Studio turns a box about its top left corner: 90 degrees clockwise puts it left of and below that corner."""
    photo(tmp_path / "a.jpg")
    path = export(tmp_path, [task(1, "/data/local-files/?d=a.jpg", region("a", 50, 10, 10, 20, "AB12", rotation=90))])
    assert crops(read_labels(path, LATIN)) == [("a.jpg", "AB12", (160, 20, 200, 60))]  # 40 x 40 px, turned
    path = export(tmp_path, [task(1, "/data/local-files/?d=a.jpg", region("a", 5, 5, 10, 10, "AB12", rotation=180))])
    assert crops(read_labels(path, LATIN)) == [("a.jpg", "AB12", (0, 0, 20, 10))]  # turned past the corner: cut there


def test_what_is_wrong_is_one_line_naming_the_export_and_its_task(tmp_path):
    photo(tmp_path / "a.jpg")
    path = export(tmp_path, [task(7, "/data/upload/1/gone.jpg", region("a", 1, 1, 5, 5, "AB12"))])
    with pytest.raises(UserError, match=re.escape(f"{path} task 7: image not found: {tmp_path / 'gone.jpg'}")):
        read_labels(path, LATIN)
    path = export(tmp_path, [task(8, "/data/upload/1/a.jpg", region("a", 10, 10, 0, 5, "AB12"))])
    with pytest.raises(UserError, match=re.escape(f"{path} task 8: an empty region (40,20,40,30)")):
        read_labels(path, LATIN)
    path = export(tmp_path, [task(9, "/data/upload/1/a.jpg", region("a", 10, 10, 5, 0, "AB12"))])
    with pytest.raises(UserError, match=re.escape(f"{path} task 9: an empty region (40,20,60,20)")):
        read_labels(path, LATIN)
    unnumbered = task(9, "/data/upload/1/gone.jpg", region("a", 1, 1, 5, 5, "AB12"))
    del unnumbered["id"]
    path = export(tmp_path, [task(1, "/data/upload/1/a.jpg", []), unnumbered])
    with pytest.raises(UserError, match=re.escape(f"{path} task 2: image not found")):  # its place in the list
        read_labels(path, LATIN)
    (tmp_path / "other.json").write_text('{"images": []}')
    with pytest.raises(UserError, match=re.escape(f"{tmp_path / 'other.json'}: not a Label Studio JSON export")):
        read_labels(tmp_path / "other.json", LATIN)
