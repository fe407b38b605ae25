import csv
import json

import cv2
import numpy as np
import pytest

from detection.detections import Detections
from detection.evaluate import run_eval
from detection.metrics import evaluate_boxes, iou_matrix

PRED = {  # image -> (boxes, confs)
    "a.jpg": ([[0, 0, 10, 9], [50, 50, 60, 60]], [0.9, 0.8]),    # one hit (IoU 0.9), one false positive
    "b.jpg": ([[100, 100, 111, 110]], [0.7]),                      # IoU 0.44 with its GT: a hit at 0.4 only
    "c.jpg": ([], []),                                             # a missed plate
}
GT = {"a.jpg": [[0, 0, 10, 10]], "b.jpg": [[100, 100, 125, 110]], "c.jpg": [[5, 5, 25, 15]]}


def test_iou():
    assert iou_matrix(np.array([[0, 0, 10, 10]]), np.array([[5, 0, 15, 10]]))[0, 0] == pytest.approx(1 / 3)


def labelled_set(folder):
    """GT's images (black, 200 px) and labels CSV in `folder`; returns the CSV."""
    (folder / "images").mkdir()
    with (folder / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "plate_text", "x1", "y1", "x2", "y2"])
        for name, boxes in GT.items():
            cv2.imwrite(str(folder / "images" / name), np.zeros((200, 200, 3), np.uint8))
            w.writerows([name, "", *b] for b in boxes)
    return folder / "labels.csv"


def predicted(names):
    """A detector giving PRED's boxes of `names`, in turn."""
    it = iter(names)

    def detect(img):
        b, c = PRED[next(it)]
        return Detections(np.array(b, np.float32).reshape(-1, 4), np.array(c, np.float32))

    return detect


def test_exact_numbers(tmp_path):
    res = run_eval(predicted(PRED), labelled_set(tmp_path), predictions=tmp_path / "p.jsonl")
    assert {k: v for k, v in res.items() if k != "ms_per_image"} == {
        "n_images": 3, "n_plates": 3, "recall@0.4": 2 / 3, "precision@0.4": 2 / 3,
        "recall@0.5": 1 / 3, "precision@0.5": 1 / 3, "ap50": 1 / 3,
        "recall@0.5_at_precision0.9": 1 / 3, "conf_at_precision0.9": pytest.approx(0.9)}
    lines = [json.loads(x) for x in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert lines[0] == {"image": "a.jpg", "boxes": [[0.0, 0.0, 10.0, 9.0, 0.9], [50.0, 50.0, 60.0, 60.0, 0.8]]}
    assert lines[2] == {"image": "c.jpg", "boxes": []}


def test_only_the_images_asked_for_are_evaluated(tmp_path):
    res = run_eval(predicted(["a.jpg", "c.jpg"]), labelled_set(tmp_path), only={"a.jpg", "c.jpg", "elsewhere.jpg"})
    assert (res["n_images"], res["n_plates"], res["recall@0.5"], res["precision@0.5"]) == (2, 2, 0.5, 0.5)


def test_ap_of_a_perfect_detector():
    imgs = [(np.array([[0, 0, 10, 10.0]]), np.array([0.9]), np.array([[0, 0, 10, 10.0]]))] * 3
    assert evaluate_boxes(imgs, 0.5) == {"recall": 1.0, "precision": 1.0, "ap": 1.0,
                                         "recall_at_precision": 1.0, "conf_at_precision": 0.9}


def test_recall_at_precision():
    def recall_at_precision(images, thr, min_precision):
        m = evaluate_boxes(images, thr, min_precision)
        return m["recall_at_precision"], m["conf_at_precision"]

    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10], [60, 0, 70, 10]], float)
    pred = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [100, 0, 110, 10], [40, 0, 50, 10], [200, 0, 210, 10]], float)
    conf = np.array([0.9, 0.8, 0.7, 0.6, 0.5])
    # kept at >= 0.8: 2/2 correct (recall 0.5); at >= 0.6: 3 of 4 correct (precision 0.75, recall 0.75)
    assert recall_at_precision([(pred, conf, gt)], 0.5, 0.9) == (0.5, 0.8)
    assert recall_at_precision([(pred, conf, gt)], 0.5, 0.75) == (0.75, 0.6)
    assert recall_at_precision([(pred[2:3], conf[2:3], gt)], 0.5, 0.9) == (0.0, 1.0)


def test_detections_on_ignore_boxes_count_neither_way():
    gt = np.array([[0, 0, 10, 10]], np.float64)
    pred = np.array([[0, 0, 10, 10], [50, 50, 60, 60], [80, 80, 90, 90]], np.float64)
    conf = np.array([0.5, 0.9, 0.8])
    unboxed = np.array([[50, 50, 61, 60]], np.float64)  # a real plate the labels leave out
    plain = evaluate_boxes([(pred, conf, gt)], 0.5)
    ignored = evaluate_boxes([(pred, conf, gt, unboxed)], 0.5)
    assert (plain["recall"], plain["precision"]) == (1.0, 1 / 3)
    assert (ignored["recall"], ignored["precision"]) == (1.0, 0.5)  # the box at (80, 80) is still false
    assert ignored["ap"] == 0.5


def test_read_ignore_names_bad_rows(tmp_path):
    from common.errors import UserError
    from detection.evaluate import read_ignore

    f = tmp_path / "unboxed.csv"
    f.write_text("image,x1,y1,x2,y2\na.jpg,1,2,3,4\nb.jpg,1,x,3,4\n")
    with pytest.raises(UserError, match="unboxed.csv row 3"):
        read_ignore(f)
    f.write_text("image,x1,y1,x2,y2\na.jpg,1,2,3,4\n")
    assert read_ignore(f)["a.jpg"].tolist() == [[1, 2, 3, 4]]


def test_iou_of_apart_touching_and_empty_boxes():
    a = np.array([[0, 0, 10, 10], [0, 0, 4, 5]], float)
    b = np.array([[10, 0, 20, 10], [30, 30, 40, 40], [0, 0, 10, 10]], float)
    np.testing.assert_allclose(iou_matrix(a, b), [[0, 0, 1], [0, 0, 0.2]])  # touching and apart: 0, not negative
    assert iou_matrix(a, np.zeros((0, 4))).shape == (2, 0) and iou_matrix(np.zeros((0, 4)), b).shape == (0, 3)


def test_matching_is_greedy_by_confidence_each_plate_once_and_at_the_threshold():
    from detection.metrics import match

    gt = np.array([[0, 0, 10, 10]], float)
    pred = np.array([[0, 0, 10, 10], [0, 0, 10, 9], [0, 0, 10, 5]], float)  # IoU 1, 0.9 and exactly 0.5
    assert match(pred, np.array([0.5, 0.9, 0.1]), gt, 0.5).tolist() == [False, True, False]  # the surest takes it
    assert match(pred[2:], np.array([0.1]), gt, 0.5).tolist() == [True]  # IoU exactly at the threshold: a hit
    assert match(pred, np.array([0.5, 0.9, 0.1]), np.zeros((0, 4)), 0.5).tolist() == [False] * 3


def test_ap_and_precision_by_hand_and_the_empty_cases():
    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]], float)
    pred = np.array([[0, 0, 10, 10], [100, 0, 110, 10], [20, 0, 30, 10]], float)
    m = evaluate_boxes([(pred, np.array([0.9, 0.8, 0.7]), gt)], 0.5, min_precision=0.6)
    # hit, miss, hit of 3 plates: recall 1/3, 1/3, 2/3 at precision 1, 1/2, 2/3; AP = 1/3 * 1 + 1/3 * 2/3
    assert m == pytest.approx({"recall": 2 / 3, "precision": 2 / 3, "ap": 5 / 9, "recall_at_precision": 2 / 3,
                               "conf_at_precision": 0.7})
    none = {"recall": 0.0, "precision": 0.0, "ap": 0.0, "recall_at_precision": 0.0, "conf_at_precision": 1.0}
    assert evaluate_boxes([], 0.5) == none
    assert evaluate_boxes([(pred, np.array([0.9, 0.8, 0.7]), np.zeros((0, 4)))], 0.5) == none  # no plates
    assert evaluate_boxes([(np.zeros((0, 4)), np.zeros(0), gt)], 0.5) == none  # nothing found


def test_a_prediction_on_an_ignore_box_at_exactly_the_threshold_is_ignored():
    gt = np.array([[0, 0, 10, 10]], float)
    pred = np.array([[0, 0, 10, 10], [50, 50, 60, 60]], float)
    half = np.array([[50, 50, 60, 70]], float)  # IoU 0.5 with the second prediction
    m = evaluate_boxes([(pred, np.array([0.9, 0.8]), gt, half)], 0.5)
    assert (m["recall"], m["precision"]) == (1.0, 1.0)


def test_a_confidence_threshold_keeps_whole_ties():
    """Two predictions of equal confidence, a hit and a miss: a threshold at that confidence keeps both, so its
    precision is theirs together, never the hit's alone."""
    gt = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [40, 0, 50, 10]], float)
    pred = np.array([[0, 0, 10, 10], [20, 0, 30, 10], [100, 0, 110, 10]], float)
    m = evaluate_boxes([(pred, np.array([0.9, 0.8, 0.8]), gt)], 0.5, min_precision=0.9)
    assert (m["recall_at_precision"], m["conf_at_precision"]) == (pytest.approx(1 / 3), pytest.approx(0.9))
