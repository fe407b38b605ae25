"""Plate texts written by other tools (ocr/label_files.py), read as our datasets are."""
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from detection.dataset import PlateBox, folder_labels
from ocr.alphabet import Codec
from ocr.data import SourceDataset, read_labels
from ocr.evaluate import main as evaluate_main

LATIN = Codec("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def image(path: Path, size: tuple[int, int] = (20, 60)) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.full((*size, 3), 128, np.uint8))
    return path


def read(root: Path) -> list[tuple[str, str, tuple | None]]:
    return [(s.path.relative_to(root).as_posix(), s.text, s.box) for s in read_labels(root, LATIN)]


def test_another_tools_column_names_fast_plate_ocr_easyocr_hugging_face(tmp_path):
    image(tmp_path / "fpo" / "images" / "a.png")
    (tmp_path / "fpo" / "annotations.csv").write_text("image_path,plate_text\nimages/a.png,ab-123\n")
    assert read(tmp_path / "fpo") == [("images/a.png", "AB123", None)]
    assert [s.text for s in read_labels(tmp_path / "fpo" / "annotations.csv", LATIN)] == ["AB123"]  # the file given
    (tmp_path / "fpo" / "other.csv").write_text("picture,reading\nimages/a.png,AB1\n")
    with pytest.raises(UserError, match=r"other\.csv: missing column\(s\) image, plate_text"):
        read_labels(tmp_path / "fpo" / "other.csv", LATIN)
    image(tmp_path / "easy" / "b.png")
    (tmp_path / "easy" / "labels.csv").write_text("filename,words\nb.png,KMH306\n")
    assert read(tmp_path / "easy") == [("b.png", "KMH306", None)]
    image(tmp_path / "hf" / "c.png")
    (tmp_path / "hf" / "metadata.csv").write_text("File_Name;Text\nc.png;XY99\n")  # any case, semicolons
    assert read(tmp_path / "hf") == [("c.png", "XY99", None)]


def test_a_csv_naming_both_keeps_our_own_column(tmp_path):
    image(tmp_path / "d" / "a.png")
    image(tmp_path / "d" / "b.png")
    (tmp_path / "d" / "labels.csv").write_text("filename,image,text,plate_text\nb.png,a.png,NO1,AB1\n")
    assert read(tmp_path / "d") == [("a.png", "AB1", None)]


def test_a_paddleocr_list_names_its_images_from_a_folder_above_it(tmp_path, monkeypatch):
    rec = tmp_path / "train_data" / "rec"
    image(rec / "train" / "w1.png")
    image(rec / "train" / "w2.png")
    (rec / "rec_gt_train.txt").write_text("train/w1.png\tAB 12\ntrain_data/rec/train/w2.png\tCD34\n\n")
    assert read(rec) == [("train/w1.png", "AB12", None), ("train/w2.png", "CD34", None)]
    (rec / "rec_gt_train.txt").write_text("train/w1.png\tAB12\ntrain/w2.png\t528\t412\t162\t52\tCD34\n")
    with pytest.raises(UserError, match=r"rec_gt_train\.txt line 2: not an image<TAB>text line$"):
        read_labels(rec, LATIN)


def test_image_names_written_on_windows_are_found(tmp_path):
    rec = tmp_path / "train_data" / "rec"
    image(rec / "train" / "w1.png")
    (rec / "rec_gt_train.txt").write_text("train\\w1.png\tAB12\ntrain_data\\rec\\train\\w1.png\tCD34\n")
    assert read(rec) == [("train/w1.png", "AB12", None), ("train/w1.png", "CD34", None)]
    (tmp_path / "fpo" / "images").mkdir(parents=True)
    image(tmp_path / "fpo" / "images" / "a.png")
    (tmp_path / "fpo" / "annotations.csv").write_text("image_path,plate_text\nimages\\a.png,AB1\n")
    assert read(tmp_path / "fpo") == [("images/a.png", "AB1", None)]


def test_several_label_files_in_a_folder_are_refused_naming_them(tmp_path):
    image(tmp_path / "d" / "a.png")
    for name in ("train.csv", "val.csv"):
        (tmp_path / "d" / name).write_text("image_path,plate_text\na.png,AB1\n")
    (tmp_path / "d" / "notes.txt").write_text("taken at the gate\n")  # not a label file
    with pytest.raises(UserError, match=r"holds several label files \(train\.csv, val\.csv\): give one of them"):
        read_labels(tmp_path / "d", LATIN)


def test_openalpr_benchmark_lines_beside_each_photo(tmp_path):
    image(tmp_path / "br" / "AYO9034.jpg", (100, 200))
    (tmp_path / "br" / "AYO9034.txt").write_text("AYO9034.jpg\t52\t41\t62\t22\tAYO9034\nAYO9034.jpg 5 6 20 10 B1\n")
    assert read(tmp_path / "br") == [("AYO9034.jpg", "AYO9034", (52, 41, 114, 63)),
                                      ("AYO9034.jpg", "B1", (5, 6, 25, 16))]


def test_an_empty_file_beside_a_photo_is_a_photo_without_a_plate(tmp_path):
    image(tmp_path / "d" / "a.jpg", (100, 200))
    (tmp_path / "d" / "a.txt").write_text("a.jpg\t5\t6\t20\t10\tB1\n")
    image(tmp_path / "d" / "empty.jpg", (100, 200))
    (tmp_path / "d" / "empty.txt").write_text("\n")
    assert read(tmp_path / "d") == [("a.jpg", "B1", (5, 6, 25, 16))]


def test_ufpr_and_rodosol_key_value_files_beside_each_photo(tmp_path):
    image(tmp_path / "t" / "track0001" / "track0001[01].png", (100, 200))
    (tmp_path / "t" / "track0001" / "track0001[01].txt").write_text(
        "camera: GoPro Hero4 Silver\nposition_vehicle: 1 2 150 90\n\ttype: car\nplate: AYH-8735\n"
        "position_plate: 80 60 40 12\n\tchar 1: 81 62 4 8\n")
    image(tmp_path / "t" / "img_000001.jpg", (100, 200))
    (tmp_path / "t" / "img_000001.txt").write_text(
        "type: car\nplate: PUB1H52\nlayout: Brazilian\ncorners: 58,44 87,43 86,51 57,52\n")
    assert read(tmp_path / "t") == [("img_000001.jpg", "PUB1H52", (57, 43, 87, 52)),
                                     ("track0001/track0001[01].png", "AYH8735", (80, 60, 120, 72))]


def test_several_plates_in_one_file_beside_a_photo_each_with_its_box(tmp_path):
    image(tmp_path / "d" / "x.png", (100, 200))
    (tmp_path / "d" / "x.txt").write_text("plate: AAA1111\nposition_plate: 1 1 10 5\n"
                                          "plate: BBB2222\nposition_plate: 20 20 10 5\n")
    assert read(tmp_path / "d") == [("x.png", "AAA1111", (1, 1, 11, 6)), ("x.png", "BBB2222", (20, 20, 30, 25))]
    (tmp_path / "d" / "x.txt").write_text("plate: AAA1111\nposition_plate: 1 1 10 5\n"
                                          "plate: BBB2222\ncorners: 1,1 9,1 9,5\n")
    with pytest.raises(UserError, match=r"x\.txt line 4: corners must be x,y x,y x,y x,y, not '1,1 9,1 9,5'"):
        read_labels(tmp_path / "d", LATIN)


def test_text_files_beside_images_named_by_their_text_that_are_no_labels_are_left_alone(tmp_path):
    image(tmp_path / "d" / "AB123.png")
    (tmp_path / "d" / "notes.txt").write_text("camera\tgate 2\n")  # tabs, but no image named
    (tmp_path / "d" / "readme.txt").write_bytes("caf\xe9\tAB1\n".encode("cp1252"))  # not UTF-8 text
    assert read(tmp_path / "d") == [("AB123.png", "AB123", None)]


@pytest.mark.parametrize("text, says", [
    ("plate: ABC1234\n", r"x\.txt line 1: no position_plate or corners line after its plate line"),
    ("plate: ABC1234\nposition_plate: 5 5 9 4 1\n", r"x\.txt line 2: position_plate must be x y w h, not '5 5 9 4 1'"),
    ("plate: ABC1234\ncorners: 1,2 3,4 5\n", r"x\.txt line 2: corners must be x,y x,y x,y x,y, not '1,2 3,4 5'"),
    ("plate: ABC1234\nposition_plate: 5 5 0 4\n", r"x\.txt line 2: box 5,5,5,9 is empty"),
    ("0 0.5 0.5 0.2 0.1\n", r"x\.txt: it holds YOLO boxes, without the plates' text"),
    ("camera: X\n", r"x\.txt: no plate in it"),
])
def test_a_bad_file_beside_a_photo_is_one_error_naming_its_line(text, says, tmp_path):
    image(tmp_path / "d" / "x.png")
    (tmp_path / "d" / "x.txt").write_text(text)
    with pytest.raises(UserError, match=says):
        read_labels(tmp_path / "d", LATIN)


def ufpr_like(root: Path) -> Path:
    for split, n in (("training", 3), ("validation", 1), ("testing", 2)):
        for i in range(n):
            image(root / split / f"track{split[:2]}" / f"{i}.png", (100, 200))
            (root / split / f"track{split[:2]}" / f"{i}.txt").write_text(f"plate: {split[:2].upper()}{i}\n"
                                                                         "position_plate: 10 10 30 10\n")
    return root


def test_a_dataset_of_its_own_splits_is_read_by_the_split_named_never_whole(tmp_path):
    root = ufpr_like(tmp_path / "UFPR-ALPR")
    with pytest.raises(UserError, match=r"holds its own splits \(train, val, test\): name one of them"):
        SourceDataset({"path": str(root)}, LATIN)
    assert [s.text for s in SourceDataset({"path": str(root), "split": "test"}, LATIN).samples] == ["TE0", "TE1"]
    train = SourceDataset({"path": str(root), "split": "train"}, LATIN).samples
    assert [s.text for s in train] == ["TR0", "TR1", "TR2"]
    assert set(folder_labels(root / "labels.csv", ("val",))) == {"validation/trackva/0.png"}  # the detector's too
    assert folder_labels(root / "labels.csv", ("test", "val")) == {
        "testing/trackte/0.png": [PlateBox(10, 10, 40, 20, "TE0")],
        "testing/trackte/1.png": [PlateBox(10, 10, 40, 20, "TE1")]}


def test_a_rodosol_split_txt_chooses_the_images_of_a_split(tmp_path):
    root = tmp_path / "RodoSol-ALPR"
    for i, split in enumerate(("training", "testing", "training")):
        image(root / "images" / "cars-br" / f"img_{i}.jpg", (100, 200))
        (root / "images" / "cars-br" / f"img_{i}.txt").write_text(f"plate: AB{i}\ncorners: 1,1 9,1 9,5 1,5\n")
    (root / "split.txt").write_text("".join(f"./images/cars-br/img_{i}.jpg;{s}\n"
                                            for i, s in enumerate(("training", "testing", "training"))))
    assert [s.text for s in SourceDataset({"path": str(root), "split": "train"}, LATIN).samples] == ["AB0", "AB2"]
    assert [s.text for s in SourceDataset({"path": str(root), "split": "test"}, LATIN).samples] == ["AB1"]
    with pytest.raises(UserError, match=r"has no val split of its own .*; it has train, test$"):
        SourceDataset({"path": str(root), "split": "val"}, LATIN)
    assert list(folder_labels(root / "labels.csv", ("train",))) == ["images/cars-br/img_0.jpg",
                                                                   "images/cars-br/img_2.jpg"]
    with pytest.raises(UserError, match=r"has no val split of its own \(it has train, test\)"):
        folder_labels(root / "labels.csv", ("val",))
    (root / "split.txt").write_text("./images/cars-br/img_0.jpg;holdout\n")
    with pytest.raises(UserError, match=r"split\.txt line 1: not an image;split line"):
        SourceDataset({"path": str(root), "split": "train"}, LATIN)


@pytest.mark.parametrize("spec, says", [
    ({"split": "trian"}, "split must be one of all, train, val, test (the dataset's own"),
    ({"split": "holdout"}, "split must be one of all, train, val, test (the dataset's own"),
    ({"split": "test", "split_file": "x.csv"}, "split must be one of all, train, holdout with a split_file"),
    ({"split": "test"}, "has no test split of its own (a sub-folder test or testing, or a split.txt"),
])
def test_a_split_the_dataset_cannot_give_is_refused(spec, says, tmp_path):
    image(tmp_path / "d" / "AB12.png")
    with pytest.raises(UserError) as exc:
        SourceDataset({"path": str(tmp_path / "d"), **spec}, LATIN)
    assert says in str(exc.value)


def test_the_guides_recognition_folder_by_its_split(tmp_path):
    image(tmp_path / "recognition" / "train" / "00004741816.jpg")
    image(tmp_path / "recognition" / "test" / "00004741817_3.jpg")
    got = SourceDataset({"path": str(tmp_path / "recognition"), "split": "test"}, Codec("0123456789")).samples
    assert [s.text for s in got] == ["00004741817"]


def test_a_cvat_export_with_its_labels_beside_its_images_is_still_read_as_yolo(tmp_path):
    image(tmp_path / "y" / "obj_train_data" / "a.png", (100, 200))
    (tmp_path / "y" / "obj_train_data" / "a.txt").write_text("0 0.5 0.5 0.2 0.1\n")
    [(name, [box])] = folder_labels(tmp_path / "y" / "labels.csv", ("train",)).items()
    assert name.endswith("a.png") and (box.x1, box.y1, box.x2, round(box.y2), box.text) == (80, 45, 120, 55, "")


def test_evaluate_reads_a_datasets_own_test_split(tiny_ckpt, tmp_path, capsys):
    root = ufpr_like(tmp_path / "UFPR-ALPR")
    base = ["--weights", str(tiny_ckpt), "--data", str(root), "--show", "0"]
    assert evaluate_main(base + ["--split", "test"]) == 0
    assert "All 2 images:" in capsys.readouterr().out
    assert evaluate_main(base) == 2
    with pytest.raises(SystemExit):
        evaluate_main(base + ["--split", "test", "--split-file", str(tmp_path / "s.csv")])
    assert "--split test is the dataset's own split" in capsys.readouterr().err


def test_the_predictions_name_an_image_by_its_path_in_the_set(tiny_ckpt, tmp_path):
    """UFPR-ALPR's and RodoSol's file names repeat across folders: each prediction row says which image it is."""
    import csv

    for track in ("track0001", "track0002"):
        image(tmp_path / "set" / "testing" / track / "01.png", (100, 200))
        (tmp_path / "set" / "testing" / track / "01.txt").write_text("plate: AB1\nposition_plate: 10 10 50 20\n")
    out = tmp_path / "p.csv"
    assert evaluate_main(["--weights", str(tiny_ckpt), "--data", str(tmp_path / "set"), "--split", "test", "--show",
                          "0", "--predictions", str(out)]) == 0
    assert [r["image"] for r in csv.DictReader(out.open())] == ["testing/track0001/01.png", "testing/track0002/01.png"]
