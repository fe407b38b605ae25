"""Plate boxes from Pascal VOC XML (LabelImg, Roboflow's and CVAT's VOC exports, Kaggle's car plate set)."""
import re

import pytest

from common.errors import UserError
from detection.dataset import folder_labels
from detection.voc_labels import holds_voc, read_voc_folder
from tests.detection.test_yolo_labels import box, image


def voc(path, *objects, size=(200, 100), root="annotation"):
    """A VOC XML file of `objects` (name, xmin, ymin, xmax, ymax), as LabelImg writes it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    objs = "".join(f"<object><name>{n}</name><pose>Unspecified</pose><truncated>0</truncated><difficult>0</difficult>"
                   f"<bndbox><xmin>{a}</xmin><ymin>{b}</ymin><xmax>{c}</xmax><ymax>{d}</ymax></bndbox></object>"
                   for n, a, b, c, d in objects)
    path.write_text(f"<{root}><folder>images</folder><filename>{path.stem}.png</filename><size><width>{size[0]}"
                    f"</width><height>{size[1]}</height><depth>3</depth></size>{objs}</{root}>")


def boxes(labels):
    return {k: [box(b) for b in v] for k, v in labels.items()}


def test_kaggles_layout_images_and_annotations_folders(tmp_path):
    """Kaggle's "Car License Plate Detection": images/CarsN.png, annotations/CarsN.xml, one object name 'licence'."""
    for i in range(2):
        image(tmp_path / "images" / f"Cars{i}.png")
    image(tmp_path / "images" / "Cars9.png")  # no XML: an image without plates
    voc(tmp_path / "annotations" / "Cars0.xml", ("licence", 20, 30, 80, 50), ("licence", 150, 10, 190, 25))
    voc(tmp_path / "annotations" / "Cars1.xml", ("licence", 10.5, 60, 250, 120),  # past the edge: clipped
        ("licence", -1, -2, 30, 20))
    assert holds_voc(tmp_path) and not holds_voc(tmp_path / "images")
    assert boxes(folder_labels(tmp_path / "labels.csv", ("train",))) == {
        "images/Cars0.png": [(20.0, 30.0, 80.0, 50.0), (150.0, 10.0, 190.0, 25.0)],
        "images/Cars1.png": [(10.5, 60.0, 200.0, 100.0), (0.0, 0.0, 30.0, 20.0)], "images/Cars9.png": []}


def test_labelimg_xml_beside_each_image_keeps_only_the_plates(tmp_path):
    image(tmp_path / "a.jpg")
    image(tmp_path / "sub" / "b.jpg")
    (tmp_path / "annotations").mkdir()  # empty: not where the labels are
    voc(tmp_path / "a.xml", ("car", 0, 0, 200, 100), ("License_Plate", 50, 40, 90, 55))
    voc(tmp_path / "sub" / "b.xml", ("car", 0, 0, 100, 100))
    assert boxes(read_voc_folder(tmp_path)) == {"a.jpg": [(50.0, 40.0, 90.0, 55.0)], "sub/b.jpg": []}
    voc(tmp_path / "a.xml", ("car", 0, 0, 200, 100), ("truck", 50, 40, 90, 55))
    with pytest.raises(UserError, match=re.escape(f"{tmp_path}: none of its object names (car, truck) is named as a "
                                                  "plate; name the plates 'plate'")):
        read_voc_folder(tmp_path)


def test_a_roboflow_voc_export_gives_each_split_its_images(tmp_path):
    for split in ("train", "valid", "test"):
        image(tmp_path / split / f"{split}_a_jpg.rf.1.jpg")
        voc(tmp_path / split / f"{split}_a_jpg.rf.1.xml", ("plate", 1, 2, 30, 12))
    assert boxes(read_voc_folder(tmp_path, ("train",))) == {"train/train_a_jpg.rf.1.jpg": [(1.0, 2.0, 30.0, 12.0)]}
    assert list(read_voc_folder(tmp_path, ("val",))) == ["valid/valid_a_jpg.rf.1.jpg"]
    assert list(folder_labels(tmp_path / "labels.csv", ("test", "val"))) == ["test/test_a_jpg.rf.1.jpg"]
    (tmp_path / "test" / "test_a_jpg.rf.1.xml").unlink()
    (tmp_path / "test" / "test_a_jpg.rf.1.jpg").unlink()
    with pytest.raises(UserError, match=re.escape(f"{tmp_path}: no test images in it (it has train, valid)")):
        read_voc_folder(tmp_path, ("test",))


def test_voc_and_cvat_split_lists_name_each_splits_images(tmp_path):
    for stem in ("000001", "000002", "000003"):
        image(tmp_path / "JPEGImages" / f"{stem}.jpg")
        voc(tmp_path / "Annotations" / f"{stem}.xml", ("plate", 5, 5, 40, 20))
    (tmp_path / "ImageSets" / "Main").mkdir(parents=True)
    (tmp_path / "ImageSets" / "Main" / "train.txt").write_text("000001\n000003\n")
    (tmp_path / "ImageSets" / "Main" / "val.txt").write_text("000002 1\n")  # a VOC class list's line: name, flag
    assert list(read_voc_folder(tmp_path, ("train",))) == ["JPEGImages/000001.jpg", "JPEGImages/000003.jpg"]
    assert list(read_voc_folder(tmp_path, ("test", "val"))) == ["JPEGImages/000002.jpg"]
    (tmp_path / "ImageSets" / "Main" / "train.txt").rename(tmp_path / "ImageSets" / "Main" / "default.txt")
    (tmp_path / "ImageSets" / "Main" / "val.txt").unlink()  # CVAT's one subset, "default": the folder read whole
    assert len(read_voc_folder(tmp_path, ("train",))) == 3


@pytest.mark.parametrize("text, says", [
    ("not xml at all", "not valid XML (syntax error: line 1, column 0)"),
    ("<coco><images/></coco>", "not a Pascal VOC annotation (its root is <coco>, not <annotation>)"),
    ("<annotation><object><name>plate</name></object></annotation>",
     "object 1 has no <bndbox> of numbers xmin, ymin, xmax, ymax"),
    ("<annotation><object><name>plate</name><bndbox><xmin>a</xmin><ymin>1</ymin><xmax>2</xmax><ymax>3</ymax>"
     "</bndbox></object></annotation>", "object 1 has no <bndbox> of numbers"),
    ("<annotation><object><name>plate</name><bndbox><xmin>50</xmin><ymin>1</ymin><xmax>40</xmax><ymax>3</ymax>"
     "</bndbox></object></annotation>", "an empty box (50,1,40,3) in the 200x100 image"),
    ("<annotation><object><name>plate</name><bndbox><xmin>5</xmin><ymin>7</ymin><xmax>40</xmax><ymax>7</ymax>"
     "</bndbox></object></annotation>", "an empty box (5,7,40,7) in the 200x100 image"),
])
def test_a_bad_annotation_is_one_error_naming_its_file(tmp_path, text, says):
    image(tmp_path / "a.jpg")
    (tmp_path / "a.xml").write_text(text)
    where = f"{tmp_path / 'a.xml'}{', image a.jpg' * ('empty' in says)}"
    with pytest.raises(UserError, match=re.escape(f"{where}: {says}")):
        folder_labels(tmp_path / "labels.csv")


def test_an_annotation_that_would_expand_to_gigabytes_is_refused_not_expanded(tmp_path):
    """A "billion laughs" file: expat (2.4 on) stops the entities' expansion; the file is not valid XML."""
    levels = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    image(tmp_path / "a.jpg")
    (tmp_path / "a.xml").write_text(f'<?xml version="1.0"?><!DOCTYPE a [<!ENTITY l0 "lol">{levels}]>'
                                    "<annotation><object><name>&l9;</name></object></annotation>")
    with pytest.raises(UserError, match=re.escape(f"{tmp_path / 'a.xml'}: not valid XML (limit on input "
                                                  "amplification factor")):
        read_voc_folder(tmp_path)


def test_a_folder_of_no_labels_says_each_format_looked_for(tmp_path):
    image(tmp_path / "a.jpg")
    with pytest.raises(UserError, match=re.escape(f"{tmp_path}: no labels in it: neither a labels.csv nor YOLO "
                                                  "labels (images/ and labels/ folders) nor Pascal VOC (.xml) nor "
                                                  "COCO (.json)")):
        folder_labels(tmp_path / "labels.csv")
