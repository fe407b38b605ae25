import csv
import zlib

import cv2
import numpy as np
import pytest

from common.errors import UserError
from detection.dataset import (PlateBox, add_unboxed, export_yolo, in_share, listed_images, read_box_labels,
                               split_labels, to_yolo_lines, write_box_labels, write_dataset_yaml)
from detection.yolo_labels import from_yolo_lines, read_yolo_folder
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
    back = {k.rsplit("/", 1)[1]: v for k, v in read_yolo_folder(tmp_path / "yolo", ("train",)).items()}
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
    *[([("a.jpg", "", *box)], f"row 2: box ({','.join(map(str, box))}) is outside the 640x480 image a.jpg")
      for box in [(-10, 10, 0, 50), (10, -10, 50, 0), (640, 10, 700, 50), (10, 480, 50, 500)]],  # touching it
    ([("a.jpg", "", 10, 10, 10, 50)], "row 2: empty box (10,10,10,50) for a.jpg"),
    ([("a.jpg", "", 10, 50, 60, 50)], "row 2: empty box (10,50,60,50) for a.jpg"),  # no height
    ([("a.jpg", "", 1, 1, 5, 5), ("gone.jpg", "", 1, 1, 5, 5)], "row 3: image not found: "),
    ([("a.jpg", "", "x", 1, 5, 5)], "row 2: box values must be numbers"),
])
def test_bad_annotations(tmp_path, rows, message):
    csv_path = make(tmp_path / "d", rows, {"a.jpg": (640, 480)})
    with pytest.raises(UserError) as exc:
        read_box_labels(csv_path)
    assert message in str(exc.value) and str(csv_path) in str(exc.value)


def test_a_box_past_the_edge_is_clipped_with_one_warning(tmp_path, logged):
    csv_path = make(tmp_path / "d", [("a.jpg", "AB12", 600, 10, 700, 50), ("a.jpg", "CD34", -9, 470, 30, 490),
                                     ("a.jpg", "EF56", -1, 1, 50, 481)], {"a.jpg": (640, 480)})
    lines, labels = logged(lambda: read_box_labels(csv_path), "WARNING")
    boxes = labels["a.jpg"]
    assert [(b.x1, b.y1, b.x2, b.y2, b.text) for b in boxes] == [
        (600, 10, 640, 50, "AB12"), (0, 470, 30, 480, "CD34"), (0, 1, 50, 480, "EF56")]
    assert lines == [
        ("WARNING", f"{csv_path}: 2 box(es) reach past their image's edge, clipped to it (rows 2, 3)")]


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


def test_a_box_up_to_2_px_past_the_edge_is_clipped_silently_beyond_it_with_the_rows_named(tmp_path, logged):
    rows = [("a.jpg", "", -2, -2, 642, 482), ("a.jpg", "", -1, 10, 1, 50), ("a.jpg", "", 10, -1, 50, 1),
            ("a.jpg", "", -2.5, 10, 50, 50), ("a.jpg", "", 10, -2.5, 50, 50), ("a.jpg", "", 600, 10, 642.5, 50),
            ("a.jpg", "", 10, 400, 50, 482.5)]
    csv_path = make(tmp_path / "d", rows, {"a.jpg": (640, 480)})
    said, labels = logged(lambda: read_box_labels(csv_path), "WARNING")
    assert [(b.x1, b.y1, b.x2, b.y2) for b in labels["a.jpg"]] == [
        (0, 0, 640, 480), (0, 10, 1, 50), (10, 0, 50, 1), (0, 10, 50, 50), (10, 0, 50, 50), (600, 10, 640, 50),
        (10, 400, 50, 480)]
    assert said == [
        ("WARNING", f"{csv_path}: 4 box(es) reach past their image's edge, clipped to it (rows 5, 6, 7, 8)")]


@pytest.mark.parametrize("n, rows", [(1, "row 2"), (5, "rows 2, 3, 4, 5, 6"), (6, "rows 2, 3, 4, 5, 6, ...")])
def test_the_clipped_rows_named_are_at_most_five(tmp_path, n, rows, logged):
    csv_path = make(tmp_path / "d", [("a.jpg", "", -5, 10, 50, 50)] * n, {"a.jpg": (640, 480)})
    said, _ = logged(lambda: read_box_labels(csv_path), "WARNING")
    assert said == [("WARNING", f"{csv_path}: {n} box(es) reach past their image's edge, clipped to it ({rows})")]


def test_labels_read_without_their_images_are_kept_as_given(tmp_path):
    (tmp_path / "extra.csv").write_text("image,x1,y1,x2,y2\ngone.jpg,-9,-9,5000,20\n")
    (box,) = read_box_labels(tmp_path / "extra.csv", check_images=False)["gone.jpg"]
    assert (box.x1, box.y1, box.x2, box.y2, box.text) == (-9, -9, 5000, 20, "")
    with pytest.raises(AttributeError):
        box.x1 = 0  # type: ignore[misc]


def test_a_missing_generated_set_says_how_to_draw_it(tmp_path):
    with pytest.raises(UserError, match=r"labels file not found: .* \(a generated set: bash bench/make_sets.sh"):
        read_box_labels(tmp_path / "data_gen" / "scenes" / "labels.csv")
    with pytest.raises(UserError) as exc:
        read_box_labels(tmp_path / "mine" / "labels.csv")
    assert str(exc.value) == f"labels file not found: {tmp_path / 'mine' / 'labels.csv'}"


def test_unboxed_plates_are_added_once_without_text_to_labelled_images_only():
    a, b = PlateBox(1, 2, 30, 12, "AB12"), PlateBox(40, 2, 70, 12)
    got = add_unboxed({"f.jpg": [a], "g.jpg": []}, {"f.jpg": [PlateBox(1, 2, 30, 12), b], "h.jpg": [b]})
    assert got == {"f.jpg": [a, b], "g.jpg": []}


def test_a_split_file_lists_the_images_of_the_labels_folder_by_its_name(tmp_path):
    (tmp_path / "split.csv").write_text("dataset,image\ndashcam,a.jpg\nother,b.jpg\ndashcam,c.jpg\n")
    assert listed_images(tmp_path / "dashcam" / "labels.csv", tmp_path / "split.csv") == {"a.jpg", "c.jpg"}


def test_held_out_images_go_to_validation_the_rest_to_training():
    labels = {"a.jpg": [], "b.jpg": [], "c.jpg": []}
    assert split_labels(labels, {"b.jpg", "x.jpg"}) == ({"a.jpg": [], "c.jpg": []}, {"b.jpg": []})


def test_files_are_written_into_folders_not_made_yet_and_written_again_over_the_last(tmp_path):
    csv_path = make(tmp_path / "d", [("a.jpg", "AB12", 8, 8, 40, 20)], {"a.jpg": (64, 48)})
    labels = read_box_labels(csv_path)
    out = tmp_path / "new" / "yolo"
    assert export_yolo([(csv_path, labels)], out, "train", link=False) == 1  # a copy
    assert not (out / "images" / "train" / "a.jpg").is_symlink()
    assert export_yolo([(csv_path, labels)], out, "train") == 1  # over it: a link, by default
    assert (out / "images" / "train" / "a.jpg").is_symlink()
    write_box_labels(labels, tmp_path / "x" / "y" / "labels.csv")
    assert read_box_labels(tmp_path / "x" / "y" / "labels.csv", check_images=False) == labels


def test_a_grey_jpeg_is_written_at_quality_95(tmp_path):
    from ocr.process import greyscale

    img = np.random.default_rng(0).integers(0, 256, (48, 64, 3), dtype=np.uint8)
    csv_path = make(tmp_path / "d", [("a.jpg", "", "", "", "", "")], {})
    cv2.imwrite(str(tmp_path / "d" / "images" / "a.jpg"), img)
    export_yolo([(csv_path, read_box_labels(csv_path))], tmp_path / "yolo", "train", gray_share=1.0)
    src = cv2.imread(str(tmp_path / "d" / "images" / "a.jpg"))
    assert (tmp_path / "yolo" / "images" / "train" / "a.jpg").read_bytes() == cv2.imencode(
        ".jpg", greyscale(src), [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def test_yolo_lines_clip_to_the_image_and_extra_columns_are_read_past():
    assert to_yolo_lines([PlateBox(-5, -5, 50, 20), PlateBox(60, 40, 120, 60)], 100, 50) == [
        "0 0.250000 0.200000 0.500000 0.400000", "0 0.800000 0.900000 0.400000 0.200000"]
    boxes = from_yolo_lines(["0 0.5 0.5 0.2 0.1 0.87", "", "0 0.25 0.2 0.5 0.4"], 100, 50)  # a confidence column
    assert [(round(b.x1, 3), round(b.y1, 3), round(b.x2, 3), round(b.y2, 3)) for b in boxes] == [
        (40, 22.5, 60, 27.5), (0, 0, 50, 20)]


def test_the_dataset_yaml_is_ultralytics_layout_in_order(tmp_path):
    assert write_dataset_yaml(tmp_path, ("train", "val", "test")).read_text() == (
        f"path: {tmp_path.resolve()}\ntrain: images/train\nval: images/val\ntest: images/test\nnames:\n  0: plate\n")


def test_a_name_whose_hash_is_0_is_in_no_share_of_0():
    assert zlib.crc32(b"f13117.jpg") % 10_000 == 0 and not in_share("f13117.jpg", 0.0) and in_share("f13117.jpg", 1e-4)


def test_images_the_trainer_does_not_list_are_written_for_it_as_png(tmp_path):
    """A browser's .jfif JPEG and a machine-vision camera's .pgm are read as images, but ultralytics' trainer lists
    neither: each is written as a PNG the trainer takes, its boxes under the PNG's name; a .jpg stays a link."""
    from PIL import Image
    from ultralytics.data.utils import IMG_FORMATS

    root = tmp_path / "d"
    (root / "images").mkdir(parents=True)
    cv2.imwrite(str(root / "images" / "a.jpg"), np.full((48, 64, 3), 90, np.uint8))
    (root / "images" / "b.jfif").write_bytes((root / "images" / "a.jpg").read_bytes())
    cv2.imwrite(str(root / "images" / "c.pgm"), np.full((40, 80), 200, np.uint8))
    csv_path = make(root, [("a.jpg", "", 8, 8, 40, 20), ("b.jfif", "", 8, 8, 40, 20), ("c.pgm", "", 0, 0, 40, 20)],
                    {})
    assert export_yolo([(csv_path, read_box_labels(csv_path))], tmp_path / "yolo", "train") == 3
    images = tmp_path / "yolo" / "images" / "train"
    assert sorted(p.name for p in images.iterdir()) == ["a.jpg", "b.png", "c.png"]
    assert (images / "a.jpg").is_symlink() and not (images / "b.png").is_symlink()
    for p in images.iterdir():
        assert p.suffix[1:] in IMG_FORMATS and Image.open(p).format.lower() in IMG_FORMATS
    grey = cv2.imread(str(images / "c.png"))
    assert grey.shape == (40, 80, 3) and int(grey[0, 0, 0]) == 200
    assert (tmp_path / "yolo" / "labels" / "train" / "c.txt").read_text() == "0 0.250000 0.250000 0.500000 0.500000\n"
