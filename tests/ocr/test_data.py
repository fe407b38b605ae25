import csv
import datetime
import re
from collections import Counter
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from ocr.alphabet import Codec
from ocr.data import build_dataset, read_labels

DIG = Codec("0123456789")
LATIN = Codec("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def make_folder(root, rows, images=None):
    (root / "images").mkdir(parents=True)
    for name in images if images is not None else [r[0] for r in rows]:
        cv2.imwrite(str(root / "images" / name), np.full((20, 60, 3), 128, np.uint8))
    with (root / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "plate_text"])
        w.writerows(rows)
    return root


def test_labels_csv(tmp_path):
    root = make_folder(tmp_path / "d", [("a.png", "123"), ("b.png", ""), ("c.png", "45")])
    samples = read_labels(root, DIG)
    assert [(s.path.name, s.text) for s in samples] == [("a.png", "123"), ("c.png", "45")]


def test_labels_csv_with_the_images_beside_it(tmp_path):
    root = tmp_path / "d"
    root.mkdir()
    cv2.imwrite(str(root / "a.png"), np.full((20, 60, 3), 128, np.uint8))
    (root / "labels.csv").write_text("image,plate_text\na.png,123\n")
    assert [(s.path, s.text) for s in read_labels(root, DIG)] == [(root / "a.png", "123")]


def test_image_names_written_in_another_case_as_windows_lets_them_be_are_found(tmp_path):
    """A data set labelled on Windows or macOS, whose disks do not tell cases apart: labels.csv's Car1.JPG is
    images/car1.jpg; where two files differ only in case, neither is guessed."""
    root = make_folder(tmp_path / "d", [("Car1.JPG", "AB123"), ("images/car2.PNG", "CD456")], images=["car1.jpg"])
    cv2.imwrite(str(root / "images" / "Car2.png"), np.zeros((10, 30, 3), np.uint8))
    assert [(s.path.relative_to(root).as_posix(), s.text) for s in read_labels(root, LATIN)] == [
        ("images/car1.jpg", "AB123"), ("images/Car2.png", "CD456")]
    cv2.imwrite(str(root / "images" / "CAR1.jpg"), np.zeros((10, 30, 3), np.uint8))  # now two of that name
    with pytest.raises(UserError, match=re.escape(f"image not found: {root / 'images' / 'Car1.JPG'}")):
        read_labels(root, LATIN)


def test_labels_saved_by_a_spreadsheet_with_a_byte_order_mark_and_crlf(tmp_path):
    root = make_folder(tmp_path / "d", [], images=["a.png"])
    (root / "labels.csv").write_bytes("image,plate_text\r\na.png,123\r\n".encode("utf-8-sig"))
    assert [(s.path.name, s.text) for s in read_labels(root, DIG)] == [("a.png", "123")]


def test_labels_saved_as_unicode_text_by_a_spreadsheet_or_notepad(tmp_path):
    """Excel's "Unicode Text" is UTF-16 LE with its mark and tabs; Notepad's "Unicode big endian" is UTF-16 BE."""
    root = make_folder(tmp_path / "d", [], images=["a.png", "b.png"])
    (root / "labels.csv").write_bytes("image\tplate_text\r\na.png\t123\r\nb.png\t45\r\n".encode("utf-16"))
    assert [(s.path.name, s.text) for s in read_labels(root, DIG)] == [("a.png", "123"), ("b.png", "45")]
    (root / "labels.csv").write_bytes(b"\xfe\xff" + "image,plate_text\na.png,678\n".encode("utf-16-be"))
    assert [(s.path.name, s.text) for s in read_labels(root, DIG)] == [("a.png", "678")]
    (root / "labels.csv").write_bytes("image,plate_text\na.png,9\n".encode("utf-16-le"))  # no mark: not guessed
    with pytest.raises(UserError, match=r"labels.csv: not a UTF-8 text file .*byte 0x00 at offset 1"):
        read_labels(root, DIG)


def test_a_folder_of_a_cameras_photos_is_not_read_as_plates_named_by_their_text(tmp_path):
    """IMG_0001.jpg would be a plate 'IMG': a folder most of whose names hold no digit is refused; a vanity plate
    among plates is a plate."""
    latin = Codec("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for name in ("IMG_0001.jpg", "IMG_0002.jpg", "AB123CD.jpg"):
        cv2.imwrite(str(tmp_path / name), np.zeros((10, 30, 3), np.uint8))
    with pytest.raises(UserError, match=re.escape(f"{tmp_path}: its images' names are not plates' texts (2 of 3 hold "
                                                  "no digit: IMG_0001.jpg would be read as 'IMG'): an OCR data set is "
                                                  "plate crops named by their text")):
        read_labels(tmp_path, latin)
    (tmp_path / "IMG_0002.jpg").rename(tmp_path / "KMH306_1.jpg")  # one of three without a digit: a vanity plate
    assert [s.text for s in read_labels(tmp_path, latin)] == ["AB123CD", "IMG", "KMH306"]
    (tmp_path / "KMH306_1.jpg").rename(tmp_path / "LOVE.jpg")  # two of four: half, not most
    cv2.imwrite(str(tmp_path / "B58DTK.jpg"), np.zeros((10, 30, 3), np.uint8))
    assert len(read_labels(tmp_path, latin)) == 4


@pytest.mark.parametrize("stem, text", [
    ("AB123CD (2)", "AB123CD"), ("AB123CD(1)", "AB123CD"), ("AB123CD - Copy", "AB123CD"),
    ("AB123CD - Copy (3)", "AB123CD"), ("AB123CD - Kopie", "AB123CD"), ("AB123CD - Cópia", "AB123CD"),
    ("AB123CD copy", "AB123CD"), ("AB123CD copy 2", "AB123CD"), ("AB123CD (copy)", "AB123CD"),
    ("AB123CD (another copy)", "AB123CD"), ("AB123CD (3rd copy)", "AB123CD"), ("AB123CD - Copy - Copy", "AB123CD"),
    ("00004741816_3 (2)", "00004741816"), ("AB 123 CD", "AB 123 CD"), ("AB-123", "AB-123"),
    ("COPY123", "COPY123"), ("AB123 COPYX", "AB123 COPYX"), ("AB123CD 2", "AB123CD 2"),
])
def test_a_file_managers_copy_of_a_crop_is_its_plates_text(stem, text):
    """Windows' "AB123CD - Copy.jpg" was learnt as the plate AB123CDCOPY (its separators dropped), its " (2)" refused
    as outside the alphabet; a name's own spaces and dashes stay for the label's reading to drop."""
    from ocr.label_files import name_text

    assert name_text(stem) == text


def test_copies_in_a_folder_of_crops_named_by_their_text_are_their_plates(tmp_path):
    latin = Codec("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    for name in ("AB123CD.jpg", "AB123CD - Copy.jpg", "AB123CD (2).jpg", "KMH306 copy.png"):
        cv2.imwrite(str(tmp_path / name), np.zeros((10, 30, 3), np.uint8))
    assert sorted(s.text for s in read_labels(tmp_path, latin)) == ["AB123CD"] * 3 + ["KMH306"]


def test_labels_written_with_separators_or_lower_case(tmp_path):
    root = make_folder(tmp_path / "d", [("a.png", "ab-12 3"), ("b.png", "kmh.306")])
    assert [s.text for s in read_labels(root, Codec("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))] == ["AB123", "KMH306"]
    (tmp_path / "f").mkdir()
    cv2.imwrite(str(tmp_path / "f" / "abc-123_2.png"), np.zeros((10, 30, 3), np.uint8))
    assert [s.text for s in read_labels(tmp_path / "f")] == ["ABC123"]


def test_labels_typed_on_a_cyrillic_or_greek_keyboard_are_the_latin_plates_they_print(tmp_path):
    root = make_folder(tmp_path / "d", [("a.png", "А123ВС"), ("b.png", "ΗΡΧ1234")])
    assert [s.text for s in read_labels(root, Codec("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"))] == ["A123BC", "HPX1234"]
    assert [s.text for s in read_labels(root, Codec("0123456789АВСΗΡΧ"))] == ["А123ВС", "ΗΡΧ1234"]  # read as typed


def test_label_outside_alphabet_names_file_and_row(tmp_path):
    root = make_folder(tmp_path / "d", [("a.png", "123"), ("b.png", "12A")])
    with pytest.raises(UserError) as exc:
        read_labels(root, DIG)
    assert str(exc.value) == (f"{root / 'labels.csv'} row 3: label '12A' has characters outside the alphabet: 'A'")
    assert [s.text for s in read_labels(root, DIG, skip_bad=True)] == ["123"]


def test_missing_image_names_file_and_row(tmp_path):
    root = make_folder(tmp_path / "d", [("a.png", "123"), ("gone.png", "45")], images=["a.png"])
    with pytest.raises(UserError, match=r"labels.csv row 3: image not found: .*gone.png"):
        read_labels(root, DIG)


@pytest.mark.parametrize("box, says", [
    ("abc,0,10,10", "box x1,y1,x2,y2 must be four numbers, not abc,0,10,10"),
    ("1,0,,10", "box x1,y1,x2,y2 must be four numbers, not 1,0,,10"),
    ("10,0,5,10", "box 10,0,5,10 is empty (x2 must exceed x1 and y2 exceed y1)"),
    ("10,0,10,10", "box 10,0,10,10 is empty (x2 must exceed x1 and y2 exceed y1)"),  # no width
    ("0,5,10,5", "box 0,5,10,5 is empty (x2 must exceed x1 and y2 exceed y1)"),      # no height
])
def test_a_bad_plate_box_names_file_and_row(box, says, tmp_path):
    root = make_folder(tmp_path / "d", [], images=["a.png", "b.png"])
    (root / "labels.csv").write_text(f"image,plate_text,x1,y1,x2,y2\na.png,123,0,0,60,20\nb.png,45,{box}\n")
    with pytest.raises(UserError) as exc:
        read_labels(root, DIG)
    assert str(exc.value) == f"{root / 'labels.csv'} row 3: {says}"
    samples = read_labels(root, DIG, skip_bad=True)
    assert [(s.text, s.box) for s in samples] == [("123", (0, 0, 60, 20))]


def test_a_split_file_of_other_folders_leaves_nothing_out_and_says_so(tmp_path, logged):
    root = make_folder(tmp_path / "renamed", [("a.png", "123"), ("b.png", "45")])
    split = tmp_path / "hold.csv"
    split.write_text("dataset,image\ncrops,a.png\n")  # the folder was called crops when the split was made
    said, ds = logged(lambda: build_dataset(({"path": str(root), "split_file": str(split), "split": "train"},), DIG,
                                            64, 200, mixed=False), "WARNING")
    assert [s.text for s in ds.sources[0].samples] == ["123", "45"]
    assert said == [("WARNING", f"{root}: the split file {split} lists images of the folders crops, none of a folder "
                                f"'renamed' (split files name a folder by its name): none of its images is left out")]
    with pytest.raises(UserError, match="none of a folder 'renamed'"):
        build_dataset(({"path": str(root), "split_file": str(split), "split": "holdout"},), DIG, 64, 200, mixed=False)


def test_a_file_that_is_no_image_names_file_and_row(tmp_path):
    """An empty file, or another kind of file under an image's name, is said when the labels are read, not by a
    data-loading worker epochs later; with skip_bad it is counted and left out."""
    root = make_folder(tmp_path / "d", [("a.png", "123"), ("b.jpg", "45"), ("c.png", "67")], images=["a.png"])
    (root / "images" / "b.jpg").write_bytes(b"")
    (root / "images" / "c.png").write_text("plate_text\n67\n")
    with pytest.raises(UserError) as exc:
        read_labels(root, DIG)
    assert str(exc.value) == (f"{root / 'labels.csv'} row 3: cannot read image (corrupt or unsupported format): "
                              f"{root / 'images' / 'b.jpg'}")
    ds = build_dataset(({"path": str(root), "skip_bad": True},), DIG, 64, 200, mixed=False)
    assert [s.text for s in ds.sources[0].samples] == ["123"] and len(ds.sources[0].skipped) == 2


def test_an_image_damaged_past_its_header_is_one_error_line_from_a_worker(tiny_cfg, tmp_path, capfd, no_gc_pauses):
    """A file that begins as a PNG but is cut short passes the cheap check; the data-loading worker that meets it
    raises, and the training run ends with the worker's one line, not its traceback, its workers ended with it (they
    lived on, to be waited for 5 s at a later collection of the heap)."""
    import dataclasses
    import multiprocessing

    import yaml

    from common.config import config_to_dict
    from ocr.train import main

    root = make_folder(tmp_path / "d", [("a.png", "123"), ("b.png", "45")])
    (root / "images" / "b.png").write_bytes((root / "images" / "b.png").read_bytes()[:20])  # the header alone
    build_dataset(({"path": str(root)},), DIG, 64, 200, mixed=False)  # passes: damaged past the header
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(config_to_dict(dataclasses.replace(
        tiny_cfg, train=({"path": str(root)},), samples_per_epoch=8, batch_size=2, num_workers=1))))
    assert main(["--config", str(cfg)]) == 2
    assert multiprocessing.active_children() == []
    err = capfd.readouterr().err.strip().splitlines()  # after the progress bar (OpenCV's own lines are off)
    assert err[-1] == (f"error: {root / 'labels.csv'} row 3: cannot read image (corrupt or unsupported format): "
                       f"{root / 'images' / 'b.png'}"), err
    assert not any("Traceback" in line or "readHeader" in line for line in err), err


def test_file_name_labels(tmp_path):
    for name in ("00004741816.jpg", "00004741816_3.jpg", "12345678901_1.png"):
        cv2.imwrite(str(tmp_path / name), np.zeros((10, 30, 3), np.uint8))
    assert [s.text for s in read_labels(tmp_path, DIG)] == ["00004741816", "00004741816", "12345678901"]


def test_file_name_labels_of_other_image_endings(tmp_path):
    """A browser's .jfif JPEG, a machine-vision camera's .pgm / .ppm, a traffic camera's JPEG 2000 and AVIF crops."""
    img = np.zeros((40, 120, 3), np.uint8)
    for name in ("11111111111.ppm", "22222222222.pgm", "33333333333.jp2", "44444444444.avif"):
        assert cv2.imwrite(str(tmp_path / name), img[..., 0] if name.endswith(".pgm") else img)
    (tmp_path / "55555555555.jfif").write_bytes(cv2.imencode(".jpg", img)[1].tobytes())
    assert [s.text for s in read_labels(tmp_path, DIG)] == [f"{d}" * 11 for d in "12345"]


def test_a_folder_without_labels_says_what_a_dataset_is(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(UserError, match=r"no labelled images in .*empty \(a dataset is images/ \+ labels\.csv, or "
                                        r"images named by their text, or another tool's labels: "
                                        r"ocr/label_files\.py\)$"):
        read_labels(tmp_path / "empty")
    (tmp_path / "d" / "images").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "d" / "images" / "a.png"), np.zeros((10, 30, 3), np.uint8))
    with pytest.raises(UserError, match=r"no labelled images in .*d \(no labels\.csv beside .*images\)$"):
        read_labels(tmp_path / "d")
    for split in ("train", "val"):  # the guide's recognition/{train,val}: the folder above them given
        make_folder(tmp_path / "recognition" / split, [("a.png", "1")])
    with pytest.raises(UserError, match=r"no labelled images in .*recognition \(it holds the datasets train, val: "
                                        r"give one of them\)$"):
        read_labels(tmp_path / "recognition")
    (tmp_path / "recognition" / "test" / "images").mkdir(parents=True)  # images/ alone: a dataset too, unlabelled
    with pytest.raises(UserError, match=r"\(it holds the datasets test, train, val: give one of them\)$"):
        read_labels(tmp_path / "recognition")
    boxes = "it holds a detector's boxes, an annotations/ folder or .xml / .json files, which carry no plate's text"
    (tmp_path / "d" / "annotations").mkdir()  # Kaggle's car plate set: images/ + annotations/ (Pascal VOC)
    with pytest.raises(UserError, match=re.escape(f"no labelled images in {tmp_path / 'd'} ({boxes}: the OCR learns")):
        read_labels(tmp_path / "d")
    (tmp_path / "rf" / "train").mkdir(parents=True)  # Roboflow's COCO export: train/_annotations.coco.json
    (tmp_path / "rf" / "train" / "_annotations.coco.json").write_text('{"images": [], "annotations": []}')
    with pytest.raises(UserError, match=re.escape(f"({boxes}: ")):
        read_labels(tmp_path / "rf")


def test_split_file(tmp_path):
    root = make_folder(tmp_path / "crops", [("a.png", "1"), ("b.png", "2"), ("c.png", "3")])
    split = tmp_path / "split.csv"
    split.write_text("dataset,image\ncrops,b.png\nother,a.png\n")
    spec = {"path": str(root), "split_file": str(split)}
    hold = build_dataset(({**spec, "split": "holdout"},), DIG, 64, 200, mixed=False)
    train = build_dataset(({**spec, "split": "train"},), DIG, 64, 200, mixed=False)
    assert [s.text for s in hold.sources[0].samples] == ["2"]
    assert [s.text for s in train.sources[0].samples] == ["1", "3"]
    split2 = tmp_path / "val.csv"
    split2.write_text("dataset,image\ncrops,c.png\n")
    both = build_dataset(({**spec, "split_file": [str(split), str(split2)], "split": "train"},), DIG, 64, 200, mixed=False)
    assert [s.text for s in both.sources[0].samples] == ["1"]  # listed in either file: left out of train
    every = build_dataset(({**spec, "split": "all"},), DIG, 64, 200, mixed=False)  # the file given, not used
    assert [s.text for s in every.sources[0].samples] == ["1", "2", "3"]
    with pytest.raises(UserError, match="has no train split of its own"):  # no file: the folder's own split, none
        build_dataset(({"path": str(root), "split": "train"},), DIG, 64, 200, mixed=False)


def test_a_boxed_plate_is_cut_with_a_margin_fixed_for_reading_and_drawn_for_training(tmp_path):
    from ocr.data import Sample, load_crop

    cv2.imwrite(str(tmp_path / "s.png"), np.zeros((100, 200, 3), np.uint8))
    sample = Sample(tmp_path / "s.png", "12", (50, 40, 150, 60))  # 100 x 20
    assert load_crop(sample).shape == (62 - 37, 156 - 44, 3)  # 6 % of the width each side, 12 % of the height
    assert load_crop(Sample(sample.path, "12", (0, 0, 100, 20))).shape == (22, 106, 3)  # cut at the image's edge
    from ocr.data import SourceDataset

    (tmp_path / "images").mkdir()
    cv2.imwrite(str(tmp_path / "images" / "s.png"), np.zeros((100, 200, 3), np.uint8))
    (tmp_path / "labels.csv").write_text("image,plate_text,x1,y1,x2,y2\ns.png,12,50,40,150,60\n")
    plain = SourceDataset({"path": str(tmp_path), "augment": "none"}, DIG)  # not augmented: the fixed margin too
    assert plain.get(0, np.random.default_rng(0))[0].shape == (25, 112, 3)
    shapes = {load_crop(sample, np.random.default_rng(i)).shape[:2] for i in range(40)}
    # drawn for training: each side up to 15 % of the width and 30 % of the height
    assert len(shapes) > 10 and all(20 <= h <= 32 and 100 <= w <= 130 for h, w in shapes)
    assert max(h for h, _ in shapes) > 26 and max(w for _, w in shapes) > 112  # past the fixed margin


def test_evaluation_walks_every_sample_of_every_source_once_in_order(tmp_path):
    a = make_folder(tmp_path / "a", [("a.png", "1"), ("b.png", "2")])
    b = make_folder(tmp_path / "b", [("c.png", "3"), ("d.png", "4"), ("e.png", "5")])
    c = make_folder(tmp_path / "c", [("f.png", "6")])
    ds = build_dataset(({"path": str(a)}, {"path": str(b)}, {"path": str(c)}), DIG, 64, 200, mixed=False)
    assert [ds[i][2] for i in range(len(ds))] == ["1", "2", "3", "4", "5", "6"]


def test_a_bad_row_of_a_source_stops_the_run_unless_it_asks_to_skip(tmp_path):
    root = make_folder(tmp_path / "d", [("a.png", "12"), ("b.png", "1X")])
    with pytest.raises(UserError, match=r"labels.csv row 3: label '1X' has characters outside the alphabet"):
        build_dataset(({"path": str(root)},), DIG, 64, 200)
    assert build_dataset(({"path": str(root), "skip_bad": True},), DIG, 64, 200).sources[0].size == 1


def test_min_box_width_leaves_out_small_plates(tmp_path):
    root = tmp_path / "scenes"
    (root / "images").mkdir(parents=True)
    cv2.imwrite(str(root / "images" / "s.jpg"), np.full((100, 300, 3), 128, np.uint8))
    (root / "labels.csv").write_text("image,plate_text,x1,y1,x2,y2\ns.jpg,12,0,0,40,10\ns.jpg,345,50,0,150,30\n"
                                     "s.jpg,678,100,60,150,90\n")  # 50 px wide, 30 high
    spec = {"path": str(root), "min_box_width": 60}
    assert [s.text for s in build_dataset((spec,), DIG, 64, 200, mixed=False).sources[0].samples] == ["345"]
    exactly = build_dataset(({**spec, "min_box_width": 100},), DIG, 64, 200, mixed=False)  # 100 px: as wide as asked
    assert [s.text for s in exactly.sources[0].samples] == ["345"]
    with pytest.raises(UserError, match="no plate is at least min_box_width=200 px wide"):
        build_dataset(({**spec, "min_box_width": 200},), DIG, 64, 200, mixed=False)


def test_mixing_follows_weights(tmp_path):
    a = make_folder(tmp_path / "a", [("a.png", "1")])
    b = make_folder(tmp_path / "b", [("b.png", "2")])
    ds = build_dataset(({"path": str(a), "weight": 0.8}, {"path": str(b), "weight": 0.2}), DIG, 64, 200,
                       length=500)
    assert len(ds) == 500
    counts = Counter(ds[i][2] for i in range(500))
    assert 360 <= counts["1"] <= 440 and counts["1"] + counts["2"] == 500
    ds = build_dataset(({"path": str(a), "weight": 4}, {"path": str(b), "weight": 1}), DIG, 64, 200)  # 4 : 1 too
    assert len(ds) == 2  # no length given: every sample once
    assert 360 <= Counter(ds[i][2] for i in range(500))["1"] <= 440
    x, y, text = ds[0]
    assert x.shape == (3, 64, 200) and float(x.min()) >= -1 and float(x.max()) <= 1
    assert y.tolist() == DIG.encode(text)


@pytest.mark.parametrize("spec, message", [
    ({"path": "x", "wieght": 1}, "unknown key(s) ['wieght'] (did you mean 'weight' for 'wieght'?)"),
    ({"synth": "digits", "weight": -1}, "weight must be a number over 0, not -1"),
    ({"synth": "digits", "weight": "abc"}, "weight must be a number over 0, not 'abc'"),
    ({"synth": "digits", "size": 0}, "size must be a number over 0, not 0"),
    ({"path": "samples/digits", "min_box_width": "wide"}, "min_box_width must be a number over 0, not 'wide'"),
    ({"weight": 1}, "needs 'path' or 'synth'"),
    ({"path": "/nonexistent/plates"}, "dataset folder not found: /nonexistent/plates"),
    ({"path": "samples/clip.mp4"}, "samples/clip.mp4 is a file: a dataset is a folder"),
    ({"path": "data_gen/never_drawn"},
     "dataset folder not found: data_gen/never_drawn (draw the generated sets: bash bench/make_sets.sh train val)"),
    ({"path": "my_plates"}, "dataset folder not found: my_plates (your plates: python -m pipeline.harvest --out "
                            "my_plates writes it, or copy configs/ocr_finetune.yaml and name your own folder)"),
    ({"synth": "digits", "augment": "extreme"}, "augment must be one of none, medium, heavy, ir, far, motion, interlaced, not 'extreme'"),
    ({"synth": "mars=1"}, "unknown synthetic layout 'mars'"),
    ({"path": None}, "path must be a folder or a label file, not None"),  # YAML `path:` left empty
    ({"path": ["a", "b"]}, "path must be a folder or a label file, not ['a', 'b']"),
    ({"path": 2024}, "dataset folder not found: 2024"),  # a folder named by a year: YAML's number, its text
    ({"path": datetime.date(2026, 12, 1)}, "dataset folder not found: 2026-12-01"),
    ({"path": "samples/digits", "split_file": 5, "split": "train"}, "split file not found: 5"),
    ({"path": "samples/digits", "split_file": [None], "split": "train"},
     "split_file must be a file or a list of files, not None"),
])
def test_bad_sources(spec, message, monkeypatch):
    monkeypatch.chdir(Path(__file__).resolve().parents[2])
    with pytest.raises(UserError) as exc:
        build_dataset((spec,), DIG, 64, 200)
    assert message in str(exc.value)


def test_a_synthetic_source_drawing_characters_outside_the_alphabet_is_refused():
    with pytest.raises(UserError) as exc:
        build_dataset(({"synth": "digits"},), Codec("ABC"), 64, 200)
    assert str(exc.value) == ("data source synth: digits: its plates have characters outside the alphabet 'ABC': "
                              "'0123456789'")
    with pytest.raises(UserError, match="synth: us: its plates have characters outside the alphabet '0123456789': "
                                        "'ABCDEFGHIJKLMNOPQRSTUVWXYZ'"):
        build_dataset(({"synth": "us"},), DIG, 64, 200)
    assert len(build_dataset(({"synth": "digits11=1,us=0", "size": 5},), DIG, 64, 200, mixed=False)) == 5


def test_skip_bad_rows_are_counted(tmp_path):
    root = make_folder(tmp_path / "d", [("a.png", "123"), ("b.png", "1#2"), ("c.png", "4B")])
    ds = build_dataset(({"path": str(root), "skip_bad": True},), DIG, 64, 200, mixed=False)
    assert len(ds) == 1
    assert ds.sources[0].skipped == [
        f"{root / 'labels.csv'} row 3: label '1#2' has characters outside the alphabet: '#'",
        f"{root / 'labels.csv'} row 4: label '4B' has characters outside the alphabet: 'B'"]


def test_skip_bad_counts_in_file_name_folders(tmp_path):
    for name in ("00004741816.jpg", "12A45.jpg"):
        cv2.imwrite(str(tmp_path / name), np.zeros((10, 30, 3), np.uint8))
    ds = build_dataset(({"path": str(tmp_path), "skip_bad": True},), DIG, 64, 200, mixed=False)
    assert [s.text for s in ds.sources[0].samples] == ["00004741816"]
    assert ds.sources[0].skipped == [f"{tmp_path / '12A45.jpg'}: label '12A45' has characters outside the alphabet: 'A'"]
