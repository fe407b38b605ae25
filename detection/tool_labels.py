"""What the readers of labelling tools' exports (`yolo_labels`, `voc_labels`, `coco_labels`) share: the splits'
names, which classes are plates, the images of a folder and a box in pixels."""
from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeVar

from loguru import logger

from common.errors import UserError
from detection.dataset import PlateBox
from ocr.process import IMAGE_EXTS

SPLIT_NAMES = {"train": ("train",), "val": ("val", "valid", "validation"), "test": ("test",)}
PLATE_WORDS = ("plate", "placa", "licen")  # a class name that says plate (License-Plate, placa, Kaggle's licence)

K = TypeVar("K")
T = TypeVar("T")


def images_under(folder: Path) -> list[Path]:
    """The images in `folder` and the folders below it (CVAT keeps a task's sub-folders), sorted by path."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_EXTS)


def chosen_split(root: Path, found: dict[str, T], splits: tuple[str, ...], kind: str, none: str) -> dict[str, T]:
    """Of the splits an export `found` (name as found -> what it holds; {"": ...} for a folder of one split, kept
    whole), the first of `splits` ("train", "val", "test") under any of its names; a UserError when it holds none
    (`none` says what was looked for when it holds no labels of the `kind` at all)."""
    if not found:
        raise UserError(f"{root}: {none}")
    if "" in found:
        return found
    chosen = next((n for s in splits for n in SPLIT_NAMES[s] if n in found), None)
    if chosen is None:
        raise UserError(f"{root}: no {' or '.join(splits) or 'split'} images in it (it has {', '.join(found)})")
    logger.info(f"{root}: {kind} labels, its {chosen} split")
    return {chosen: found[chosen]}


def plate_ids(names: Mapping[K, str], where: object, what: str, fix: str) -> set[K] | None:
    """Of the classes `names` (id -> name), those that are plates: every one when there is one class or none
    (None: any id), else those whose name says plate; a UserError naming `where`, its `what` and how to `fix` it
    when none does."""
    if len(names) <= 1:
        return None
    plates = {i for i, n in names.items() if any(w in n.lower() for w in PLATE_WORDS)}
    if not plates:
        shown = ", ".join(n if i == n else f"{i}: {n}" for i, n in sorted(names.items(), key=lambda kv: str(kv[0])))
        raise UserError(f"{where}: none of its {what} ({shown}) is named as a plate; {fix}")
    return plates


def pixel_box(x1: float, y1: float, x2: float, y2: float, width: int, height: int, where: str) -> PlateBox:
    """A box in pixels cut to the `width` x `height` image (exports round past its edges); an empty one is a
    UserError naming `where`."""
    box = PlateBox(max(0.0, x1), max(0.0, y1), min(float(width), x2), min(float(height), y2))
    if box.x2 <= box.x1 or box.y2 <= box.y1:
        raise UserError(f"{where}: an empty box ({x1:g},{y1:g},{x2:g},{y2:g}) in the {width}x{height} image")
    return box
