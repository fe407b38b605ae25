"""Plate-box datasets: our labels format <-> the ultralytics layout, with checks and ride-block splits.

Ours: `images/` + `labels.csv` with `image,plate_text,x1,y1,x2,y2` (pixels, one row per plate; an image with
no plate may appear once with empty box cells). Ultralytics: `images/{split}/`, `labels/{split}/*.txt`
(`0 cx cy w h`, normalised) and a `dataset.yaml`.
"""
from __future__ import annotations

import csv
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import yaml
from loguru import logger

from common.errors import UserError
from common.paths import check_not_archive, find, read_csv, written_whole
from ocr.alphabet import plate_label
from ocr.process import dataset_image, greyscale, read_bgr, write_image

BOX_TOLERANCE = 2.0  # pixels a box may exceed the image silently (rounding in annotations); beyond: clipped, warned


@dataclass(frozen=True)
class PlateBox:
    """A plate's pixel box in an image, with its text when known."""
    x1: float
    y1: float
    x2: float
    y2: float
    text: str = ""


def image_size(path: Path) -> tuple[int, int]:
    """(width, height) of an image, or a UserError naming it."""
    h, w = read_bgr(path).shape[:2]
    return w, h


def read_box_labels(csv_path: str | Path, check_images: bool = True) -> dict[str, list[PlateBox]]:
    """image name -> its boxes, in file order; one UserError naming file and row for each bad annotation. A box
    that reaches past its image's edge (more than BOX_TOLERANCE px) is clipped to the image, with one warning line
    per file; a box wholly outside its image is an error."""
    p = find(csv_path)
    if not p.is_file():
        drawn = "data_gen" in Path(csv_path).parts  # a generated set, not in git: a fresh machine has none
        hint = " (a generated set: bash bench/make_sets.sh val|holdout|train|fresh draws it)" if drawn else ""
        raise UserError(f"labels file not found: {p}{hint}")
    rows = list(read_csv(p, "CSV image,plate_text,x1,y1,x2,y2", ("image", "x1", "y1", "x2", "y2")))
    out: dict[str, list[PlateBox]] = {}
    sizes: dict[str, tuple[int, int]] = {}
    clipped: list[int] = []
    for i, r in enumerate(rows, start=2):
        name = r["image"]
        out.setdefault(name, [])
        if check_images and name not in sizes:
            try:
                sizes[name] = image_size(dataset_image(p, name))
            except UserError as exc:
                raise UserError(f"{p} row {i}: {exc}") from None
        if all((r.get(k) or "").strip() == "" for k in ("x1", "y1", "x2", "y2")):
            continue  # an image without plates
        try:
            x1, y1, x2, y2 = (float(r[k]) for k in ("x1", "y1", "x2", "y2"))
        except (TypeError, ValueError):
            raise UserError(f"{p} row {i}: box values must be numbers, got "
                            f"{[r.get(k) for k in ('x1', 'y1', 'x2', 'y2')]}") from None
        if x2 <= x1 or y2 <= y1:
            raise UserError(f"{p} row {i}: empty box ({x1:g},{y1:g},{x2:g},{y2:g}) for {name}")
        if check_images:
            w, h = sizes[name]
            if x2 <= 0 or y2 <= 0 or x1 >= w or y1 >= h:
                raise UserError(f"{p} row {i}: box ({x1:g},{y1:g},{x2:g},{y2:g}) is outside the {w}x{h} image {name}")
            t = BOX_TOLERANCE
            if x1 < -t or y1 < -t or x2 > w + t or y2 > h + t:
                clipped.append(i)  # a plate at the image's edge, annotated past it: keep the part in the image
            x1, y1, x2, y2 = max(x1, 0.0), max(y1, 0.0), min(x2, float(w)), min(y2, float(h))
        out[name].append(PlateBox(x1, y1, x2, y2, plate_label(r.get("plate_text") or "")))
    if clipped:
        logger.warning(f"{p}: {len(clipped)} box(es) reach past their image's edge, clipped to it "
                       f"(row{'s' if len(clipped) > 1 else ''} {', '.join(map(str, clipped[:5]))}"
                       f"{', ...' if len(clipped) > 5 else ''})")
    return out


def labels_csv_of(path: Path) -> Path:
    """The labels.csv a command's `--labels` names: the path itself, or, for a folder, its labels.csv (which
    `folder_labels` reads, or the folder's other labels when it is not there)."""
    return path / "labels.csv" if find(path).is_dir() else path


def folder_labels(labels_csv: str | Path, splits: tuple[str, ...] = ()) -> dict[str, list[PlateBox]]:
    """The plate boxes of a data folder, named by its labels.csv: the CSV when it is there, else the folder's YOLO,
    Pascal VOC or COCO labels as a labelling tool exports them (`detection.yolo_labels`, `voc_labels`, `coco_labels`:
    the first of `splits` the folder holds), else the plates named in a text file beside each image (`text_boxes`)."""
    from detection.coco_labels import holds_coco, read_coco_folder
    from detection.voc_labels import holds_voc, read_voc_folder
    from detection.yolo_labels import holds_yolo, read_yolo_folder

    folder = find(Path(labels_csv).parent)
    if folder.is_file():  # a file given where a folder is asked for (`train=[plates.zip]`)
        check_not_archive(folder)
        raise UserError(f"{folder} is a file: the detector's data is a folder of images with their labels")
    # the folder's other labels when its labels.csv is not there (another CSV named and not there: said so)
    if not find(labels_csv).is_file() and folder.is_dir() and Path(labels_csv).name == "labels.csv":
        if holds_yolo(folder):
            return read_yolo_folder(folder, splits)
        for holds, read in ((holds_voc, read_voc_folder), (holds_coco, read_coco_folder)):
            if holds(folder):
                return read(folder, splits)
        return text_boxes(folder, splits) or read_yolo_folder(folder, splits)  # the latter: its one error
    return read_box_labels(labels_csv)


def text_boxes(folder: Path, splits: tuple[str, ...] = ()) -> dict[str, list[PlateBox]]:
    """Image (its path under `folder`) -> plates, from the text file beside each image that names them (OpenALPR's
    benchmarks, UFPR-ALPR, RodoSol-ALPR: `ocr.label_files`), of the first of `splits` the folder holds when it holds
    its own; {} when there are none (or they are YOLO boxes). A bad line is one UserError naming its file and
    line."""
    from ocr.label_files import YOLO_BOXES, beside_samples, own_splits, split_samples

    own = own_splits(folder)
    chosen = next((s for s in splits if s in own), None)
    samples = split_samples(folder, chosen) if chosen else beside_samples(folder)
    if own and chosen is None and samples:
        raise UserError(f"{folder} has no {' or '.join(splits) or 'chosen'} split of its own (it has {', '.join(own)})")
    out: dict[str, list[PlateBox]] = {}
    for sample, bad in samples:
        if bad == YOLO_BOXES:
            return {}
        if bad or sample.box is None:
            raise UserError(f"{sample.where}: {bad or 'no plate box in it (a detector learns from boxes)'}")
        out.setdefault(sample.path.relative_to(folder).as_posix(), []).append(
            PlateBox(*sample.box, plate_label(sample.text)))
    return out


def add_unboxed(labels: dict[str, list[PlateBox]], extra: dict[str, list[PlateBox]]) -> dict[str, list[PlateBox]]:
    """`labels` plus `extra` (image -> real plates the labels leave out, confirmed by eye: an image,x1,y1,x2,y2 CSV
    read with `read_box_labels(csv, check_images=False)`) as plates without text, on the images of `labels`;
    a box is never added twice."""
    out = {}
    for name, boxes in labels.items():
        have = {(b.x1, b.y1, b.x2, b.y2) for b in boxes}
        out[name] = list(boxes) + [PlateBox(b.x1, b.y1, b.x2, b.y2, "") for b in extra.get(name, [])
                                   if (b.x1, b.y1, b.x2, b.y2) not in have]
    return out


def listed_images(labels_csv: str | Path, split_file: str | Path) -> set[str]:
    """Images of the labels.csv folder that a split CSV (`dataset,image`) lists under that folder's name."""
    from ocr.data import read_split_file

    folder = Path(labels_csv).parent.name
    return {img for ds, img in read_split_file(split_file) if ds == folder}


def write_box_labels(labels: dict[str, list[PlateBox]], csv_path: str | Path) -> Path:
    """Write `labels` as a labels.csv (`image,plate_text,x1,y1,x2,y2`; an image without plates: one empty row)."""
    p = Path(csv_path)
    p.parent.mkdir(parents=True, exist_ok=True)

    def write(part: Path) -> None:
        with part.open("w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["image", "plate_text", "x1", "y1", "x2", "y2"])
            for name, boxes in labels.items():
                if not boxes:
                    w.writerow([name, "", "", "", "", ""])
                for b in boxes:
                    w.writerow([name, b.text, *(f"{v:g}" for v in (b.x1, b.y1, b.x2, b.y2))])

    return written_whole(p, write)  # a set's labels.csv, written last, says it is whole: never half of one


def to_yolo_lines(boxes: list[PlateBox], width: int, height: int) -> list[str]:
    """`0 cx cy w h` lines, normalised and clipped to the image."""
    lines = []
    for b in boxes:
        x1, y1 = max(0.0, b.x1), max(0.0, b.y1)
        x2, y2 = min(float(width), b.x2), min(float(height), b.y2)
        lines.append(f"0 {(x1 + x2) / 2 / width:.6f} {(y1 + y2) / 2 / height:.6f} "
                     f"{(x2 - x1) / width:.6f} {(y2 - y1) / height:.6f}")
    return lines


def in_share(name: str, share: float) -> bool:
    """Whether `name` falls in a fixed `share` of names (by its CRC-32: the same names on every machine and run)."""
    return zlib.crc32(name.encode()) % 10_000 < share * 10_000


# the images' endings ultralytics' trainer lists and reads alike: an image of another ending (.jfif, .pgm, ...) is
# written for it as a PNG
TRAINER_IMAGE_EXTS = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"}


def export_yolo(sources: list[tuple[Path, dict[str, list[PlateBox]]]], out: Path, split: str,
                link: bool = True, prefix: str = "", gray_share: float = 0.0) -> int:
    """Add images (symlinked, or copied) and YOLO label files of `split` to `out`; returns images written.
    Each source is a labels.csv path and its labels (images found by `dataset_image`; a name with folders in it
    is flattened, `a/b.jpg` -> `a__b.jpg`; one the trainer does not list by its ending, `a.jfif`, written as
    `a.png`). `prefix` goes before each file name (keeps same-named images of different folders apart). A fixed
    `gray_share` of the images is written in greyscale (three equal channels) instead."""
    (out / "images" / split).mkdir(parents=True, exist_ok=True)
    (out / "labels" / split).mkdir(parents=True, exist_ok=True)
    n = 0
    for labels_csv, labels in sources:
        for name, boxes in labels.items():
            src = dataset_image(labels_csv, name)
            w, h = image_size(src)
            dst = out / "images" / split / (prefix + name.replace("\\", "/").strip("/").replace("/", "__"))
            other = dst.suffix.lower() not in TRAINER_IMAGE_EXTS
            dst = dst.with_suffix(".png") if other else dst
            if dst.exists() or dst.is_symlink():
                dst.unlink()
            if in_share(dst.name, gray_share):
                write_image(dst, greyscale(read_bgr(src)))
            elif other:
                write_image(dst, read_bgr(src))
            elif link:
                os.symlink(src.resolve(), dst)
            else:
                dst.write_bytes(src.read_bytes())
            (out / "labels" / split / f"{dst.stem}.txt").write_text("\n".join(to_yolo_lines(boxes, w, h)) + "\n")
            n += 1
    return n


def write_dataset_yaml(out: Path, splits: tuple[str, ...] = ("train", "val")) -> Path:
    """Ultralytics' dataset.yaml for the folder `out` (one class, `plate`)."""
    spec = {"path": str(out.resolve()), **{s: f"images/{s}" for s in splits}, "names": {0: "plate"}}
    path = out / "dataset.yaml"
    path.write_text(yaml.safe_dump(spec, sort_keys=False))
    return path


def split_labels(labels: dict[str, list[PlateBox]], held_out: set[str]) -> tuple[dict, dict]:
    """(train, val) by a set of held-out image names (from ride/time blocks, never random frames)."""
    train = {k: v for k, v in labels.items() if k not in held_out}
    val = {k: v for k, v in labels.items() if k in held_out}
    return train, val
