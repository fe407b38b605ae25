"""Plate boxes from a folder in the Pascal VOC XML format, as labelling tools save and export them.

Read layouts: each image's `.xml` beside it (LabelImg's default; Roboflow's "Pascal VOC" export, whose `train/`,
`valid/`, `test/` each hold images and their XML), and `Annotations/` (or `annotations/`) beside `JPEGImages/` or
`images/` (VOC itself, CVAT's "PASCAL VOC 1.1" export, Kaggle's car plate set), whose `ImageSets/Main/<split>.txt`
lists name the splits. An image's XML is the one of the same name; an image without one has no plate. With several
object names the plates are those whose name says so (`plate`, `licence`, `placa`).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from common.errors import UserError
from common.paths import read_text
from detection.dataset import PlateBox, image_size
from detection.tool_labels import SPLIT_NAMES, chosen_split, images_under, pixel_box, plate_ids

ANNOTATION_DIRS = ("Annotations", "annotations")
IMAGE_DIRS = ("JPEGImages", "images")


def _annotations(folder: Path) -> Path | None:
    return next((folder / n for n in ANNOTATION_DIRS if (folder / n).is_dir() and any((folder / n).rglob("*.xml"))),
                None)


def _pairs(folder: Path) -> dict[str, list[tuple[Path, Path]]]:
    """split name as found -> (image, its XML, which may not be there) of each split `folder` holds; {"": ...} for
    a folder of one split; {} when it holds no VOC labels."""
    found: dict[str, list[tuple[Path, Path]]] = {}
    for name in (n for names in SPLIT_NAMES.values() for n in names):  # Roboflow: train/ valid/ test/
        if (folder / name).is_dir() and any((folder / name).rglob("*.xml")):
            found[name] = [(img, img.with_suffix(".xml")) for img in images_under(folder / name)]
    if found:
        return found
    ann = _annotations(folder)
    if ann is None:  # LabelImg: each image's XML beside it
        images = images_under(folder)
        return {"": [(img, img.with_suffix(".xml")) for img in images]} if any(
            img.with_suffix(".xml").is_file() for img in images) else {}
    image_dir = next((folder / n for n in IMAGE_DIRS if (folder / n).is_dir()), folder)
    pairs = [(img, ann / img.relative_to(image_dir).with_suffix(".xml")) for img in images_under(image_dir)]
    lists = folder / "ImageSets" / "Main"
    for name in (n for names in SPLIT_NAMES.values() for n in names):
        listed = lists / f"{name}.txt"
        if listed.is_file():  # VOC's own split lists: one image name (no ending) a line
            stems = {line.split()[0] for line in read_text(listed, "image names").splitlines() if line.strip()}
            found[name] = [(img, xml) for img, xml in pairs if img.relative_to(image_dir).with_suffix("").as_posix()
                           in stems]
    return found or {"": pairs}


def holds_voc(folder: Path) -> bool:
    """Whether `folder` holds Pascal VOC labels in one of the layouts read."""
    return bool(_pairs(folder))


def read_voc_xml(path: Path) -> list[tuple[str, float, float, float, float]]:
    """(object name, x1, y1, x2, y2) of each object in a VOC XML file; one UserError naming the file for one that is
    not one."""
    try:
        root = ET.fromstring(read_text(path, "a Pascal VOC annotation"))
    except ET.ParseError as exc:
        raise UserError(f"{path}: not valid XML ({exc})") from None
    if root.tag != "annotation":
        raise UserError(f"{path}: not a Pascal VOC annotation (its root is <{root.tag}>, not <annotation>)")
    out = []
    for i, obj in enumerate(root.iter("object"), start=1):
        bb = obj.find("bndbox")
        try:
            x1, y1, x2, y2 = (float(bb.findtext(k, "")) for k in ("xmin", "ymin", "xmax", "ymax"))  # type: ignore
        except (AttributeError, ValueError):
            raise UserError(f"{path}: object {i} has no <bndbox> of numbers xmin, ymin, xmax, ymax") from None
        out.append(((obj.findtext("name") or "").strip(), x1, y1, x2, y2))
    return out


def read_voc_folder(folder: str | Path, splits: tuple[str, ...] = ()) -> dict[str, list[PlateBox]]:
    """Image (its path under `folder`) -> plate boxes, from the first of `splits` ("train", "val", "test") that the
    folder holds; a folder of one split is read whole. A UserError when it holds none of them."""
    root = Path(folder)
    by_split = chosen_split(root, _pairs(root), splits, "Pascal VOC",
                            "no Pascal VOC labels (an .xml beside each image, or Annotations/) in it")
    objects = {img: (xml, read_voc_xml(xml) if xml.is_file() else []) for pairs in by_split.values()
               for img, xml in pairs}
    names = {name: name for _, objs in objects.values() for name, *_ in objs}
    plates = plate_ids(names, root, "object names", "name the plates 'plate'")
    out: dict[str, list[PlateBox]] = {}
    for img, (xml, objs) in objects.items():
        w, h = image_size(img) if objs else (0, 0)
        out[img.relative_to(root).as_posix()] = [pixel_box(x1, y1, x2, y2, w, h, f"{xml}, image {img.name}")
                                                 for name, x1, y1, x2, y2 in objs if plates is None or name in plates]
    if not out:
        raise UserError(f"{root}: no images beside its Pascal VOC labels")
    return out
