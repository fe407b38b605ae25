"""common.paths: the shipped configs' relative paths work from any working directory; outputs written whole."""
import json
from pathlib import Path

import pytest

from common.paths import ROOT, find


def test_find_prefers_the_working_directory_then_the_project_root(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find("configs/pipeline.yaml") == ROOT / "configs" / "pipeline.yaml"  # not here: the project's
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "pipeline.yaml").write_text("stride: 1\n")
    assert find("configs/pipeline.yaml") == Path("configs/pipeline.yaml")  # the user's own comes first
    assert find("nowhere/x.pth") == Path("nowhere/x.pth")  # missing everywhere: as given, for the error
    assert find(tmp_path / "y") == tmp_path / "y"  # absolute: as given


@pytest.mark.parametrize("message, hinted", [
    ("checkpoint not found: weights/ocr_latin.pth", True),  # a shipped path, as the configs name it
    ("config file not found: configs/pipeline.yaml", True),
    ("no source given, and the bundled samples/ are not beside this install", True),
    ("checkpoint not found: /data/weights/mine.pth", False),  # the user's own paths
    ("checkpoint not found: my_weights/mine.pth", False),
    ("checkpoint not found: ./weights/mine.pth", False),
    ("video not found: clip.mp4", False),
])
def test_a_missing_shipped_file_says_the_install_holds_the_code_only(tmp_path, monkeypatch, message, hinted):
    """Installed with `pip install .`, the code sits in site-packages without weights/, configs/ or samples/."""
    import common.paths
    from common.cli import error_line
    from common.errors import UserError

    assert common.paths.code_only_hint(message) == message  # this checkout: the shipped folders are here
    monkeypatch.setattr(common.paths, "ROOT", tmp_path)  # site-packages: the packages alone
    expected = f"{message} ({common.paths.CODE_ONLY})" if hinted else message
    assert common.paths.code_only_hint(message) == expected
    assert error_line(UserError(message)) == f"error: {expected}"
    missing = FileNotFoundError(2, "No such file or directory", "weights/detector.pt")  # opened where it is not
    assert error_line(missing) == f"error: weights/detector.pt: No such file or directory ({common.paths.CODE_ONLY})"
    (tmp_path / "weights").mkdir()
    assert common.paths.code_only_hint(message) == expected  # weights/ alone is not the project
    (tmp_path / "configs").mkdir()
    assert common.paths.code_only_hint(message) == message  # both beside the code again


@pytest.mark.skipif(not (ROOT / "weights" / "detector.pt").is_file(), reason="no detector shipped")
def test_run_pipeline_from_another_folder(tmp_path, monkeypatch):
    """The configs name weights/detector.pt, weights/ocr_latin.pth: run from elsewhere, they are the project's."""
    from run_pipeline import main

    monkeypatch.chdir(tmp_path)
    assert main([str(ROOT / "samples" / "stills" / "images"), "output_dir=out"]) == 0
    reads = [json.loads(x) for x in (tmp_path / "out" / "images" / "reads.jsonl").read_text().splitlines()]
    assert len(reads) == 3 and all(r["reads"] for r in reads)


def test_ocr_evaluate_from_another_folder(tmp_path, monkeypatch):
    from ocr.evaluate import main

    monkeypatch.chdir(tmp_path)
    data = tmp_path / "d"
    (data / "images").mkdir(parents=True)
    import shutil

    shutil.copy(ROOT / "samples" / "plates" / "042WAG_1.jpg", data / "images" / "a.jpg")
    (data / "labels.csv").write_text("image,plate_text\na.jpg,042WAG\n")
    assert main(["--weights", "weights/ocr_latin.pth", "--data", str(data), "--json", "r.json"]) == 0
    assert json.loads((tmp_path / "r.json").read_text())["n"] == 1


def test_a_labels_csv_named_relative_to_the_project_finds_its_images_from_another_folder(tmp_path, monkeypatch):
    """detection/train.py's folders (../shared/data/..., data_gen/...) are read by their labels.csv, and the images
    beside it must be found from the same place (it reported the first image missing)."""
    from detection.dataset import read_box_labels
    from ocr.process import dataset_image

    monkeypatch.chdir(tmp_path)
    labels = read_box_labels("samples/stills/labels.csv")
    name = next(iter(labels))
    assert dataset_image("samples/stills/labels.csv", name) == ROOT / "samples" / "stills" / "images" / name


@pytest.mark.parametrize("text", [
    "image,plate_text\r\na.jpg,AB123\r\nb.jpg,\"CD 45\"\r\n",  # Windows line ends, a quoted field
    "\ufeffImage;Plate_Text\na.jpg;AB123\nb.jpg;CD 45\n",  # a spreadsheet's export where the comma is decimal
    " IMAGE \t plate_text\na.jpg\tAB123\nb.jpg\tCD 45\n",  # tabs, names in capitals and spaced
])
def test_a_labels_csv_is_read_whatever_its_separator_and_its_header_case(text, tmp_path):
    from common.paths import read_csv

    (tmp_path / "labels.csv").write_text(text, encoding="utf-8")
    rows = [(r["image"], r["plate_text"]) for r in read_csv(tmp_path / "labels.csv", "", ("image", "plate_text"))]
    assert rows == [("a.jpg", "AB123"), ("b.jpg", "CD 45")]


def test_a_header_found_under_no_separator_names_what_it_lacks(tmp_path):
    from common.errors import UserError
    from common.paths import read_csv

    (tmp_path / "labels.csv").write_text("image|plate_text\na.jpg|AB123\n")
    with pytest.raises(UserError, match=r"labels.csv: missing column\(s\) image, plate_text \(expected CSV x\)$"):
        read_csv(tmp_path / "labels.csv", "CSV x", ("image", "plate_text"))


def test_written_whole_replaces_its_output_only_once_made_and_leaves_no_partial_file(tmp_path):
    from common.paths import written_whole

    out = tmp_path / "model.onnx"
    out.write_bytes(b"before")
    seen = []

    def make(part: Path) -> None:
        seen.append(part.name)
        part.write_bytes(b"after")

    assert written_whole(out, make) == out and out.read_bytes() == b"after"
    assert seen == ["model.partial.onnx"]  # the suffix kept: writers tell the format by it

    def fails_half_way(part: Path) -> None:
        part.write_bytes(b"half")
        raise ValueError("calibration failed")

    def fails_at_once(part: Path) -> None:
        raise ValueError("nothing written")

    for make_it in (fails_half_way, fails_at_once):  # its own error, the output before kept, no partial file left
        with pytest.raises(ValueError):
            written_whole(out, make_it)
        assert out.read_bytes() == b"after" and sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_fresh_output_refuses_a_folder_holding_a_set(tmp_path):
    from common.errors import UserError
    from common.paths import fresh_output

    assert fresh_output(tmp_path / "new") == tmp_path / "new"
    (tmp_path / "labels.csv").write_text("image,plate_text\n")
    with pytest.raises(UserError, match=r"already holds a set \(labels.csv\): give another --out, or delete it first"):
        fresh_output(tmp_path)


@pytest.mark.parametrize("name, unpack", [
    ("plates.zip", "python -m zipfile -e {d}/plates.zip {d}/plates"),
    ("night.TAR.GZ", "python -m tarfile -e {d}/night.TAR.GZ {d}/night"),
    ("a.tgz", "python -m tarfile -e {d}/a.tgz {d}/a"),
    ("set.7z", "7z x {d}/set.7z -o{d}/set"), ("set.rar", "unrar x {d}/set.rar {d}/set/"),
    (".zip", "python -m zipfile -e {d}/.zip {d}/unpacked"),
])
def test_an_archive_given_for_data_says_how_to_unpack_it(tmp_path, name, unpack):
    import zipfile

    from common.errors import UserError
    from common.paths import check_not_archive, read_text
    from detection.dataset import folder_labels
    from ocr.data import read_labels
    from pipeline.sources import open_source

    path = tmp_path / name
    with zipfile.ZipFile(path, "w") as z:  # stored JPEGs: FFmpeg read them as a video's frames
        z.writestr("plates/AB123.jpg", (ROOT / "samples" / "plates" / "RXP7820_0.jpg").read_bytes())
    said = f"{path} is an archive: unpack it first ({unpack.format(d=tmp_path)}) and give the folder"
    for call in (lambda: check_not_archive(path), lambda: read_text(path), lambda: open_source(str(path)),
                 lambda: read_labels(path), lambda: folder_labels(path / "labels.csv")):
        with pytest.raises(UserError) as exc:
            call()
        assert str(exc.value) == said


def test_a_folder_of_an_archive_says_how_to_unpack_it(tmp_path):
    """Footage downloaded into a folder as its zip: the folder has no media, and the zip is the reason."""
    from common.errors import UserError
    from pipeline.sources import open_source

    (tmp_path / "dl").mkdir()
    (tmp_path / "dl" / "notes.txt").write_text("night of the 5th")
    (tmp_path / "dl" / "night.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    with pytest.raises(UserError, match=r"night\.zip is an archive: unpack it first \(python -m zipfile -e "):
        open_source(str(tmp_path / "dl"))


def test_other_files_are_no_archives(tmp_path):
    from common.errors import UserError
    from common.paths import check_not_archive
    from detection.dataset import folder_labels

    for name in ("clip.mp4", "zip", "a.zip.mp4", "labels.csv"):
        check_not_archive(tmp_path / name)
    (tmp_path / "a.jpg").write_bytes(b"")
    with pytest.raises(UserError, match=r"a\.jpg is a file: the detector's data is a folder of images with their "
                                        r"labels$"):
        folder_labels(tmp_path / "a.jpg" / "labels.csv")
