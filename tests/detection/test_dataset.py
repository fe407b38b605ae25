import csv

import cv2
import numpy as np
import pytest

from common.errors import UserError
from detection.dataset import (export_yolo, import_yolo, in_share, read_box_labels, write_box_labels,
                               write_dataset_yaml)
from ocr.splits import HOLDOUT_RIDES, TIME_BLOCK_RIDE, dashcam_holdout, ride_of


def make(root, rows, sizes):
    (root / "images").mkdir(parents=True, exist_ok=True)
    for name, (w, h) in sizes.items():
        cv2.imwrite(str(root / "images" / name), np.zeros((h, w, 3), np.uint8))
    with (root / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "plate_text", "x1", "y1", "x2", "y2"])
        w.writerows(rows)
    return root / "labels.csv"


def test_round_trip(tmp_path):
    csv_path = make(tmp_path / "d", [("a.jpg", "B21GSB", 557, 373, 622, 390), ("a.jpg", "", 10, 20, 110, 50),
                                     ("b.jpg", "", "", "", "", "")], {"a.jpg": (1280, 720), "b.jpg": (640, 480)})
    labels = read_box_labels(csv_path)
    assert labels["b.jpg"] == [] and len(labels["a.jpg"]) == 2
    assert read_box_labels(make(tmp_path / "e", [("a.jpg", "b 21-gsb", 5, 5, 50, 20)], {"a.jpg": (64, 48)})
                           )["a.jpg"][0].text == "B21GSB"
    export_yolo([(csv_path, labels)], tmp_path / "yolo", "train")
    assert (tmp_path / "yolo" / "labels" / "train" / "a.txt").read_text().splitlines()[0] == \
        "0 0.460547 0.529861 0.050781 0.023611"
    back = import_yolo(tmp_path / "yolo", "train")
    for name in labels:
        got = [tuple(round(v, 1) for v in (b.x1, b.y1, b.x2, b.y2)) for b in back[name]]
        assert got == [(b.x1, b.y1, b.x2, b.y2) for b in labels[name]]
    write_box_labels(back, tmp_path / "back.csv")
    rows = list(csv.reader((tmp_path / "back.csv").open()))
    assert rows[1][0] == "a.jpg" and [round(float(v)) for v in rows[1][2:]] == [557, 373, 622, 390]
    assert rows[3] == ["b.jpg", "", "", "", "", ""]
    spec = (write_dataset_yaml(tmp_path / "yolo")).read_text()
    assert "names:\n  0: plate" in spec and "train: images/train" in spec


def test_a_fixed_share_of_training_images_is_written_grey(tmp_path):
    root = tmp_path / "d"
    (root / "images").mkdir(parents=True)
    names = [f"f{i:03d}.png" for i in range(200)]
    for name in names:
        cv2.imwrite(str(root / "images" / name), np.dstack([np.full((8, 8), v, np.uint8) for v in (10, 120, 240)]))
    labels = {n: [] for n in names}
    export_yolo([(root / "labels.csv", labels)], tmp_path / "yolo", "train", gray_share=0.2)
    written = {n: cv2.imread(str(tmp_path / "yolo" / "images" / "train" / n)) for n in names}
    grey = [n for n, im in written.items() if (im[..., 0] == im[..., 2]).all()]
    assert 25 <= len(grey) <= 55 and all(in_share(n, 0.2) for n in grey)
    assert (tmp_path / "yolo" / "images" / "train" / names[0]).is_symlink() != (names[0] in grey)
    assert not any(in_share(n, 0.0) for n in names) and all(in_share(n, 1.0) for n in names)


@pytest.mark.parametrize("rows, message", [
    ([("a.jpg", "", 650, 10, 700, 50)], "row 2: box (650,10,700,50) is outside the 640x480 image a.jpg"),
    ([("a.jpg", "", 10, 10, 10, 50)], "row 2: empty box (10,10,10,50) for a.jpg"),
    ([("a.jpg", "", 1, 1, 5, 5), ("gone.jpg", "", 1, 1, 5, 5)], "row 3: image not found: "),
    ([("a.jpg", "", "x", 1, 5, 5)], "row 2: box values must be numbers"),
])
def test_bad_annotations(tmp_path, rows, message):
    csv_path = make(tmp_path / "d", rows, {"a.jpg": (640, 480)})
    with pytest.raises(UserError) as exc:
        read_box_labels(csv_path)
    assert message in str(exc.value) and str(csv_path) in str(exc.value)


def test_a_box_past_the_edge_is_clipped_with_one_warning(tmp_path):
    from loguru import logger
    lines: list[str] = []
    sink = logger.add(lines.append, level="WARNING", format="{message}")
    try:
        csv_path = make(tmp_path / "d", [("a.jpg", "AB12", 600, 10, 700, 50), ("a.jpg", "CD34", -9, 470, 30, 490),
                                         ("a.jpg", "EF56", -1, 1, 50, 481)], {"a.jpg": (640, 480)})
        boxes = read_box_labels(csv_path)["a.jpg"]
    finally:
        logger.remove(sink)
    assert [(b.x1, b.y1, b.x2, b.y2, b.text) for b in boxes] == [
        (600, 10, 640, 50, "AB12"), (0, 470, 30, 480, "CD34"), (0, 1, 50, 480, "EF56")]
    assert [line.strip() for line in lines] == [
        f"{csv_path}: 2 box(es) reach past their image's edge, clipped to it (rows 2, 3)"]


def test_empty_and_missing_files(tmp_path):
    (tmp_path / "labels.csv").write_text("")
    with pytest.raises(UserError, match="empty file"):
        read_box_labels(tmp_path / "labels.csv")
    with pytest.raises(UserError, match="labels file not found"):
        read_box_labels(tmp_path / "nope.csv")


def test_box_labels_with_a_byte_order_mark(tmp_path):
    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "f.png"), np.zeros((40, 80, 3), np.uint8))
    (tmp_path / "labels.csv").write_bytes("image,plate_text,x1,y1,x2,y2\r\nf.png,AB1,1,2,30,12\r\n".encode("utf-8-sig"))
    (box,) = read_box_labels(tmp_path / "labels.csv")["f.png"]
    assert (box.text, box.x1, box.y2) == ("AB1", 1.0, 12.0)


def test_split_never_straddles_a_ride_block():
    names = [f"{ride}_t{t:05d}.jpg" for ride in ("train_dayride_type1_001", *HOLDOUT_RIDES, TIME_BLOCK_RIDE)
             for t in range(0, 400, 7)]
    held = set(dashcam_holdout(names))
    by_ride: dict[str, list[tuple[int, bool]]] = {}
    for n in names:
        ride, t = ride_of(n)
        by_ride.setdefault(ride, []).append((t, n in held))
    assert all(h for _, h in by_ride[HOLDOUT_RIDES[0]]) and all(h for _, h in by_ride[HOLDOUT_RIDES[1]])
    assert not any(h for _, h in by_ride["train_dayride_type1_001"])
    night = sorted(by_ride[TIME_BLOCK_RIDE])
    first_held = next(i for i, (_, h) in enumerate(night) if h)
    assert all(h for _, h in night[first_held:]) and not any(h for _, h in night[:first_held])  # one time block


def test_export_finds_images_outside_an_images_folder(tmp_path):
    """Images beside labels.csv, or in a folder named in the image column, as the evaluations read them."""
    cv2.imwrite(str(tmp_path / "a.jpg"), np.zeros((48, 64, 3), np.uint8))
    (tmp_path / "pics").mkdir()
    cv2.imwrite(str(tmp_path / "pics" / "b.jpg"), np.zeros((48, 64, 3), np.uint8))
    csv_path = tmp_path / "labels.csv"
    csv_path.write_text("image,plate_text,x1,y1,x2,y2\na.jpg,AB12,8,8,40,20\npics/b.jpg,CD34,8,8,40,20\n")
    labels = read_box_labels(csv_path)
    assert export_yolo([(csv_path, labels)], tmp_path / "yolo", "train", prefix="d__") == 2
    assert sorted(p.name for p in (tmp_path / "yolo" / "images" / "train").iterdir()) == ["d__a.jpg", "d__pics__b.jpg"]
    assert (tmp_path / "yolo" / "labels" / "train" / "d__pics__b.txt").read_text() == "0 0.375000 0.291667 0.500000 0.250000\n"
