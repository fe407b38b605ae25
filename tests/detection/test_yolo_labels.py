"""Plate boxes from the YOLO exports of labelling tools (Roboflow, ultralytics, CVAT, Label Studio)."""
import json

import cv2
import numpy as np
import pytest

from common.errors import UserError
from detection.dataset import folder_labels
from detection.yolo_labels import from_yolo_lines, read_yolo_folder


def image(path, w=200, h=100):
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), np.zeros((h, w, 3), np.uint8))


def label(path, *lines):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(line + "\n" for line in lines))


def box(b):
    return tuple(round(v, 1) for v in (b.x1, b.y1, b.x2, b.y2))


@pytest.fixture
def roboflow(tmp_path):
    """A Roboflow "YOLOv8" export: train/valid/test, each images/ + labels/, a data.yaml naming one class."""
    root = tmp_path / "rf"
    for split in ("train", "valid", "test"):
        image(root / split / "images" / f"{split}_a.jpg")
        label(root / split / "labels" / f"{split}_a.txt", "0 0.5 0.5 0.2 0.1")
        image(root / split / "images" / f"{split}_b.png")  # no label file: an image without plates
    (root / "data.yaml").write_text("train: ../train/images\nval: ../valid/images\ntest: ../test/images\nnc: 1\n"
                                    "names: ['License_Plate']\n")
    return root


def test_a_roboflow_export_gives_each_split_its_images(roboflow):
    train = read_yolo_folder(roboflow, ("train",))
    assert {k: [box(b) for b in v] for k, v in train.items()} == {
        "train/images/train_a.jpg": [(80.0, 45.0, 120.0, 55.0)], "train/images/train_b.png": []}
    assert list(read_yolo_folder(roboflow, ("val",))) == ["valid/images/valid_a.jpg", "valid/images/valid_b.png"]
    assert list(read_yolo_folder(roboflow, ("test", "val"))) == ["test/images/test_a.jpg", "test/images/test_b.png"]
    (roboflow / "test" / "images" / "test_a.jpg").rename(roboflow / "elsewhere.jpg")
    (roboflow / "test" / "images" / "test_b.png").unlink()
    with pytest.raises(UserError, match=r"rf: no images in its test/images"):
        read_yolo_folder(roboflow, ("test", "val"))


def test_one_split_given_alone_takes_its_exports_class_names_and_unnamed_classes_are_refused(roboflow):
    (roboflow / "data.yaml").write_text("names: [car, License_Plate]\n")
    label(roboflow / "train" / "labels" / "train_b.txt", "0 0.5 0.5 0.8 0.8")  # a car
    assert {k: len(v) for k, v in read_yolo_folder(roboflow / "train").items()} == {
        "images/train_a.jpg": 0, "images/train_b.png": 0}  # class 0 is a car, named so one folder up
    (roboflow / "data.yaml").unlink()
    assert {k: len(v) for k, v in read_yolo_folder(roboflow / "train").items()} == {
        "images/train_a.jpg": 1, "images/train_b.png": 1}  # one class and no names: taken for the plate
    label(roboflow / "train" / "labels" / "train_b.txt", "1 0.5 0.5 0.8 0.8")
    with pytest.raises(UserError, match=r"train: its labels hold classes 0, 1 and no names file \(data.yaml, "
                                        r"classes.txt, obj.names\) says which is the plate"):
        read_yolo_folder(roboflow / "train")


def test_a_split_the_folder_lacks_is_named_with_those_it_has(roboflow):
    for split in ("train", "test"):
        for sub in (roboflow / split).glob("*/*"):
            sub.unlink()
        for sub in (roboflow / split).iterdir():
            sub.rmdir()
        (roboflow / split).rmdir()
    with pytest.raises(UserError, match=r"rf: no train images in it \(it has valid\)"):
        read_yolo_folder(roboflow, ("train",))


def test_ultralytics_layout_and_cvat_with_two_classes_keep_only_the_plates(tmp_path):
    ul = tmp_path / "ul"
    image(ul / "images" / "train" / "a.jpg")
    label(ul / "labels" / "train" / "a.txt", "0 0.5 0.5 0.2 0.1", "1 0.1 0.1 0.1 0.1")
    image(ul / "images" / "val" / "b.jpg")
    (ul / "dataset.yaml").write_text("path: /elsewhere\ntrain: images/train\nval: images/val\n"
                                     "names:\n  0: car\n  1: licence plate\n")
    assert {k: [box(b) for b in v] for k, v in read_yolo_folder(ul, ("train",)).items()} == {
        "images/train/a.jpg": [(10.0, 5.0, 30.0, 15.0)]}
    cvat = tmp_path / "cvat"
    image(cvat / "obj_train_data" / "f1.jpg", 100, 50)
    label(cvat / "obj_train_data" / "f1.txt", "1 0.5 0.5 0.2 0.2", "0 0.5 0.5 0.4 0.4")
    image(cvat / "obj_train_data" / "day2" / "f1.JPG", 100, 50)  # a task's sub-folder, a name twice, capitals
    label(cvat / "obj_train_data" / "day2" / "f1.txt", "1 0.1 0.1 0.2 0.2")
    (cvat / "obj.names").write_text("vehicle\nplaca\n")
    (cvat / "obj.data").write_text("classes = 2\ntrain = data/train.txt\nnames = data/obj.names\n")
    assert {k: [box(b) for b in v] for k, v in folder_labels(cvat / "labels.csv", ("train",)).items()} == {
        "obj_train_data/day2/f1.JPG": [(0.0, 0.0, 20.0, 10.0)], "obj_train_data/f1.jpg": [(40.0, 20.0, 60.0, 30.0)]}


def test_label_studio_flat_export_is_read_whole_and_a_folder_of_ours_comes_first(tmp_path):
    ls = tmp_path / "ls"
    image(ls / "images" / "x.jpg")
    label(ls / "labels" / "x.txt", "0 0.5 0.5 0.2 0.1")
    (ls / "classes.txt").write_text("plate\n")
    assert list(read_yolo_folder(ls, ("train",))) == list(read_yolo_folder(ls, ("test",))) == ["images/x.jpg"]
    (ls / "labels.csv").write_text("image,plate_text,x1,y1,x2,y2\nx.jpg,AB12,1,2,30,20\n")
    assert [(b.text, box(b)) for b in folder_labels(ls / "labels.csv")["x.jpg"]] == [("AB12", (1.0, 2.0, 30.0, 20.0))]


def test_the_edges_of_what_is_read(tmp_path):
    """Values up to 0.01 past 0-1 are rounding (accepted, the box clipped), beyond them pixels; a polygon's every
    point counts; a box of no width or no height is refused; a single class is the plate whatever its name; a split
    folder needs its labels folder; a flat export's sub-folders are not splits."""
    assert [box(b) for b in from_yolo_lines(["0 0.5 0.5 1.01 0.2", "0 -0.01 0.5 0.2 0.2"], 100, 50)] == [
        (0.0, 20.0, 100.0, 30.0), (0.0, 20.0, 9.0, 30.0)]
    for line in ("0 0.5 0.5 1.02 0.2", "0 -0.02 0.5 0.2 0.2"):
        with pytest.raises(UserError, match="fractions"):
            from_yolo_lines([line], 100, 50)
    assert [box(b) for b in from_yolo_lines(["0 0.1 0.5 0.2 0.9 0.3 0.5"], 100, 50)] == [(10.0, 25.0, 30.0, 45.0)]
    with pytest.raises(UserError, match="an empty box"):
        from_yolo_lines(["0 0.5 0.5 0.1 0"], 100, 50)
    one = tmp_path / "one"
    image(one / "images" / "day1" / "a.jpg")  # a flat export with a sub-folder of its own: read whole
    label(one / "labels" / "day1" / "a.txt", "0 0.5 0.5 0.2 0.1")
    (one / "classes.txt").write_text("lp\n")
    assert {k: len(v) for k, v in read_yolo_folder(one, ("val",)).items()} == {"images/day1/a.jpg": 1}
    rf = tmp_path / "rf"
    image(rf / "train" / "images" / "a.jpg")
    label(rf / "train" / "labels" / "a.txt", "0 0.5 0.5 0.2 0.1")
    image(rf / "valid" / "images" / "b.jpg")  # no labels folder: not a split of boxes
    with pytest.raises(UserError, match=r"no val images in it \(it has train\)"):
        read_yolo_folder(rf, ("val",))


def test_polygons_oriented_boxes_and_confidences_give_bounding_boxes():
    boxes = from_yolo_lines(["0 0.1 0.2 0.3 0.2 0.3 0.4 0.1 0.4",          # an oriented box's four corners
                             "0 0.5 0.5 0.6 0.55 0.55 0.7",                  # a polygon of three points
                             "0 0.5 0.5 0.2 0.1 0.87", "", "3 0.5 0.5 1.0 1.0"], 100, 50, classes={0})
    assert [box(b) for b in boxes] == [(10.0, 10.0, 30.0, 20.0), (50.0, 25.0, 60.0, 35.0), (40.0, 22.5, 60.0, 27.5)]
    assert [box(b) for b in from_yolo_lines(["0 0.95 0.5 0.2 0.2"], 100, 50)] == [(85.0, 20.0, 100.0, 30.0)]


@pytest.mark.parametrize("line, says", [
    ("0 320 240 60 20", "fractions of the image's size"),
    ("0 0.5 0.5 0.2", "4 values"),
    ("0 0.1 0.1 0.2 0.2 0.3 0.3 0.4", "8 values"),
    ("plate 0.5 0.5 0.2 0.1", "not a YOLO label line"),
    ("0 0.5 0.5 0 0.1", "an empty box"),
    ("0 -0.5 0.5 0.2 0.1", "fractions"),
])
def test_a_bad_label_line_names_its_file_and_line(line, says):
    with pytest.raises(UserError, match=f"^a/b.txt line 2: .*{says}"):
        from_yolo_lines(["0 0.5 0.5 0.2 0.1", line], 100, 50, where="a/b.txt")


def test_classes_none_of_which_is_a_plate_and_folders_without_labels_are_refused(tmp_path):
    root = tmp_path / "two"
    image(root / "images" / "a.jpg")
    label(root / "labels" / "a.txt", "0 0.5 0.5 0.2 0.1")
    (root / "classes.txt").write_text("car\ntruck\n")
    with pytest.raises(UserError, match=r"two: none of its classes \(0: car, 1: truck\) is named as a plate"):
        read_yolo_folder(root, ("train",))
    (root / "classes.txt").unlink()
    (root / "data.yaml").write_text("names: 3\n")
    with pytest.raises(UserError, match="data.yaml: its 'names' must be a list"):
        read_yolo_folder(root, ("train",))
    (root / "data.yaml").write_text("names: [a\n")
    with pytest.raises(UserError, match="data.yaml: not valid YAML"):
        read_yolo_folder(root, ("train",))
    ours = tmp_path / "ours"  # a folder of ours whose labels.csv is missing: images/ alone are no labels
    image(ours / "images" / "a.jpg")
    with pytest.raises(UserError, match=r"ours: no labels in it: neither a labels.csv nor YOLO labels"):
        folder_labels(ours / "labels.csv", ("train",))
    with pytest.raises(UserError, match="labels file not found"):
        folder_labels(tmp_path / "none" / "labels.csv", ("train",))


def test_training_takes_a_roboflow_exports_train_split_and_validates_on_its_valid_split(roboflow, tmp_path):
    from detection.train import build_dataset
    from detection.train_config import DetectorTrainConfig

    cfg = DetectorTrainConfig(train=(str(roboflow),), val=(str(roboflow),), dataset_dir=str(tmp_path / "yolo"))
    build_dataset(cfg)
    written = {s: sorted(p.name for p in (tmp_path / "yolo" / "images" / s).iterdir()) for s in ("train", "val")}
    assert written == {"train": ["rf__train__images__train_a.jpg", "rf__train__images__train_b.png"],
                       "val": ["rf__valid__images__valid_a.jpg", "rf__valid__images__valid_b.png"]}
    assert (tmp_path / "yolo" / "labels" / "train" / "rf__train__images__train_a.txt").read_text() == \
        "0 0.500000 0.500000 0.200000 0.100000\n"
    assert (tmp_path / "yolo" / "labels" / "val" / "rf__valid__images__valid_b.txt").read_text() == "\n"


def test_the_evaluation_reads_a_folders_test_split(roboflow, tmp_path, monkeypatch):
    import detection.detector
    from detection.detections import Detections
    from detection.evaluate import main

    class Detector:
        def __init__(self, cfg):
            pass

        def detect(self, img):
            return Detections(np.array([[80, 45, 120, 55]], np.float32), np.array([0.9], np.float32))

    monkeypatch.setattr(detection.detector, "PlateDetector", Detector)
    assert main(["--weights", "w.pt", "--labels", str(roboflow), "--json", str(tmp_path / "e.json")]) == 0
    res = json.loads((tmp_path / "e.json").read_text())
    assert (res["n_images"], res["n_plates"], res["recall@0.5"], res["precision@0.5"]) == (2, 1, 1.0, 0.5)
