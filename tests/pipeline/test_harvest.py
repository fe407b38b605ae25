import csv
import dataclasses
import json
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from ocr.alphabet import Codec, resolve_alphabet
from ocr.data import read_labels
from common.errors import UserError
from pipeline.harvest import Harvested, HarvestSummary, file_review, harvest, main, val_side
from pipeline.sinks import ImageReadsSink, JsonlSink, SqliteSink
from pipeline.types import PlateEvent


def event(i: int, text: str, conf: float, folder: Path) -> PlateEvent:
    crop = np.full((20, 60, 3), i, np.uint8)  # each crop told apart by its grey level
    path = folder / "crops" / f"ev{i}.jpg"
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), crop)
    return PlateEvent(f"ev{i}", "cam", i, text, conf, (conf,) * len(text), (), 3, i, i + 2, float(i), i + 0.5, i,
                      (1.0, 2.0, 3.0, 4.0), "lost", crop_path=str(path))


def rows(part: Path) -> list[tuple[str, str]]:
    if not (part / "labels.csv").is_file():
        return []
    with (part / "labels.csv").open(newline="") as f:
        return sorted((r["image"], r["plate_text"]) for r in csv.DictReader(f))


def store(out: Path, events: list[PlateEvent]) -> None:
    """`events` as a run wrote them to `out/events.db`."""
    with SqliteSink(out / "events.db") as db:
        for e in events:
            db.write(e)


def read_stills(tmp_path: Path, images: dict[str, np.ndarray], runs: list[dict[str, list[dict]]],
                folder: str = "photos", rotate: int = 0) -> Path:
    """Photos in `tmp_path/photos` and the runs that read them (oldest first; image -> its reads) in
    `tmp_path/runs/<folder>`; returns the photos' folder."""
    photos = tmp_path / "photos"
    photos.mkdir()
    for name, img in images.items():
        cv2.imwrite(str(photos / name), img)
    out = tmp_path / "runs" / folder
    out.mkdir(parents=True)
    for run in runs:
        with ImageReadsSink(out, watch_columns=False, rotate=rotate) as sink:
            for name, reads in run.items():
                sink.write(name, reads)
    return photos


# plates on either side of the validation hash at a share of 0.5 (checked by the first test)
TRAIN, VAL = "KL400MN", "AB103CD"


def test_a_plate_falls_on_one_side_for_good():
    assert not val_side(TRAIN, 0.5) and val_side(VAL, 0.5)
    assert val_side("AB1O3CD", 0.3) == val_side("AB103CD", 0.3)  # O and 0 are one plate
    plates = [f"AB{i:03d}CD" for i in range(1000)]
    share = sum(val_side(p, 0.1) for p in plates) / len(plates)
    assert 0.07 < share < 0.13
    assert not any(val_side(p, 0.0) for p in plates) and all(val_side(p, 1.0) for p in plates)


@pytest.fixture
def gate(tmp_path):
    """A camera's output folder: sure and unsure vehicles, one never read, one whose crop was pruned."""
    out = tmp_path / "runs" / "gate"
    out.mkdir(parents=True)
    events = [event(1, TRAIN, 0.999, out), event(2, TRAIN, 0.99, out), event(3, "KL4O0MN", 0.995, out),
              event(4, VAL, 0.992, out), event(5, "QQ555QQ", 0.98, out), event(6, "", 0.0, out),
              event(7, "AB1", 0.999, out), event(8, "ZZ111ZZ", 0.999, out)]
    (out / "crops" / "ev8.jpg").unlink()  # pruned by crops_keep
    store(out, events)
    return tmp_path / "runs"


def test_sure_vehicles_become_labelled_crops_and_the_rest_is_for_review(gate, tmp_path):
    ds = tmp_path / "my_plates"
    s = harvest([gate], ds, val_share=0.5, per_plate=2)
    assert rows(ds / "train") == [("ev1.jpg", TRAIN), ("ev3.jpg", "KL4O0MN")]  # the surest two of one plate (O/0)
    assert rows(ds / "val") == [("ev4.jpg", VAL)]
    assert rows(ds / "review") == [("ev5.jpg", "QQ555QQ"), ("ev6.jpg", ""), ("ev7.jpg", "AB1")]  # unsure, unread, short
    lower = harvest([gate], tmp_path / "lower", val_share=0.5, per_plate=2, min_event_conf=0.9)
    assert lower.written == {"train": 2, "val": 2, "review": 2}  # QQ555QQ (0.98) is sure enough at 0.9
    assert s.written == {"train": 2, "val": 1, "review": 3} and s.over_cap == 1 and s.crop_gone == 1
    assert s.plates == {"train": 1, "val": 1}
    copied = cv2.imread(str(ds / "train" / "images" / "ev3.jpg"), cv2.IMREAD_GRAYSCALE)
    assert abs(int(np.median(copied)) - 3) <= 1  # event 3's own crop
    codec = Codec(resolve_alphabet("latin"))
    assert [s.text for s in read_labels(ds / "train", codec)] == [TRAIN, "KL4O0MN"]  # the OCR's dataset format
    assert [s.text for s in read_labels(ds / "review", codec)] == ["QQ555QQ", "AB1"]  # the unread one waits for a label


def test_a_second_harvest_adds_only_what_is_new(gate, tmp_path):
    ds = tmp_path / "my_plates"
    harvest([gate], ds, val_share=0.5, per_plate=2)
    again = harvest([gate], ds, val_share=0.5, per_plate=2)
    assert again.written == {"train": 0, "val": 0, "review": 0} and again.already == 6
    later = gate / "later"  # a later run of that camera, into a folder of its own
    later.mkdir()
    with JsonlSink(later / "events.jsonl") as js:
        js.write(event(9, TRAIN, 0.999, later))  # the plate already has its two crops
        js.write(event(10, "AB777CD", 0.995, later))
    s = harvest([gate], ds, val_share=0.5, per_plate=2)
    assert s.already == 6 and s.over_cap == 1 + 1  # event 2 again, and event 9
    side = "val" if val_side("AB777CD", 0.5) else "train"
    assert ("ev10.jpg", "AB777CD") in rows(ds / side)
    assert len(rows(ds / "train")) + len(rows(ds / "val")) == 4


def test_earlier_labels_that_are_not_text_are_one_error_line(gate, tmp_path, capsys):
    ds = tmp_path / "my_plates"
    (ds / "train").mkdir(parents=True)
    (ds / "train" / "labels.csv").write_bytes(bytes(range(128, 256)))  # saved by a spreadsheet in another encoding
    assert main([str(gate), "--out", str(ds)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {ds / 'train' / 'labels.csv'}: not a UTF-8 text file (expected CSV image,plate_text): "
                   "byte 0x80 at offset 0"], err


def test_still_images_are_cut_from_their_photos_by_their_boxes(tmp_path):
    img = np.zeros((200, 400, 3), np.uint8)
    img[100:130, 200:300] = 255
    photos = read_stills(tmp_path, {"car.png": img}, [{
        "car.png": [{"box": [200, 100, 300, 130], "text": TRAIN, "confidence": 0.995},
                    {"box": [10, 10, 60, 30], "text": "QQ555QQ", "confidence": 0.9}],
        "gone.png": [{"box": [1, 2, 30, 12], "text": VAL, "confidence": 0.999}]}])
    ds = tmp_path / "ds"
    s = harvest([tmp_path / "runs"], ds, [photos], val_share=0.5, cut=lambda im, box: im[
        int(box[1]):int(box[3]), int(box[0]):int(box[2])])
    assert s.written == {"train": 1, "val": 0, "review": 1} and s.stills_without_images == 1
    (name, text), = rows(ds / "train")
    crop = cv2.imread(str(ds / "train" / "images" / name))
    assert text == TRAIN and crop.shape == (30, 100, 3) and crop.mean() > 250
    assert rows(ds / "review")[0][1] == "QQ555QQ"  # 0.9 is below a still read's 0.99
    none = harvest([tmp_path / "runs"], tmp_path / "ds2", [], val_share=0.5)  # no --images: nothing cut
    assert none.written == {"train": 0, "val": 0, "review": 0} and none.stills_without_images == 3


def test_a_still_the_run_turned_is_cut_from_it_turned_as_its_boxes_are(tmp_path):
    """A camera mounted upside down (`rotate=180`): its photos were read turned, and their boxes are in the turn."""
    img = np.zeros((200, 400, 3), np.uint8)
    img[70:100, 100:200] = 255  # the plate, upside down in the photo: at [200, 100, 300, 130] once turned
    photos = read_stills(tmp_path, {"car.png": img}, [{
        "car.png": [{"box": [200, 100, 300, 130], "text": TRAIN, "confidence": 0.995}]}], rotate=180)
    s = harvest([tmp_path / "runs"], tmp_path / "ds", [photos], val_share=0.5, cut=lambda im, box: im[
        int(box[1]):int(box[3]), int(box[0]):int(box[2])])
    (name, text), = rows(tmp_path / "ds" / "train")
    crop = cv2.imread(str(tmp_path / "ds" / "train" / "images" / name))
    assert s.written["train"] == 1 and text == TRAIN and crop.shape == (30, 100, 3) and crop.mean() > 250


def test_the_pipeline_cuts_a_still_with_its_margin_by_default(tmp_path, capsys):
    photos = read_stills(tmp_path, {"car.png": np.zeros((200, 400, 3), np.uint8)}, [
        {"car.png": [{"box": [200, 100, 300, 130], "text": TRAIN, "confidence": 1.0}]}], folder="p")
    ds = tmp_path / "ds"
    assert main([str(tmp_path / "runs"), "--out", str(ds), "--images", str(photos), "--val-share", "0"]) == 0
    (name, _), = rows(ds / "train")
    h, w = cv2.imread(str(ds / "train" / "images" / name)).shape[:2]
    assert w > 100 and h > 30  # configs/pipeline.yaml's crop_margin around the box
    assert "no plate is on the validation side yet (1 plates)" in capsys.readouterr().err


def test_a_still_cut_onto_a_full_disk_is_one_error_line_naming_the_crop(tmp_path, monkeypatch, capsys):
    photos = read_stills(tmp_path, {"car.png": np.zeros((200, 400, 3), np.uint8)}, [
        {"car.png": [{"box": [200, 100, 300, 130], "text": TRAIN, "confidence": 1.0}]}], folder="p")
    monkeypatch.setattr(cv2, "imwrite", lambda *a: False)  # as cv2 answers on a full disk
    ds = tmp_path / "ds"
    assert main([str(tmp_path / "runs"), "--out", str(ds), "--images", str(photos), "--val-share", "0"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {ds / 'train' / 'images'}/") and err[-1].endswith(
        ".jpg: the image could not be written (a full disk?)"), err
    assert rows(ds / "train") == []  # no row for a crop that is not there


@pytest.mark.parametrize("args, message", [
    (["--min-conf", "99"], "--min-conf must be between 0 and 1, not 99.0"),
    (["--per-plate", "0"], "--per-plate must be at least 1"),
    (["--images", "no/such/photos"], "--images: no such folder: no/such/photos"),
])
def test_bad_options_are_one_error_line(args, message, tmp_path, capsys):
    assert main([str(tmp_path), "--out", str(tmp_path / "ds"), *args]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_missing_folder_is_one_error_line(tmp_path, capsys):
    assert main([str(tmp_path / "nope"), "--out", str(tmp_path / "ds")]) == 2
    assert "no such folder to search" in capsys.readouterr().err


def relabel(review: Path, labels: dict[str, str]) -> None:
    with (review / "labels.csv").open(newline="") as f:
        rs = list(csv.DictReader(f))
    with (review / "labels.csv").open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rs[0]))
        w.writeheader()
        w.writerows({**r, "plate_text": labels.get(r["image"], r["plate_text"])} for r in rs)


def test_reviewed_crops_are_filed_by_their_plate(gate, tmp_path):
    ds = tmp_path / "my_plates"
    harvest([gate], ds, val_share=0.5, per_plate=2)
    relabel(ds / "review", {"ev5.jpg": "KL400MN", "ev6.jpg": "ab-103 cd", "ev7.jpg": ""})  # checked by a person
    assert file_review(ds) == {"train": 1, "val": 1, "left": 1}  # the share the folder was split with (0.5)
    assert rows(ds / "train") == [("ev1.jpg", TRAIN), ("ev3.jpg", "KL4O0MN"), ("ev5.jpg", TRAIN)]
    assert rows(ds / "val") == [("ev4.jpg", VAL), ("ev6.jpg", VAL)]  # AB103CD, as the reader writes it
    assert rows(ds / "review") == [("ev7.jpg", "")]
    assert (ds / "val" / "images" / "ev6.jpg").is_file() and not (ds / "review" / "images" / "ev6.jpg").exists()
    assert file_review(ds) == {"train": 0, "val": 0, "left": 1}


def test_a_reviewed_label_that_is_no_plate_is_one_error(gate, tmp_path):
    ds = tmp_path / "my_plates"
    harvest([gate], ds, val_share=0.5)
    relabel(ds / "review", {"ev5.jpg": "QQ5$5QQ"})
    with pytest.raises(UserError, match=r"review/labels.csv row 2: label 'QQ5\$5QQ' is not letters and digits"):
        file_review(ds)
    assert len(rows(ds / "review")) == 3  # nothing moved


def test_a_review_list_saved_without_its_header_is_one_error(gate, tmp_path):
    ds = tmp_path / "my_plates"
    harvest([gate], ds, val_share=0.5)
    filed = rows(ds / "train") + rows(ds / "val")
    review = ds / "review" / "labels.csv"
    review.write_text("\n".join(review.read_text().splitlines()[1:]) + "\n")  # a spreadsheet saved without it
    with pytest.raises(UserError, match=r"review/labels.csv: missing column\(s\) image, plate_text \(expected CSV "
                                        r"image,plate_text\)"):
        file_review(ds)
    assert rows(ds / "train") + rows(ds / "val") == filed  # nothing filed


def test_a_folder_keeps_the_share_it_was_split_with(gate, tmp_path):
    ds = tmp_path / "my_plates"
    harvest([gate], ds, val_share=0.5)
    with pytest.raises(UserError, match="split with --val-share 0.5"):
        harvest([gate], ds, val_share=0.3)
    assert harvest([gate], ds).already == 7  # no share given: the folder's own, and nothing new
    assert json.loads((ds / "harvest.json").read_text()) == {"val_share": 0.5}


def test_a_filing_cut_short_is_completed_not_repeated(gate, tmp_path):
    ds = tmp_path / "my_plates"
    harvest([gate], ds, val_share=0.5, per_plate=2)
    relabel(ds / "review", {"ev5.jpg": TRAIN, "ev6.jpg": "", "ev7.jpg": ""})
    shutil.copyfile(ds / "review" / "images" / "ev5.jpg", ds / "train" / "images" / "ev5.jpg")  # listed, then a crash
    with (ds / "train" / "labels.csv").open("a", newline="") as f:
        csv.writer(f).writerow(["ev5.jpg", TRAIN, "0.9800", "gate/cam 5.0 s"])
    assert file_review(ds) == {"train": 1, "val": 0, "left": 2}
    assert [r for r in rows(ds / "train") if r[0] == "ev5.jpg"] == [("ev5.jpg", TRAIN)]  # listed once
    assert not (ds / "review" / "images" / "ev5.jpg").exists()


ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_the_bundled_clip_is_harvested_from_its_own_outputs(tmp_path):
    """The real pipeline's outputs: its sure vehicles become labelled crops (the very crops it saved), the rest review."""
    from run_pipeline import main as run

    assert run([str(ROOT / "samples" / "clip.mp4"), f"output_dir={tmp_path / 'out'}"]) == 0
    events = [json.loads(x) for x in (tmp_path / "out" / "clip" / "events.jsonl").read_text().splitlines()]
    ds = tmp_path / "ds"
    s = harvest([tmp_path / "out"], ds)
    sure = sorted(e["event_id"] + ".jpg" for e in events if e["confidence"] >= 0.99 and len(e["text"]) >= 4)
    assert sure and sorted(n for n, _ in rows(ds / "train") + rows(ds / "val")) == sure
    assert s.written["review"] == len(events) - len(sure) and s.crop_gone == 0
    name = sure[0]
    side = "train" if (ds / "train" / "images" / name).is_file() else "val"
    kept = next(e for e in events if e["event_id"] + ".jpg" == name)
    assert (ds / side / "images" / name).read_bytes() == Path(kept["crop_path"]).read_bytes()


def test_an_image_read_by_two_runs_is_harvested_once_with_its_newest_read(tmp_path):
    grey = np.full((200, 400, 3), 128, np.uint8)
    photos = read_stills(tmp_path, {"car.png": grey, "other.png": grey}, [  # three runs, newest last
        {name: [{"box": [200, 100, 300, 130], "text": text, "confidence": 1.0}]}
        for name, text in (("car.png", "XX111XX"), ("car.png", TRAIN), ("other.png", VAL))], folder="p")
    out = tmp_path / "runs" / "p"
    assert (out / "reads.prev1.jsonl").is_file()  # run 2's; run 1's is reads.prev.jsonl
    s = harvest([tmp_path / "runs"], tmp_path / "ds", [photos], val_share=0.0)
    assert sorted(t for _, t in rows(tmp_path / "ds" / "train")) == sorted([TRAIN, VAL])  # car.png: run 2's read
    assert s.written == {"train": 2, "val": 0, "review": 0} and s.already == 0


def test_a_harvest_stopped_half_way_says_so_and_goes_on_when_run_again(gate, tmp_path, monkeypatch, capsys):
    import pipeline.harvest as hv

    ds = tmp_path / "my_plates"
    argv = [str(gate), "--out", str(ds), "--val-share", "0.5", "--per-plate", "2"]
    real, copied = shutil.copyfile, []

    def stop_at_third(src, dst, *args, **kwargs):
        if len(copied) == 2:
            raise KeyboardInterrupt
        copied.append(dst)
        return real(src, dst, *args, **kwargs)

    monkeypatch.setattr(hv.shutil, "copyfile", stop_at_third)
    assert main(argv) == 130
    assert capsys.readouterr().err.strip().splitlines()[-1] == ("interrupted: what was written is kept and listed; "
                                                                "the same command goes on from there")
    monkeypatch.setattr(hv.shutil, "copyfile", real)
    assert main(argv) == 0
    assert rows(ds / "train") == [("ev1.jpg", TRAIN), ("ev3.jpg", "KL4O0MN")] and rows(ds / "val") == [("ev4.jpg", VAL)]
    assert rows(ds / "review") == [("ev5.jpg", "QQ555QQ"), ("ev6.jpg", ""), ("ev7.jpg", "AB1")]


def listed(part: Path) -> list[tuple[str, str, str]]:
    """(image, confidence, source) of each row of a dataset folder's labels.csv, in file order."""
    with (part / "labels.csv").open(newline="") as f:
        return [(r["image"], r["confidence"], r["source"]) for r in csv.DictReader(f)]


def test_each_crop_is_listed_with_how_sure_it_was_and_where_it_was_seen(tmp_path):
    """A live camera's vehicle with its UTC time, one seen at the video's start at 0.0 s, an unread one at 0."""
    out = tmp_path / "runs" / "gate"
    out.mkdir(parents=True)
    live = dataclasses.replace(event(1, TRAIN, 0.995, out), first_seen_utc="2026-12-05T10:00:00Z")
    at_start = dataclasses.replace(event(2, "QQ555QQ", 0.5, out), first_time_s=0.0)
    store(out, [live, at_start, event(3, "", 0.0, out)])
    harvest([tmp_path / "runs"], tmp_path / "ds", val_share=0.0)
    assert listed(tmp_path / "ds" / "train") == [("ev1.jpg", "0.9950", "gate/cam 1.0 s 2026-12-05T10:00:00Z")]
    assert listed(tmp_path / "ds" / "review") == [("ev2.jpg", "0.5000", "gate/cam 0.0 s"),
                                                  ("ev3.jpg", "0.0000", "gate/cam 3.0 s")]


def test_a_still_read_is_named_after_its_image_and_folder_and_kept_as_a_fine_jpeg(tmp_path):
    img = np.random.default_rng(0).integers(0, 256, (200, 400, 3), dtype=np.uint8)
    photos = read_stills(tmp_path, {"car.png": img}, [{
        "car.png": [{"box": [200, 100, 300, 130], "text": TRAIN, "confidence": 1.0},
                    {"box": [10, 10, 60, 30], "text": "QQ555QQ", "confidence": 0.0}]}])
    ds = tmp_path / "ds"

    def cut(im, box):
        return im[int(box[1]):int(box[3]), int(box[0]):int(box[2])]

    harvest([tmp_path / "runs"], ds, [photos], val_share=0.0, cut=cut)
    assert listed(ds / "train") == [("car_6538a1dc_0.jpg", "1.0000", "photos/car.png")]  # sha1("photos/car.png")
    assert listed(ds / "review") == [("car_6538a1dc_1.jpg", "0.0000", "photos/car.png")]
    kept = (ds / "train" / "images" / "car_6538a1dc_0.jpg").read_bytes()
    assert kept == cv2.imencode(".jpg", cut(img, [200, 100, 300, 130]), [cv2.IMWRITE_JPEG_QUALITY, 95])[1].tobytes()


def test_by_default_five_crops_of_a_plate_and_reads_of_four_characters_at_0_99_are_taken(tmp_path):
    """The defaults of `harvest` and of the command alike; the first harvest records the default share, 0.1, in a
    new folder whose parents are made."""
    out = tmp_path / "runs" / "lot"
    out.mkdir(parents=True)
    events = [event(i, TRAIN, 0.999, out) for i in range(1, 8)]
    events += [event(8, "AB12", 0.99, out), event(9, "AB1", 1.0, out), event(10, "CD34", 0.9899, out)]
    store(out, events)
    ds = tmp_path / "a" / "b" / "ds"
    s = harvest([tmp_path / "runs"], ds)
    assert json.loads((ds / "harvest.json").read_text()) == {"val_share": 0.1}
    assert rows(ds / "train") == sorted([(f"ev{i}.jpg", TRAIN) for i in range(1, 6)] + [("ev8.jpg", "AB12")])
    assert rows(ds / "review") == [("ev10.jpg", "CD34"), ("ev9.jpg", "AB1")] and s.over_cap == 2
    assert main([str(tmp_path / "runs"), "--out", str(tmp_path / "cli")]) == 0
    for part in ("train", "review"):
        assert rows(tmp_path / "cli" / part) == rows(ds / part)


def test_the_options_bounds_are_accepted(gate, tmp_path):
    ds = tmp_path / "ds"
    assert main([str(gate), "--out", str(ds), "--per-plate", "1", "--min-conf", "1", "--min-event-conf", "0",
                 "--val-share", "1"]) == 0
    assert rows(ds / "val") == [("ev1.jpg", TRAIN), ("ev4.jpg", VAL), ("ev5.jpg", "QQ555QQ")]
    assert rows(ds / "train") == []


def test_a_harvest_with_nothing_sure_warns_of_nothing_and_its_review_is_filed_into_new_folders(gate, tmp_path, capsys):
    ds = tmp_path / "ds"
    assert main([str(gate), "--out", str(ds), "--min-event-conf", "1", "--val-share", "0.5"]) == 0
    assert "validation side" not in capsys.readouterr().err
    assert not (ds / "train").exists() and not (ds / "val").exists() and len(rows(ds / "review")) == 7
    assert file_review(ds) == {"train": 4, "val": 2, "left": 1}
    assert rows(ds / "train") == [("ev1.jpg", TRAIN), ("ev2.jpg", TRAIN), ("ev3.jpg", "KL4O0MN"), ("ev7.jpg", "AB1")]
    assert rows(ds / "val") == [("ev4.jpg", VAL), ("ev5.jpg", "QQ555QQ")]


def test_the_command_cuts_still_images_as_the_pipeline_cuts_them(gate, tmp_path, monkeypatch):
    import pipeline.harvest as hv
    from pipeline.settings import crop_spec, load_configs

    given = []

    def fake(*args):
        given.append(args[-1])
        return HarvestSummary({"train": 0, "val": 0, "review": 0}, {"train": 0, "val": 0})

    monkeypatch.setattr(hv, "harvest", fake)
    assert main([str(gate), "--out", str(tmp_path / "ds")]) == 0
    cfg = load_configs(str(ROOT / "configs"), []).pipeline
    assert given[0].__self__ == crop_spec(cfg, video=False) != crop_spec(cfg, video=True)


def test_harvest_results_are_frozen():
    s = HarvestSummary({"train": 0}, {"train": 0})
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.already = 1  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        Harvested("a.jpg", "AB12", 1.0, "x").text = "CD34"  # type: ignore[misc]


def test_of_four_runs_reading_one_image_the_newest_read_is_harvested(tmp_path):
    photos = read_stills(tmp_path, {"car.png": np.full((200, 400, 3), 128, np.uint8)}, [
        {"car.png": [{"box": [200, 100, 300, 130], "text": text, "confidence": 1.0}]}
        for text in ("XX111XX", "YY222YY", "ZZ333ZZ", TRAIN)], folder="p")  # oldest first
    out = tmp_path / "runs" / "p"
    assert sorted(p.name for p in out.glob("reads*.jsonl")) == ["reads.jsonl", "reads.prev.jsonl",
                                                                "reads.prev1.jsonl", "reads.prev2.jsonl"]
    harvest([tmp_path / "runs"], tmp_path / "ds", [photos], val_share=0.0)
    assert [t for _, t in rows(tmp_path / "ds" / "train")] == [TRAIN]
