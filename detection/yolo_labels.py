"""Plate boxes from a folder in the YOLO text format, as labelling tools export them.

Read layouts: flat `images/` + `labels/` (Label Studio, one split of a Roboflow export), ultralytics'
`images/<split>/` + `labels/<split>/`, Roboflow's `<split>/images/` + `<split>/labels/`, and CVAT's YOLO 1.1
(`obj_<split>_data/` with each image's `.txt` beside it). Each label line is `class cx cy w h` (normalised; a sixth
value, a confidence, is read past) or `class x1 y1 x2 y2 x3 y3 ...` (a polygon or an oriented box: its bounding box).
Class names come from `data.yaml` / `dataset.yaml`, `classes.txt` or `obj.names`; with several classes the plate is
the class whose name says so (`plate`, `placa`). An image without a label file has no plate.
"""
from __future__ import annotations

from pathlib import Path

import yaml
from loguru import logger

from common.errors import UserError
from common.paths import read_text
from detection.dataset import PlateBox, image_size
from detection.tool_labels import SPLIT_NAMES, chosen_split, images_under, plate_ids

NAME_FILES = ("data.yaml", "dataset.yaml", "data.yml", "classes.txt", "obj.names")
EDGE = 0.01  # how far past 0-1 a normalised value may be (rounding in exports); beyond: pixels, not fractions


def _split_dirs(folder: Path) -> dict[str, tuple[Path, Path]]:
    """split name as found -> (images folder, labels folder) of each split `folder` holds, in the layouts read;
    {"": ...} for a folder of one split."""
    found: dict[str, tuple[Path, Path]] = {}
    images, labels = folder / "images", folder / "labels"
    if images.is_dir() and labels.is_dir():  # images/ alone: not labels (a labels.csv folder without its CSV)
        subs = [p for p in sorted(images.iterdir()) if p.is_dir() and any(p.name in s for s in SPLIT_NAMES.values())]
        if subs:  # ultralytics: images/train, labels/train
            return {p.name: (p, labels / p.name) for p in subs}
        return {"": (images, labels)}
    for names in SPLIT_NAMES.values():
        for name in names:
            if (folder / name / "images").is_dir() and (folder / name / "labels").is_dir():  # Roboflow
                found[name] = (folder / name / "images", folder / name / "labels")
            cvat = folder / f"obj_{name}_data"  # CVAT YOLO 1.1: images and their .txt side by side
            if cvat.is_dir():
                found[name] = (cvat, cvat)
    return found


def holds_yolo(folder: Path) -> bool:
    """Whether `folder` is a YOLO export in one of the layouts read (images/ + labels/, its splits, CVAT's)."""
    return bool(_split_dirs(folder))


def class_names(folder: Path) -> dict[int, str]:
    """Class id -> name from the folder's names file, or its parent's (one split of an export given alone); {} when
    neither has one."""
    for path in (base / name for base in (folder, folder.parent) for name in NAME_FILES):
        if not path.is_file():
            continue
        text = read_text(path, "class names")
        if path.suffix in (".txt", ".names"):
            return {i: n.strip() for i, n in enumerate(text.splitlines()) if n.strip()}
        try:
            spec = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            raise UserError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None
        names = spec.get("names") if isinstance(spec, dict) else None
        if isinstance(names, list):
            return {i: str(n) for i, n in enumerate(names)}
        if isinstance(names, dict):
            try:
                return {int(k): str(v) for k, v in names.items()}
            except (TypeError, ValueError):
                pass
        raise UserError(f"{path}: its 'names' must be a list of class names or a mapping id: name")
    return {}


def plate_classes(folder: Path) -> set[int] | None:
    """The class ids that are plates: every class when the folder names one class or none (None: any id), else
    those whose name says plate; a UserError when none does."""
    return plate_ids(class_names(folder), folder, "classes", "name the plate class 'plate' in its names file")


def from_yolo_lines(lines: list[str], width: int, height: int, classes: set[int] | None = None,
                    where: str = "", seen: set[int] | None = None) -> list[PlateBox]:
    """Pixel boxes of a `width` x `height` image from its YOLO label lines (those of `classes`, or all when None);
    a line that is not one is a UserError naming `where` and the line. The class ids met are added to `seen`."""
    out = []
    for i, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        values = line.split()
        try:
            cls, coords = int(float(values[0])), [float(v) for v in values[1:]]
        except ValueError:
            raise UserError(f"{where} line {i}: not a YOLO label line (class cx cy w h): {line.strip()!r}") from None
        if len(coords) in (4, 5):
            cx, cy, w, h = coords[:4]
            xs, ys = [cx - w / 2, cx + w / 2], [cy - h / 2, cy + h / 2]
        elif len(coords) >= 6 and len(coords) % 2 == 0:  # a polygon, or an oriented box's four corners
            xs, ys = coords[0::2], coords[1::2]
        else:
            raise UserError(f"{where} line {i}: {len(values)} values; a YOLO label line is class cx cy w h, or "
                            f"class x1 y1 x2 y2 x3 y3 ... for a polygon: {line.strip()!r}")
        if min(coords) < -EDGE or max(coords) > 1 + EDGE:  # as ultralytics checks them; a box past the edge: clipped
            raise UserError(f"{where} line {i}: values must be fractions of the image's size (0-1), not pixels: "
                            f"{line.strip()!r}")
        if seen is not None:
            seen.add(cls)
        if classes is not None and cls not in classes:
            continue
        x1, x2 = max(0.0, min(xs)) * width, min(1.0, max(xs)) * width
        y1, y2 = max(0.0, min(ys)) * height, min(1.0, max(ys)) * height
        if x2 <= x1 or y2 <= y1:
            raise UserError(f"{where} line {i}: an empty box: {line.strip()!r}")
        out.append(PlateBox(x1, y1, x2, y2))
    return out


def read_yolo_folder(folder: str | Path, splits: tuple[str, ...] = ()) -> dict[str, list[PlateBox]]:
    """Image (its path under `folder`) -> plate boxes, from the first of `splits` ("train", "val", "test") that the
    folder holds; a folder of one split is read whole. A UserError when it holds none of them."""
    root = Path(folder)
    dirs = _split_dirs(root)
    dirs = chosen_split(root, dirs, splits, "YOLO", "no labels in it: neither a labels.csv nor YOLO labels (images/ "
                        "and labels/ folders) nor Pascal VOC (.xml) nor COCO (.json)")
    classes = plate_classes(root)
    out: dict[str, list[PlateBox]] = {}
    seen: set[int] = set()
    for images, labels in dirs.values():
        for img in images_under(images):
            txt = (labels / img.relative_to(images)).with_suffix(".txt")  # the image's own path under labels/
            lines = read_text(txt, "YOLO labels").splitlines() if txt.is_file() else []
            w, h = image_size(img)
            out[img.relative_to(root).as_posix()] = from_yolo_lines(lines, w, h, classes, str(txt), seen)
    if classes is None and len(seen) > 1:  # no names file to tell the plates from the rest
        raise UserError(f"{root}: its labels hold classes {', '.join(map(str, sorted(seen)))} and no names file "
                        f"(data.yaml, classes.txt, obj.names) says which is the plate")
    if not out:
        raise UserError(f"{root}: no images in its {', '.join(str(d[0].relative_to(root)) for d in dirs.values())}")
    return out
