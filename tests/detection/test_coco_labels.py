"""Plate boxes from COCO JSON (Roboflow's, CVAT's and Label Studio's exports, COCO's own layout)."""
import json
import re

import pytest

from common.errors import UserError
from detection.coco_labels import holds_coco, read_coco_folder
from detection.dataset import folder_labels
from tests.detection.test_yolo_labels import box, image

ROBOFLOW_CATEGORIES = [{"id": 0, "name": "license-plates", "supercategory": "none"},
                       {"id": 1, "name": "License_Plate", "supercategory": "license-plates"}]


def coco(path, images, annotations, categories=None):
    """A COCO file: images [(id, file_name)], annotations [(image_id, category_id, [x, y, w, h])]."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({
        "info": {}, "categories": categories if categories is not None else [{"id": 1, "name": "plate"}],
        "images": [{"id": i, "file_name": f, "width": 200, "height": 100} for i, f in images],
        "annotations": [{"id": k, "image_id": i, "category_id": c, "bbox": b, "area": b[2] * b[3], "iscrowd": 0}
                        for k, (i, c, b) in enumerate(annotations)]}))


def boxes(labels):
    return {k: [box(b) for b in v] for k, v in labels.items()}


@pytest.fixture
def roboflow(tmp_path):
    """A Roboflow "COCO JSON" export: train/valid/test, each its images and _annotations.coco.json."""
    root = tmp_path / "rf"
    for split in ("train", "valid", "test"):
        image(root / split / f"{split}_a_jpg.rf.1.jpg")
        image(root / split / f"{split}_b_jpg.rf.2.jpg")
        coco(root / split / "_annotations.coco.json", [(0, f"{split}_a_jpg.rf.1.jpg"), (1, f"{split}_b_jpg.rf.2.jpg")],
             [(0, 1, [80, 45, 40, 10])], ROBOFLOW_CATEGORIES)
    (root / "README.roboflow.txt").write_text("exported")
    return root


def test_a_roboflow_coco_export_gives_each_split_its_images(roboflow):
    assert holds_coco(roboflow)
    assert boxes(folder_labels(roboflow / "labels.csv", ("train",))) == {
        "train/train_a_jpg.rf.1.jpg": [(80.0, 45.0, 120.0, 55.0)], "train/train_b_jpg.rf.2.jpg": []}
    assert list(read_coco_folder(roboflow, ("val",))) == ["valid/valid_a_jpg.rf.1.jpg", "valid/valid_b_jpg.rf.2.jpg"]
    assert list(read_coco_folder(roboflow / "test")) == ["test_a_jpg.rf.1.jpg", "test_b_jpg.rf.2.jpg"]  # one split
    (roboflow / "test" / "_annotations.coco.json").unlink()
    with pytest.raises(UserError, match=re.escape(f"{roboflow}: no test images in it (it has train, valid)")):
        read_coco_folder(roboflow, ("test",))


def test_cvat_and_label_studio_exports_with_images_beside_their_file(tmp_path):
    cvat, studio = tmp_path / "cvat", tmp_path / "ls"
    image(cvat / "images" / "frame_000001.png")
    image(cvat / "images" / "sub" / "frame_000002.png")  # a task's sub-folder, kept in file_name
    coco(cvat / "annotations" / "instances_default.json", [(1, "frame_000001.png"), (2, "sub/frame_000002.png")],
         [(2, 1, [10.5, 20, 30, 12]), (2, 1, [150, 80, 80, 40])])  # the second runs past the edge: clipped
    assert boxes(read_coco_folder(cvat, ("train",))) == {
        "images/frame_000001.png": [], "images/sub/frame_000002.png": [(10.5, 20.0, 40.5, 32.0), (150.0, 80.0, 200.0,
                                                                                                   100.0)]}
    image(studio / "images" / "3f2a-car.jpg")
    image(studio / "images" / "8c1d-van.jpg")
    coco(studio / "result.json", [(0, "images\\3f2a-car.jpg"), (1, "../../media/upload/1/8c1d-van.jpg")],
         [(0, 0, [1, 2, 3, 4])], [{"id": 0, "name": "Plate"}])  # written on Windows; the path Label Studio keeps
    assert boxes(folder_labels(studio / "labels.csv")) == {"images/3f2a-car.jpg": [(1.0, 2.0, 4.0, 6.0)],
                                                           "images/8c1d-van.jpg": []}


def test_cocos_own_layout_names_splits_by_its_files(tmp_path):
    for split in ("train2017", "val2017"):
        image(tmp_path / split / f"{split}_1.jpg")
        coco(tmp_path / "annotations" / f"instances_{split}.json", [(1, f"{split}_1.jpg")], [(1, 1, [5, 5, 20, 10])])
    assert list(read_coco_folder(tmp_path, ("train",))) == ["train2017/train2017_1.jpg"]
    assert list(read_coco_folder(tmp_path, ("test", "val"))) == ["val2017/val2017_1.jpg"]


def test_only_the_plate_categories_are_kept(tmp_path):
    image(tmp_path / "images" / "a.jpg")
    cats = [{"id": 1, "name": "car"}, {"id": 2, "name": "licence"}]
    coco(tmp_path / "result.json", [(7, "a.jpg")], [(7, 1, [0, 0, 200, 100]), (7, 2, [50, 40, 40, 15])], cats)
    assert boxes(read_coco_folder(tmp_path)) == {"images/a.jpg": [(50.0, 40.0, 90.0, 55.0)]}
    coco(tmp_path / "result.json", [(7, "a.jpg")], [(7, 1, [0, 0, 200, 100])], [cats[0], {"id": 2, "name": "truck"}])
    with pytest.raises(UserError, match=re.escape(f"{tmp_path / 'result.json'}: none of its categories (1: car, "
                                                  "2: truck) is named as a plate; name the plates 'plate'")):
        read_coco_folder(tmp_path)


@pytest.mark.parametrize("annotations, says", [
    ([{"image_id": 1, "category_id": 1}], "annotation 1 has no bbox [x, y, width, height] of numbers and image_id"),
    ([{"image_id": 1, "category_id": 1, "bbox": [1, 2, "x", 4]}], "annotation 1 has no bbox"),
    ([{"image_id": 1, "category_id": 1, "bbox": [1, 2, 0, 4]}], "an empty box (1,2,1,6) in the 200x100 image"),
])
def test_a_bad_annotation_is_one_error_naming_its_file(tmp_path, annotations, says):
    image(tmp_path / "a.jpg")
    (tmp_path / "result.json").write_text(json.dumps({"images": [{"id": 1, "file_name": "a.jpg"}],
                                                      "annotations": annotations, "categories": []}))
    with pytest.raises(UserError, match=re.escape(f"{tmp_path / 'result.json'}{', image a.jpg' * ('empty' in says)}: "
                                                  f"{says}")):
        folder_labels(tmp_path / "labels.csv")


def test_an_image_not_found_and_json_that_is_not_coco(tmp_path):
    coco(tmp_path / "result.json", [(1, "gone.jpg")], [])
    with pytest.raises(UserError, match=re.escape(f"{tmp_path / 'result.json'}: its image gone.jpg is not beside it, "
                                                  f"in images/ or in {tmp_path}")):
        read_coco_folder(tmp_path)
    (tmp_path / "result.json").write_text('{"images": [{"file_name": "a.jpg"}], "annotations": []}')
    with pytest.raises(UserError, match=re.escape(f"{tmp_path / 'result.json'}: an image without id and file_name: "
                                                  "{'file_name': 'a.jpg'}")):
        read_coco_folder(tmp_path)
    (tmp_path / "result.json").write_text('{"images": "none"}')
    (tmp_path / "other.json").write_text("[1, 2")
    assert not holds_coco(tmp_path)
    with pytest.raises(UserError, match=re.escape(f"{tmp_path}: no COCO annotation file (a .json of images and "
                                                  "annotations) in it")):
        read_coco_folder(tmp_path)
