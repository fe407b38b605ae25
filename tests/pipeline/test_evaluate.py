import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from detection.detections import Detections
from ocr.recognizer import PlateRead
from pipeline.crops import CropSpec
from pipeline.evaluate import evaluate_stills, read_expected, run_clip, score_video
from pipeline.types import PlateEvent
from tests.pipeline.test_reader import ByBrightness

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


def ev(text):
    return PlateEvent("x", "s", 1, text, 0.9, (), (), 1, 0, 1, 0, 0, 0, (0, 0, 1, 1), "end")


def test_score_video_exact():
    expected = [{"text": "B58DTK", "first_frame": 0}, {"text": "B04RXL", "first_frame": 20},
                {"text": "B839HAR", "first_frame": 30}]
    events = [ev("B58DTK"), ev("B58DTK"), ev("B839HAR"), ev("XX000"), ev("B04RYC"), ev("B8Z9XAB")]
    trace = [(3, {1: "B58DTX"}), (5, {1: "B58DTK"}), (36, {2: "B839HAR"})]
    res = score_video(expected, events, trace)
    assert res["read_rate"] == 2 / 3 and res["duplicates_per_vehicle"] == 0.5
    assert [p["frames_to_first_read"] for p in res["per_vehicle"]] == [5, None, 6]
    assert res["median_frames_to_first_read"] == 5.5
    # B04RYC: B04RXL misread (2 edits of 6); B8Z9XAB: 3 edits from B839HAR, another plate
    assert [p["misreads"] for p in res["per_vehicle"]] == [[], ["B04RYC"], []] and res["misread_events"] == 1
    assert res["other_events"] == ["XX000", "B8Z9XAB"]
    assert [e["kind"] for e in res["events"]] == ["right", "right", "right", "other", "misread", "other"]

    # an 11-digit plate: 2 edits from it a misread, 3 (a third of its characters, past the default 2) another plate
    res = score_video([{"text": "12345678901", "first_frame": 0}], [ev("12345678999"), ev("12345679999")], [])
    assert [e["kind"] for e in res["events"]] == ["misread", "other"]
    # no vehicle listed, none read: rates of nothing are 0, every event another plate
    res = score_video([], [ev("B58DTK")], [])
    assert (res["read_rate"], res["duplicates_per_vehicle"], res["other_events"]) == (0.0, 0.0, ["B58DTK"])


def test_read_expected(tmp_path):
    p = tmp_path / "expected.csv"
    p.write_text("plate_text,first_frame\nb58-dtk,3\nB04 RXL,\n")
    assert read_expected(p) == [{"text": "B58DTK", "first_frame": 3}, {"text": "B04RXL", "first_frame": 0}]
    p.write_text("plate_text,first_frame\nB58DTK,three\n")
    with pytest.raises(UserError, match=r"expected.csv row 2: first_frame must be a frame number, got 'three'"):
        read_expected(p)


def test_evaluate_stills_exact(tmp_path, function_recognizer):
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), np.zeros((100, 200, 3), np.uint8))
    with (tmp_path / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "plate_text", "x1", "y1", "x2", "y2"])
        w.writerows([["a.jpg", "AB1O", 10, 10, 60, 30], ["a.jpg", "CD22", 100, 50, 170, 70],
                     ["a.jpg", "", 150, 5, 190, 20], ["a.jpg", "EF33", 5, 70, 40, 90]])
    boxes = np.array([[12, 10, 60, 31], [100, 52, 150, 70], [150, 5, 190, 20]], np.float32)  # EF33 missed
    det = type("D", (), {"detect": lambda self, img: Detections(boxes, np.ones(3, np.float32))})()
    texts = iter(["AB10", "CD22", "ZZ"])
    rec = function_recognizer(lambda crops: [PlateRead(next(texts), 0.5, ()) for _ in crops])
    res = evaluate_stills(tmp_path / "labels.csv", det, rec, CropSpec(margin=0.0), predictions=tmp_path / "p.jsonl")
    assert {k: v for k, v in res.items() if k != "ms_per_image"} == {
        "n_plates": 4, "n_plates_with_text": 3, "det_recall@0.4": 0.75, "read_acc": 1 / 3, "read_acc_o0": 2 / 3,
        "read_acc_by_plate_width": {"<60px": {"n": 2, "read_acc": 0.0}, "60-120px": {"n": 1, "read_acc": 1.0},
                                    ">=120px": {"n": 0, "read_acc": 0.0}}}
    line = json.loads((tmp_path / "p.jsonl").read_text())
    assert line["image"] == "a.jpg" and [r["text"] for r in line["reads"]] == ["AB10", "CD22", "ZZ"]
    split = tmp_path / "split.csv"
    split.write_text(f"dataset,image\n{tmp_path.name},b.jpg\n")
    with pytest.raises(UserError, match="no image of .*labels.csv is listed in"):
        evaluate_stills(tmp_path / "labels.csv", det, rec, split_file=split)
    split.write_text(f"dataset,image\n{tmp_path.name},a.jpg\n")
    texts = iter(["AB10", "CD22", "ZZ"])
    assert evaluate_stills(tmp_path / "labels.csv", det, rec, CropSpec(margin=0.0), split_file=split)["n_plates"] == 4


def test_evaluate_stills_on_a_public_sets_test_photos_with_their_plates_text_files(tmp_path, function_recognizer):
    """UFPR-ALPR as it comes (training/ validation/ testing/, a text file beside each photo): its test split read."""
    for split, text in (("training", "TRN1234"), ("testing", "AYH8735")):
        folder = tmp_path / split / "track0001"
        folder.mkdir(parents=True)
        cv2.imwrite(str(folder / "track0001[01].png"), np.zeros((100, 200, 3), np.uint8))
        (folder / "track0001[01].txt").write_text(
            f"camera: GoPro\nplate: {text[:3]}-{text[3:]}\nposition_plate: 10 10 50 20\n")
    det = type("D", (), {"detect": lambda self, img: Detections(np.array([[10, 10, 60, 30]], np.float32),
                                                                  np.ones(1, np.float32))})()
    rec = function_recognizer(lambda crops: [PlateRead("AYH8735", 0.9, ()) for _ in crops])
    res = evaluate_stills(tmp_path / "labels.csv", det, rec, CropSpec(margin=0.0))
    assert (res["n_plates"], res["det_recall@0.4"], res["read_acc"]) == (1, 1.0, 1.0)


def score_one_image(tmp_path, function_recognizer, labels, boxes, texts):
    """evaluate_stills on one black image with the label rows `labels`, found at `boxes`, read as `texts`."""
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "a.jpg"), np.zeros((100, 300, 3), np.uint8))
    (tmp_path / "labels.csv").write_text("image,plate_text,x1,y1,x2,y2\n" + "".join(f"a.jpg,{r}\n" for r in labels))
    found = Detections(np.array(boxes, np.float32).reshape(-1, 4), np.ones(len(boxes), np.float32))
    det = type("D", (), {"detect": lambda self, img: found})()
    reads = iter(texts)
    rec = function_recognizer(lambda crops: [PlateRead(next(reads), 0.5, ()) for _ in crops])
    return evaluate_stills(tmp_path / "labels.csv", det, rec, CropSpec(margin=0.0))


def test_a_plate_falls_in_the_width_bin_that_begins_at_its_width(tmp_path, function_recognizer):
    widths = [(0, 59), (100, 60), (0, 119), (100, 120)]  # (x, width) of four plates
    boxes = [[x, 10 + 20 * k, x + w, 25 + 20 * k] for k, (x, w) in enumerate(widths)]
    labels = [f"AB{k}{k},{x1},{y1},{x2},{y2}" for k, (x1, y1, x2, y2) in enumerate(boxes)]
    res = score_one_image(tmp_path, function_recognizer, labels, boxes, ["AB00", "AB11", "XX", "AB33"])  # 119 px: XX
    assert res["read_acc_by_plate_width"] == {"<60px": {"n": 1, "read_acc": 1.0}, "60-120px": {"n": 2, "read_acc": 0.5},
                                              ">=120px": {"n": 1, "read_acc": 1.0}}


def test_images_without_plates_score_nothing_found_and_nothing_read(tmp_path, function_recognizer):
    res = score_one_image(tmp_path, function_recognizer, [",,,,"], [[0, 0, 90, 20]], ["AB12"])
    assert (res["n_plates"], res["det_recall@0.4"], res["read_acc"], res["read_acc_o0"]) == (0, 0.0, 0.0, 0.0)


def test_boxes_without_text_measure_the_detector_and_say_reading_is_not(tmp_path, function_recognizer, logged):
    """A labelling tool's boxes (YOLO, VOC, COCO) hold no plate's text: recall is measured, and the run says that
    read_acc, 0, is over no plate."""
    lines, res = logged(lambda: score_one_image(tmp_path, function_recognizer, [",0,0,90,20", ",0,40,90,60"],
                                                [[0, 0, 90, 20]], ["AB12"]), "WARNING")
    assert (res["n_plates"], res["n_plates_with_text"], res["det_recall@0.4"], res["read_acc"]) == (2, 0, 0.5, 0.0)
    assert lines == [("WARNING", f"{tmp_path / 'labels.csv'}: none of its 2 plates has its text in the labels: the "
                      "detector's recall is measured, reading is not (read_acc counts the plates with text: 0)")]
    (tmp_path / "t").mkdir()
    lines, res = logged(lambda: score_one_image(tmp_path / "t", function_recognizer, ["AB12,0,0,90,20", ",0,40,90,60"],
                                                [[0, 0, 90, 20]], ["AB12"]), "WARNING")
    assert (lines, res["n_plates_with_text"], res["read_acc"]) == ([], 1, 1.0)  # one plate with text: measured


def test_a_read_overlapping_a_plate_by_match_iou_exactly_is_its_read(tmp_path, function_recognizer):
    labels = ["AB12,0,0,100,20", "CD34,0,50,100,70"]
    res = score_one_image(tmp_path, function_recognizer, labels, [[0, 0, 40, 20], [0, 50, 39, 70]],  # IoU 0.4, 0.39
                          ["AB12", "CD34"])
    assert (res["det_recall@0.4"], res["read_acc"]) == (0.5, 0.5)


@pytest.mark.parametrize("layout", ["beside", "column", "absolute"])
def test_evaluate_stills_finds_images_outside_an_images_folder(tmp_path, layout, function_recognizer):
    """images/ beside labels.csv is the layout of ../shared/data; images beside the CSV, a column that reads
    images/a.jpg, or absolute paths are found too."""
    img_dir = tmp_path if layout == "beside" else tmp_path / "pics"
    img_dir.mkdir(exist_ok=True)
    cv2.imwrite(str(img_dir / "a.jpg"), np.zeros((100, 200, 3), np.uint8))
    name = {"beside": "a.jpg", "column": "pics/a.jpg", "absolute": str(img_dir / "a.jpg")}[layout]
    (tmp_path / "labels.csv").write_text(f"image,plate_text,x1,y1,x2,y2\n{name},AB12,10,10,60,30\n")
    det = type("D", (), {"detect": lambda self, img: Detections(np.array([[10, 10, 60, 30]], np.float32),
                                                                np.ones(1, np.float32))})()
    rec = function_recognizer(lambda crops: [PlateRead("AB12", 0.9, ()) for _ in crops])
    res = evaluate_stills(tmp_path / "labels.csv", det, rec, CropSpec(margin=0.0))
    assert res["n_plates"] == 1 and res["read_acc"] == 1.0


def test_evaluate_stills_names_a_missing_image(tmp_path):
    (tmp_path / "labels.csv").write_text("image,plate_text,x1,y1,x2,y2\nnone.jpg,AB12,10,10,60,30\n")
    with pytest.raises(UserError, match=r"labels.csv row 2: image not found: .*images/none.jpg"):
        evaluate_stills(tmp_path / "labels.csv", None, None)


class GreyReader(ByBrightness):
    """`ByBrightness` with the levels the video's compression leaves: ~100 is A, ~200 is B."""

    def decode(self, p):
        text = "AB123CD" if 60 < p[0] < 160 else "XY9876" if p[0] >= 160 else ""
        return PlateRead(text, 0.9, (0.9,) * len(text))


def test_run_clip_opens_the_clip_and_scores_its_vehicles(tmp_path):
    from pipeline.settings import load_configs
    from tests.pipeline.test_orchestrator import FakeDetector

    video, expected, boxes = _clip_file(tmp_path)
    expected.write_text(expected.read_text() + "ZZ111,0\n")
    cfgs = load_configs(CONFIGS, ["pipeline.motion_gate=false"])  # the detector runs on every frame, in order
    res = run_clip(str(video), expected, cfgs, FakeDetector(boxes), GreyReader())
    assert res["frames"] == res["detected_frames"] == 20
    assert res["read_rate"] == 2 / 3 and res["misread_events"] == 0 and res["other_events"] == []
    # ByteTrack takes the first frame's boxes as tracks at once, a later plate on its second frame
    assert [p["frames_to_first_read"] for p in res["per_vehicle"]] == [0, 1, None]


def _clip_file(tmp_path):
    from tests.pipeline.test_orchestrator import clip

    frames, boxes = clip()
    video = tmp_path / "clip.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10.0, (320, 240))
    for f in frames:
        out.write(f.image)
    out.release()
    expected = tmp_path / "expected.csv"
    expected.write_text("plate_text,first_frame\nAB123CD,0\nXY9876,5\n")
    return video, expected, boxes


def test_run_clip_runs_the_clip_with_its_stride_and_counts_the_clips_frames_to_a_read(tmp_path):
    from pipeline.settings import load_configs
    from tests.pipeline.test_orchestrator import FakeDetector

    video, expected, boxes = _clip_file(tmp_path)
    cfgs = load_configs(CONFIGS, ["pipeline.motion_gate=false", "stride=2"])
    res = run_clip(str(video), expected, cfgs, FakeDetector(boxes[::2]), GreyReader())
    assert res["frames"] == res["detected_frames"] == 10 and res["read_rate"] == 1.0
    # B comes at the clip's frame 5; its second frame run (ByteTrack's new track) is the clip's frame 8
    assert [p["frames_to_first_read"] for p in res["per_vehicle"]] == [0, 3]


def test_run_clip_runs_the_window_and_the_turn_given(tmp_path):
    from pipeline.settings import load_configs

    video, expected, _ = _clip_file(tmp_path)
    seen = []
    det = type("D", (), {"detect": lambda self, img: seen.append(img.shape) or Detections(
        np.zeros((0, 4), np.float32), np.zeros(0, np.float32))})()
    cfgs = load_configs(CONFIGS, ["pipeline.motion_gate=false", "start_s=1", "rotate=90"])
    res = run_clip(str(video), expected, cfgs, det, GreyReader())
    assert res["frames"] == 10 and seen == [(320, 240, 3)] * 10


@pytest.mark.parametrize("degrees", [0, 90, 180, 270])
def test_turned_boxes_are_where_the_turned_image_has_them(degrees):
    from ocr.process import turn
    from pipeline.evaluate import turned_boxes

    img = np.zeros((100, 200), np.uint8)
    img[10:30, 40:110] = 255  # the box 40,10,110,30 (x2, y2 past its last pixel)
    ys, xs = np.nonzero(turn(img, degrees))
    want = [[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]]
    assert turned_boxes(np.array([[40, 10, 110, 30]], np.float64), 100, 200, degrees).tolist() == want


def test_evaluate_stills_turns_each_image_and_its_plates_by_rotate(tmp_path, function_recognizer):
    """A camera on its side: its plate stands upright in the stored image, level once turned (rotate=90)."""
    (tmp_path / "images").mkdir()
    img = np.zeros((200, 100, 3), np.uint8)
    img[20:100, 60:80] = 255  # the plate, 20 x 80 upright: 80 x 20 level in the turned image, at 100,60 .. 180,80
    cv2.imwrite(str(tmp_path / "images" / "a.png"), img)
    (tmp_path / "labels.csv").write_text("image,plate_text,x1,y1,x2,y2\na.png,AB12,60,20,80,100\n")
    shapes = []

    def bright(image):  # the detector: the bright patch's box, in the image it is given
        shapes.append(image.shape)
        ys, xs = np.nonzero(image[..., 0])
        return Detections(np.array([[xs.min(), ys.min(), xs.max() + 1, ys.max() + 1]], np.float32), np.ones(1))

    det = type("D", (), {"detect": lambda self, image: bright(image)})()
    rec = function_recognizer(lambda crops: [PlateRead("AB12" if c.shape[1] > c.shape[0] else "", 0.9, ())
                                             for c in crops])
    res = evaluate_stills(tmp_path / "labels.csv", det, rec, CropSpec(margin=0.0), rotate=90)
    assert shapes == [(100, 200, 3)] and res["det_recall@0.4"] == 1.0 and res["read_acc"] == 1.0
    assert res["read_acc_by_plate_width"]["60-120px"] == {"n": 1, "read_acc": 1.0}
    res = evaluate_stills(tmp_path / "labels.csv", det, rec, CropSpec(margin=0.0), rotate=270)  # turned the other way
    assert shapes[-1] == (100, 200, 3) and res["det_recall@0.4"] == 1.0 and res["read_acc"] == 1.0
    res = evaluate_stills(tmp_path / "labels.csv", det, rec, CropSpec(margin=0.0))  # as stored: upright, unread
    assert res["det_recall@0.4"] == 1.0 and res["read_acc"] == 0.0
