"""Plate boxes from a folder in the COCO JSON format, as labelling tools export them.

Read layouts: Roboflow's "COCO JSON" (`train/`, `valid/`, `test/`, each its images and `_annotations.coco.json`),
CVAT's "COCO 1.0" (`annotations/instances_default.json` beside `images/`), Label Studio's (`result.json` beside
`images/`) and COCO's own (`annotations/instances_<split>.json` beside the split's image folder). A file is COCO when
it holds `images` and `annotations` lists; its split is its folder's name, else a split's name in its own name
(`instances_val2017.json`); an image is looked for by its `file_name` beside the file, under `images/` there or at
the top, or in the split's folder. An image listed without annotations has no plate. With several categories the
plates are those whose name says so (`plate`, `licence`, `placa`).
"""
from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from common.errors import UserError
from common.paths import read_json
from detection.dataset import PlateBox, image_size
from detection.tool_labels import SPLIT_NAMES, chosen_split, pixel_box, plate_ids

SPLIT_WORDS = {n: n for names in SPLIT_NAMES.values() for n in names}


def _coco(path: Path) -> dict[str, Any] | None:
    """The file's JSON when it is a COCO annotation file, else None (a JSON of something else, or not JSON)."""
    data = read_json(path)
    ok = isinstance(data, dict) and isinstance(data.get("images"), list) and isinstance(data.get("annotations"), list)
    return data if ok else None


def _split_of(path: Path, root: Path) -> str:
    """A COCO file's split: its folder's name when that is one (Roboflow's), else a split's name in its own name."""
    if path.parent != root and path.parent.name.lower() in SPLIT_WORDS:
        return path.parent.name
    words = re.split(r"[^a-z]+", path.stem.lower())
    return next((w for w in words if w in SPLIT_WORDS), "")


def coco_files(folder: Path) -> dict[str, list[Path]]:
    """split name as found -> the COCO files of that split in `folder`, its `annotations/` or its split folders
    ({"": ...} for those of no split); {} when there are none."""
    places = [folder, folder / "annotations", *(folder / n for n in SPLIT_WORDS)]
    found: dict[str, list[Path]] = {}
    for place in (p for p in places if p.is_dir()):
        for path in sorted(place.glob("*.json")):
            if _coco(path) is not None:
                found.setdefault(_split_of(path, folder), []).append(path)
    if "" in found and len(found) > 1:  # a file of no split beside split files: CVAT's "default" among them
        found.pop("")
    return found


def holds_coco(folder: Path) -> bool:
    """Whether `folder` holds COCO annotation files in one of the layouts read."""
    return bool(coco_files(folder))


def _bases(path: Path, root: Path, split: str) -> tuple[Path, ...]:
    """The folders a COCO file's images are looked for in (its split's image folder: COCO's own `val2017/`)."""
    named = sorted(d for d in root.iterdir() if split and d.is_dir() and d.name.lower().startswith(split.lower()))
    return (path.parent, path.parent / "images", root, root / "images", root / "images" / split, *named)


def _image_path(path: Path, bases: tuple[Path, ...], root: Path, file_name: str) -> Path:
    name = file_name.replace("\\", "/")
    found = next((b / name for b in bases if (b / name).is_file()), None)
    if found is None:
        found = next((b / Path(name).name for b in bases if (b / Path(name).name).is_file()), None)
    if found is None:
        raise UserError(f"{path}: its image {file_name} is not beside it, in images/ or in {root}")
    return found


Box = tuple[float, float, float, float]


def _boxes(path: Path, data: dict[str, Any], plates: set[Any] | None) -> dict[Any, list[Box]]:
    """image id -> (x1, y1, x2, y2) of each plate annotated on it."""
    out: dict[Any, list[Box]] = {}
    for i, ann in enumerate(data["annotations"], start=1):
        try:
            x, y, w, h = (float(v) for v in ann["bbox"])
            image_id, category = ann["image_id"], ann.get("category_id")
        except (KeyError, TypeError, ValueError):
            raise UserError(f"{path}: annotation {i} has no bbox [x, y, width, height] of numbers and "
                            f"image_id") from None
        if plates is None or category in plates:
            out.setdefault(image_id, []).append((x, y, x + w, y + h))
    return out


def _plates(path: Path, data: dict[str, Any]) -> set[Any] | None:
    """The plate categories' ids: None (any) with one category or none, else those whose name says plate."""
    names: dict[Any, str] = {c.get("id"): str(c.get("name", "")) for c in data.get("categories") or []
                             if isinstance(c, dict)}
    return plate_ids(names, path, "categories", "name the plates 'plate'")


def read_coco_folder(folder: str | Path, splits: tuple[str, ...] = ()) -> dict[str, list[PlateBox]]:
    """Image (its path under `folder`) -> plate boxes, from the first of `splits` ("train", "val", "test") that the
    folder holds; a folder of one split is read whole. A UserError when it holds none of them."""
    root = Path(folder)
    found = chosen_split(root, coco_files(root), splits, "COCO",
                         "no COCO annotation file (a .json of images and annotations) in it")
    out: dict[str, list[PlateBox]] = {}
    for split, paths in found.items():
        for path in paths:
            data = _coco(path) or {}
            boxes = _boxes(path, data, _plates(path, data))
            bases = _bases(path, root, split)  # looked for once per file, not per image
            for entry in data["images"]:
                try:
                    image_id, file_name = entry["id"], str(entry["file_name"])
                except (KeyError, TypeError):
                    raise UserError(f"{path}: an image without id and file_name: {str(entry)[:80]}") from None
                img = _image_path(path, bases, root, file_name)
                w, h = image_size(img) if boxes.get(image_id) else (0, 0)
                out[img.relative_to(root).as_posix()] = [pixel_box(x1, y1, x2, y2, w, h, f"{path}, image {file_name}")
                                                         for x1, y1, x2, y2 in boxes.get(image_id, [])]
    return out
