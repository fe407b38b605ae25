"""Where a dataset's plate texts are written, ours or another tool's, read as samples (`ocr/data.py` checks them).

- ours: `images/` + `labels.csv` (`image,plate_text[,x1,y1,x2,y2]`), or images named by their text;
- a CSV naming its columns as another tool does (`ALIASES`): fast-plate-ocr's `image_path,plate_text`
  (annotations.csv), EasyOCR's trainer `filename,words`, a Hugging Face image folder's `file_name,text`;
- a list of `image<TAB>text` lines without a header: PaddleOCR's `rec_gt_train.txt`, deep-text-recognition-
  benchmark's `gt.txt` (an image named relative to the list's folder, or to a folder above it);
- a text file beside each image naming its plates: OpenALPR's benchmarks (`name x y w h TEXT`, a line a plate),
  UFPR-ALPR and SSIG (`plate: ABC-1234`, then `position_plate: x y w h`), RodoSol-ALPR (`plate:`, then
  `corners: x,y x,y x,y x,y`); the plate is cut from the photo by its box.

A dataset is a folder (its labels.csv, else its one label file, else the text files beside its images, else its
images' names) or a label file itself. A folder may hold its own splits (`SPLITS`): a sub-folder each (UFPR-ALPR's
training/ validation/ testing/, the guide's recognition/train ...), or a `split.txt` of `image;split` lines over the
images labelled beside them (RodoSol-ALPR's `./images/cars-br/img_000001.jpg;training`); one is read by its name.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from common.errors import UserError
from common.paths import check_not_archive, read_csv, read_text

from ocr.process import IMAGE_EXTS, dataset_image

YOLO_BOXES = "it holds YOLO boxes, without the plates' text (write them in a labels.csv: image,plate_text)"
ALIASES = {"image": ("image_path", "filename", "file_name", "file", "path"),
           "plate_text": ("text", "label", "words", "plate", "plate_number")}
LIST_SUFFIXES = (".csv", ".txt", ".tsv", ".json")
SPLITS = {"train": ("train", "training"), "val": ("val", "valid", "validation"), "test": ("test", "testing")}
Box = tuple[int, int, int, int]
# what file managers add to a copy's name, never a plate's text: Windows' " (2)" and " - Copy" (and its translations),
# macOS's " copy" and " copy 2", GNOME's " (copy)", " (another copy)", " (3rd copy)"; a browser's " (1)"
COPY_MARK = re.compile(r"(?:\s*\((?:\d+|copy|another copy|\d+(?:st|nd|rd|th) copy)\)"
                       r"|\s+-\s+(?:copy|kopie|copie|copia|cópia|kopio|kopia|kopya)(?:\s*\(\d+\))?"
                       r"|\s+copy(?:\s+\d+)?)$", re.IGNORECASE)


@dataclass(frozen=True)
class Sample:
    """One labelled plate image: its file, its text and, for a whole photo, the plate's box."""
    path: Path
    text: str
    box: Box | None = None  # crop this box out of the image when set
    where: str = field(default="", compare=False)  # its labels file and row, for an error met while loading it


Labelled = list[tuple[Sample, str]]  # samples, each with what is wrong with it ("" when nothing)


def folder_samples(root: Path) -> Labelled:
    """The samples of the dataset `root` (a folder or a label file), with their texts as written."""
    if root.is_file():
        if root.suffix.lower() not in LIST_SUFFIXES:
            check_not_archive(root)
            raise UserError(f"{root} is a file: a dataset is a folder (images/ + labels.csv, or images named by "
                            "their text) or a label file (.csv, .txt, a Label Studio export's .json)")
        return list_samples(root)
    if (root / "labels.csv").is_file():
        return csv_samples(root / "labels.csv")
    lists = label_lists(root)
    if len(lists) > 1:
        raise UserError(f"{root} holds several label files ({', '.join(p.name for p in lists)}): give one of them "
                        "as the dataset")
    if lists:
        return list_samples(lists[0])
    beside = beside_samples(root)
    if beside and (own := own_splits(root)):  # its train, val and test images read as one: a test set trained on
        raise UserError(f"{root} holds its own splits ({', '.join(own)}): name one of them (a data source's split: "
                        "train, val or test; evaluate.py --split)")
    return beside or name_samples(root)


def name_text(stem: str) -> str:
    """A plate's text from its image's name: up to the first `_` (`00004741816_3`), without the marks file managers
    give a copy (`AB123CD (2)`, `AB123CD - Copy`, `AB123CD copy 2`: "AB123CD COPY" would be learnt as ending
    "COPY", its separators dropped)."""
    while (bare := COPY_MARK.sub("", stem)) != stem:  # a copy of a copy: "AB123CD - Copy - Copy"
        stem = bare
    return stem.split("_")[0]


def name_samples(folder: Path) -> Labelled:
    """The images of `folder` named by their text (`00004741816.jpg`, `00004741816_3.jpg`: `name_text`). A
    folder most of whose names hold no digit is a UserError: such names are a camera's or a tool's (`IMG_0001.jpg`,
    `frame_000123.jpg`: "IMG", "FRAME"), not plates', and would be learnt as their text."""
    out = [(Sample(p, name_text(p.stem), None, str(p)), "") for p in sorted(folder.iterdir())
           if p.suffix.lower() in IMAGE_EXTS]
    wordy = [s for s, _ in out if not any(c.isdigit() for c in s.text)]
    if len(wordy) * 2 > len(out):
        raise UserError(f"{folder}: its images' names are not plates' texts ({len(wordy)} of {len(out)} hold no digit: "
                        f"{wordy[0].path.name} would be read as {wordy[0].text!r}): an OCR data set is plate crops "
                        "named by their text (AB123CD.jpg, AB123CD_2.jpg), or images/ + labels.csv")
    return out


def dataset_folder(path: Path) -> Path:
    """The folder of the dataset `path`: itself, or a label file's folder (what split files and reports name it by)."""
    return path.parent if path.is_file() else path


def own_splits(root: Path) -> list[str]:
    """The splits (`SPLITS`' keys) `root` holds: a sub-folder of one of their names, or rows of its split.txt."""
    listed = set(_split_list(root).values()) if (root / "split.txt").is_file() else set()
    return [k for k, names in SPLITS.items() if k in listed or any((root / n).is_dir() for n in names)]


def split_samples(root: Path, split: str) -> Labelled:
    """The samples of `root`'s own `split` (train, val or test): its sub-folder of that name (read as a dataset
    whatever its layout), else its split.txt's images of that split."""
    has = own_splits(root)
    if split not in has:
        raise UserError(f"{root} has no {split} split of its own (a sub-folder {' or '.join(SPLITS[split])}, or a "
                        f"split.txt of image;split lines){'; it has ' + ', '.join(has) if has else ''}")
    sub = next((root / n for n in SPLITS[split] if (root / n).is_dir()), None)
    if sub is not None:
        return folder_samples(sub)
    chosen = {name for name, k in _split_list(root).items() if k == split}
    return [(s, bad) for s, bad in beside_samples(root) if s.path.relative_to(root).as_posix() in chosen]


def _split_list(root: Path) -> dict[str, str]:
    """Image (its path under `root`) -> split, from `root`'s split.txt (`./images/x.jpg;training`)."""
    path = root / "split.txt"
    out = {}
    for n, line in enumerate(read_text(path, "image;split lines").splitlines(), start=1):
        name, _, split = line.strip().rpartition(";")
        key = next((k for k, names in SPLITS.items() if split.strip().lower() in names), None)
        if line.strip() and (not name or key is None):
            raise UserError(f"{path} line {n}: not an image;split line (split: training, validation or testing): "
                            f"{line.strip()!r}")
        if key is not None:
            out[name.strip().removeprefix("./")] = key
    return out


def list_samples(path: Path) -> Labelled:
    """The samples of a label file: a CSV with a header (a .csv always), `image<TAB>text` lines, or a Label Studio
    JSON export (`ocr/label_studio.py`)."""
    if path.suffix.lower() == ".json":
        from ocr.label_studio import label_studio_samples

        return label_studio_samples(path)
    return csv_samples(path) if path.suffix.lower() == ".csv" or _header(path) else tab_samples(path)


def csv_samples(path: Path) -> Labelled:
    """The samples of a CSV `image,plate_text[,x1,y1,x2,y2]` (or its columns under another tool's `ALIASES`)."""
    rows = read_csv(path, "CSV image,plate_text", ("image", "plate_text"), ALIASES)
    out: Labelled = []
    for i, r in enumerate(rows, start=2):
        box, bad = box_of(r)
        where = f"{path} row {i}"
        out.append((Sample(dataset_image(path, r["image"] or ""), r.get("plate_text") or "", box, where), bad))
    return out


def tab_samples(path: Path) -> Labelled:
    """The samples of `image<TAB>text` lines (PaddleOCR, deep-text-recognition-benchmark)."""
    out: Labelled = []
    for n, line in enumerate(read_text(path, "image<TAB>text lines").splitlines(), start=1):
        if not line.strip():
            continue
        parts = line.split("\t")
        name, text = (parts + [""])[:2]
        where = f"{path} line {n}"
        bad = "" if len(parts) == 2 else "not an image<TAB>text line"
        out.append((Sample(_listed_image(path, name.strip()), text, None, where), bad))
    return out


def label_lists(folder: Path) -> list[Path]:
    """The label files in `folder` beside no image of their name: CSVs whose header names an image and a text
    column, lists whose first line is `image<TAB>text`, and Label Studio's JSON exports."""
    from ocr.label_studio import tasks_of

    found = []
    for p in sorted(folder.iterdir()):
        if p.suffix.lower() in LIST_SUFFIXES and p.is_file() and not _beside_image(p):
            if (tasks_of(p) is not None) if p.suffix.lower() == ".json" else (_header(p) or _tab_line(p)):
                found.append(p)
    return found


def beside_samples(folder: Path) -> Labelled:
    """The plates named in the text file beside each image under `folder` (sub-folders too), cut by their boxes."""
    out: Labelled = []
    for image in sorted(folder.rglob("*")):
        txt = image.with_suffix(".txt")
        if image.suffix.lower() in IMAGE_EXTS and txt.is_file():
            out += _plates(txt, image)
    return out


def box_of(row: dict[str, str]) -> tuple[Box | None, str]:
    """A labels row's plate box (None without one) and what is wrong with it ("" when nothing)."""
    values = [row.get(k) for k in ("x1", "y1", "x2", "y2")]
    if all(v in (None, "") for v in values):
        return None, ""
    try:
        x1, y1, x2, y2 = (int(float(v or "")) for v in values)
    except ValueError:
        return None, f"box x1,y1,x2,y2 must be four numbers, not {','.join(v or '' for v in values)}"
    return _checked((x1, y1, x2, y2))


def _checked(box: Box) -> tuple[Box | None, str]:
    x1, y1, x2, y2 = box
    if x2 <= x1 or y2 <= y1:
        return None, f"box {x1},{y1},{x2},{y2} is empty (x2 must exceed x1 and y2 exceed y1)"
    return box, ""


def _plates(txt: Path, image: Path) -> Labelled:
    """The plates a text file beside `image` names: OpenALPR lines, or UFPR / RodoSol `key: value` lines."""
    plates: list[list] = []  # [text, box, what is wrong, where]
    lines = read_text(txt, "a plate's text and box").splitlines()
    for n, line in enumerate(lines, start=1):
        where = f"{txt} line {n}"
        key, colon, value = line.partition(":")
        key = key.strip().lower()
        fields = line.split()
        if colon and key == "plate":
            plates.append([value.strip(), None, "no position_plate or corners line after its plate line", where])
        elif colon and key in ("position_plate", "corners") and plates:
            plates[-1][1:3] = _position(key, value)
            plates[-1][3] = where if plates[-1][2] else plates[-1][3]  # a bad box is said at its own line
        elif not colon and len(fields) == 6 and all(re.fullmatch(r"-?\d+", f) for f in fields[1:5]):
            x, y, w, h = (int(f) for f in fields[1:5])  # OpenALPR: name x y w h TEXT
            plates.append([fields[5], *_checked((x, y, x + w, y + h)), where])
    if not plates and not "".join(lines).strip():  # an empty file: a photo without a plate
        return []
    if not plates:
        yolo = re.fullmatch(r"\d+( [-\d.e]+){4,}", lines[0].strip())
        bad = (YOLO_BOXES if yolo else
               "no plate in it (OpenALPR 'name x y w h TEXT' lines, or 'plate:' and 'position_plate:' lines)")
        return [(Sample(image, "", None, str(txt)), bad)]
    return [(Sample(image, text, box, where), bad) for text, box, bad, where in plates]


def _position(key: str, value: str) -> tuple[Box | None, str]:
    """A box from UFPR's `position_plate: x y w h` or RodoSol's `corners: x,y x,y x,y x,y`."""
    numbers = [int(v) for v in re.findall(r"-?\d+", value)]
    if key == "position_plate" and len(numbers) == 4:
        x, y, w, h = numbers
        return _checked((x, y, x + w, y + h))
    if key == "corners" and len(numbers) >= 8 and len(numbers) % 2 == 0:  # four corners (or more: a polygon)
        xs, ys = numbers[0::2], numbers[1::2]
        return _checked((min(xs), min(ys), max(xs), max(ys)))
    shape = "x y w h" if key == "position_plate" else "x,y x,y x,y x,y"
    return None, f"{key} must be {shape}, not {value.strip()!r}"


def _listed_image(path: Path, name: str) -> Path:
    """An image the list `path` names: beside it (or in its images/), else under a folder above it (PaddleOCR's are
    named from its data_dir); where it was looked for first when it is nowhere."""
    first = dataset_image(path, name)
    if first.is_file():
        return first
    name = name.replace("\\", "/") if "\\" in name and not (path.parent / name).exists() else name  # written on Windows
    return next((p / name for p in path.resolve().parent.parents if (p / name).is_file()), first)


def _beside_image(path: Path) -> bool:
    return any(path.with_suffix(s).is_file() for s in IMAGE_EXTS | {s.upper() for s in IMAGE_EXTS})


def _header(path: Path) -> bool:
    """Whether `path` is a CSV whose header names an image and a text column."""
    try:
        read_csv(path, "", ("image", "plate_text"), ALIASES)
    except UserError:
        return False
    return True


def _tab_line(path: Path) -> bool:
    """Whether the first line of `path` is `image<TAB>text`."""
    try:
        lines = [line for line in read_text(path).splitlines() if line.strip()]
    except UserError:
        return False
    parts = lines[0].split("\t") if lines else []
    return len(parts) == 2 and Path(parts[0].strip()).suffix.lower() in IMAGE_EXTS
