"""Plate-text datasets: labels.csv folders, file-name-labelled folders, other tools' label files
(`ocr/label_files.py`), on-the-fly synthetic, mixed by ratio.

A source is a mapping (one item of `train:` / `val:` in the OCR config), or a folder's path alone (`train=[my_plates]`:
its plates, augmented heavily in `train`, as the guide has real plates):
    path: ../shared/data/us_crops   # folder with images/ + labels.csv (image,plate_text[,x1,y1,x2,y2]),
                                    # or a folder of images named by their text (00004741816_3.jpg), or another
                                    # tool's labels: fast-plate-ocr, EasyOCR, PaddleOCR, OpenALPR, UFPR-ALPR, RodoSol
    synth: latin                    # instead of path: synthetic plates rendered on the fly (mix preset)
    fonts: all                      # synth only: character faces, ttf (default) | stroke (OpenCV's Hershey) | plate
                                    # | round (ocr/plate_faces.py) | all, or joined by + (ttf+stroke)
    weight: 0.2                     # share of each training epoch drawn from this source
    augment: heavy                  # none | medium | heavy | ir (an infrared night camera's look) | far (a distant plate)
                                    # | motion (smeared along the plate)
    split_file: configs/splits/real_crops_holdout.csv   # optional: rows dataset,image set apart (or a list
                                    # of such files: [holdout.csv, val.csv])
    split: train                    # with split_file: train (all but the listed rows) | holdout (only the listed
                                    # rows) | all; without: the dataset's own split (its train/ val/ test/ folder,
                                    # or its split.txt: ocr/label_files.py) train | val | test, or all
    min_box_width: 60               # optional: leave out boxed plates narrower than this (px): too small to read
"""
from __future__ import annotations

import datetime
from dataclasses import replace
from pathlib import Path, PurePath
from typing import Any

import numpy as np
import torch
from loguru import logger
from torch.utils.data import Dataset

from common.config import closest
from common.errors import UserError
from common.paths import find, read_csv
from ocr.alphabet import Codec, plate_label
from ocr.augment import augment
from ocr.label_files import SPLITS, Sample, dataset_folder, folder_samples, label_lists, split_samples
from ocr.process import is_image_file, normalize, read_bgr, resize_plate

LEVELS = ("none", "medium", "heavy", "ir", "far", "motion", "interlaced")  # augmentation levels (ocr/augment.py)
SOURCE_KEYS = {"path", "synth", "fonts", "weight", "augment", "split_file", "split", "size", "skip_bad",
               "min_box_width"}


def read_split_file(path: str | Path | list[str | Path]) -> set[tuple[str, str]]:
    """(dataset folder name, image name) pairs listed in a split CSV (`dataset,image`), or in any of a list."""
    if isinstance(path, (list, tuple)):
        return set().union(*(read_split_file(p) for p in path))
    p = find(path)
    if not p.is_file():
        raise UserError(f"split file not found: {p}")
    rows = read_csv(p, "a split file, CSV dataset,image", ("dataset", "image"))
    return {(r["dataset"], r["image"]) for r in rows}


def read_labels(folder: str | Path, codec: Codec | None = None, skip_bad: bool = False,
                skipped: list[str] | None = None, own: str = "") -> list[Sample]:
    """Samples of a dataset folder (or label file: `ocr/label_files.py`), or of its `own` split (train, val or
    test); each bad row is one UserError naming file and row, or, with `skip_bad`, left out and its message appended
    to `skipped`."""
    root = find(folder)
    if not root.exists():
        drawn = "data_gen" in Path(folder).parts  # the configs' generated sets, not in git: a fresh machine has none
        yours = Path(folder).parts[:1] == ("my_plates",)  # configs/ocr_finetune.yaml's folder of the user's plates
        raise UserError(f"dataset folder not found: {root}"
                        + (" (draw the generated sets: bash bench/make_sets.sh train val)" if drawn else "")
                        + (" (your plates: python -m pipeline.harvest --out my_plates writes it, or copy "
                           "configs/ocr_finetune.yaml and name your own folder)" if yours else ""))
    samples: list[Sample] = []
    keep = codec.chars if codec is not None else ""

    def add(sample: Sample, where: str, bad: str = "") -> None:
        bad = bad or _check(sample, codec)
        if not bad:
            samples.append(sample)
        elif not skip_bad:
            raise UserError(f"{where}: {bad}")
        elif skipped is not None:
            skipped.append(f"{where}: {bad}")

    for sample, bad in split_samples(root, own) if own else folder_samples(root):
        text = plate_label(sample.text, keep)
        if text or bad:  # no text and nothing wrong: an unreadable plate, no text to learn
            add(replace(sample, text=text), sample.where, bad)
    if not samples:
        raise UserError(f"no labelled images in {root}{_what_a_dataset_is(root)}")
    return samples


def _what_a_dataset_is(root: Path) -> str:
    """Why the folder `root` gave no labelled image, as a hint ("" when its labels.csv simply lists none)."""
    if root.is_file() or (root / "labels.csv").is_file():
        return ""
    folders = [root, *(root / n for names in SPLITS.values() for n in names if (root / n).is_dir())]  # Roboflow's
    if any((root / n).is_dir() for n in ("annotations", "Annotations")) or any(
            p.suffix.lower() in (".xml", ".json") for f in folders for p in f.iterdir()):  # Pascal VOC's, COCO's
        return (" (it holds a detector's boxes, an annotations/ folder or .xml / .json files, which carry no plate's "
                "text: the OCR learns from plates with their text, images/ + labels.csv "
                "image,plate_text[,x1,y1,x2,y2])")
    if (root / "images").is_dir():
        return f" (no labels.csv beside {root / 'images'})"
    sets = sorted(d.name for d in root.iterdir() if d.is_dir() and ((d / "labels.csv").is_file()
                                                                       or (d / "images").is_dir() or label_lists(d)))
    if sets:  # the guide's recognition/ folder, or a folder of datasets: one of them is meant
        return f" (it holds the datasets {', '.join(sets)}: give one of them)"
    return (" (a dataset is images/ + labels.csv, or images named by their text, or another tool's labels: "
            "ocr/label_files.py)")


def _check(s: Sample, codec: Codec | None) -> str:
    if codec is not None and codec.invalid_chars(s.text):
        return f"label {s.text!r} has characters outside the alphabet: {codec.invalid_chars(s.text)!r}"
    if not s.path.is_file():
        return f"image not found: {s.path}"
    if not is_image_file(s.path):
        return f"cannot read image (corrupt or unsupported format): {s.path}"
    return ""


def load_crop(s: Sample, rng: np.random.Generator | None = None) -> np.ndarray:
    """The plate crop of a sample (its box cut out with a small, optionally random margin)."""
    img = read_bgr(s.path)
    if s.box is None:
        return img
    x1, y1, x2, y2 = s.box
    w, h = x2 - x1, y2 - y1
    m = rng.uniform(0.0, 0.15, 4) if rng is not None else np.full(4, 0.06)
    H, W = img.shape[:2]
    xa, ya = max(0, int(x1 - m[0] * w)), max(0, int(y1 - m[1] * h * 2))
    xb, yb = min(W, int(x2 + m[2] * w)), min(H, int(y2 + m[3] * h * 2))
    return img[ya:yb, xa:xb]


def split_crops(folders: list[str | Path], split_file: str | Path,
                split: str = "holdout") -> list[tuple[np.ndarray, str]]:
    """(crop, text) of every labelled image of `folders` that `split_file` lists (`split="holdout"`) or leaves out
    (`"train"`), in the folders' order."""
    spec = {"split_file": split_file, "split": split}
    return [(load_crop(s), s.text) for folder in folders for s in SourceDataset({"path": folder, **spec}, None).samples]


def _path(spec: dict[str, Any], key: str) -> Any:
    """`spec[key]` as a path's text, or a list of them for `split_file` (YAML reads `path: 2024` as a number, a
    date as a date: their text); anything else is one error line naming the source."""
    value = spec[key]
    if isinstance(value, (list, tuple)) and key == "split_file" and value:
        return [_path({key: v}, key) for v in value]
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, (str, int, float, PurePath)) and not isinstance(value, bool) and str(value).strip():
        return str(value)  # (a Path from Python callers)
    shape = "a file or a list of files" if key == "split_file" else "a folder or a label file"
    raise UserError(f"data source {spec}: {key} must be {shape}, not {value!r}")


def _number(spec: dict[str, Any], key: str, default: float, above: float) -> float:
    """`spec[key]` as a number over `above` (`default` when absent), else one error line naming the source."""
    value = spec.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > above:
        raise UserError(f"data source {spec}: {key} must be a number over {above:g}, not {value!r}")
    return float(value)


def _check_layouts(name: str, mix: dict[str, float], codec: Codec) -> None:
    """A synthetic source whose layouts draw characters the alphabet lacks is one UserError, before any training."""
    from ocr.synth import layout_chars

    drawn = "".join(dict.fromkeys("".join(layout_chars(k) for k, w in mix.items() if w > 0)))
    missing = codec.invalid_chars(drawn)
    if missing:
        raise UserError(f"data source synth: {name}: its plates have characters outside the alphabet "
                        f"{codec.chars!r}: {missing!r}")


class SourceDataset:
    """One source: a list of samples on disk, or an endless synthetic generator."""

    def __init__(self, spec: dict[str, Any], codec: Codec | None) -> None:
        """`codec` None: labels are not checked against an alphabet (reading crops for a report, not training)."""
        unknown = set(spec) - SOURCE_KEYS
        if unknown:
            hints = "".join(f" (did you mean '{c}' for '{k}'?)" for k in sorted(unknown)
                            if (c := closest(k, SOURCE_KEYS)))
            raise UserError(f"data source {spec}: unknown key(s) {sorted(unknown)}{hints}; known: {sorted(SOURCE_KEYS)}")
        self.weight = _number(spec, "weight", 1.0, above=0)
        self.level = str(spec.get("augment", "none"))
        if self.level not in LEVELS:
            raise UserError(f"data source augment must be one of {', '.join(LEVELS)}, not {self.level!r}")
        self.mix = None
        self.skipped: list[str] = []  # skipped rows of a folder read with skip_bad
        if "synth" in spec:
            from ocr.synth import parse_mix
            from ocr.synth_glyphs import char_fonts

            self.mix = parse_mix(str(spec["synth"]))
            if codec is not None:
                _check_layouts(spec["synth"], self.mix, codec)
            self.fonts = char_fonts(str(spec.get("fonts", "ttf")))
            self.samples: list[Sample] = []
            self.size = int(_number(spec, "size", 10000, above=0))
            self.name = f"synth:{spec['synth']}"
            return
        if "path" not in spec:
            raise UserError(f"data source {spec}: needs 'path' or 'synth'")
        if "fonts" in spec:
            raise UserError(f"data source {spec}: 'fonts' is for synthetic sources (synth: ...) only")
        root = Path(_path(spec, "path"))
        split = str(spec.get("split", "all"))
        kinds = ("all", "train", "holdout") if "split_file" in spec else ("all", *SPLITS)
        if split not in kinds:
            raise UserError(f"data source {spec}: split must be one of {', '.join(kinds)}"
                            + (" with a split_file" if "split_file" in spec else
                               " (the dataset's own; train and holdout of a split_file's rows need one)"))
        own = "" if "split_file" in spec or split == "all" else split
        self.samples = read_labels(root, codec, bool(spec.get("skip_bad", False)), self.skipped, own)
        if self.skipped:
            logger.warning(f"{root}: skipped {len(self.skipped)} bad rows (first: {self.skipped[0]})")
        named = dataset_folder(find(root)).name  # a label file: its folder's name
        if "split_file" in spec and split != "all":
            held = read_split_file(_path(spec, "split_file"))
            folders = sorted({d for d, _ in held})
            if named not in folders:  # a split file of other folders, or a folder renamed
                files = spec["split_file"]
                files = ", ".join(map(str, files)) if isinstance(files, (list, tuple)) else str(files)
                said = (f"{root}: the split file {files} lists images of the folders {', '.join(folders)}, none of a "
                        f"folder {named!r} (split files name a folder by its name)")
                if split == "holdout":  # it would pick nothing: a report of "0 of 0"
                    raise UserError(said)
                logger.warning(f"{said}: none of its images is left out")  # held-out images trained on, if renamed
            keep = (lambda s: (named, s.path.name) in held) if split == "holdout" else \
                (lambda s: (named, s.path.name) not in held)
            self.samples = [s for s in self.samples if keep(s)]
        if "min_box_width" in spec:
            least = _number(spec, "min_box_width", 0.0, above=0)
            self.samples = [s for s in self.samples if s.box is None or s.box[2] - s.box[0] >= least]
            if not self.samples:
                raise UserError(f"{root}: no plate is at least min_box_width={least:g} px wide")
        self.size = len(self.samples)
        self.name = f"{named}[{split}]"

    def get(self, i: int, rng: np.random.Generator) -> tuple[np.ndarray, str]:
        if self.mix is not None:
            from ocr.synth import synth_sample

            img, text = synth_sample(rng, self.mix, self.fonts)
        else:
            s = self.samples[i % len(self.samples)]
            try:
                img, text = load_crop(s, rng if self.level != "none" else None), s.text
            except UserError as exc:  # damaged past its header (is_image_file passed it): say its row too
                raise UserError(f"{s.where}: {exc}" if s.where else str(exc)) from None
        return augment(img, rng, self.level), text


class PlateDataset(Dataset):
    """Samples from several sources. Training mixes them by weight (`length` draws per epoch, reshuffled by
    `set_epoch`); evaluation (`mixed=False`) walks every sample of every source once, in order."""

    def __init__(self, sources: list[SourceDataset], codec: Codec, height: int, width: int,
                 length: int = 0, mixed: bool = True, seed: int = 0, two_row_aspect: float = 0.0) -> None:
        self.sources, self.codec, self.h, self.w = sources, codec, height, width
        self.two_row_aspect = two_row_aspect
        self.mixed, self.seed, self.epoch = mixed, seed, 0
        if mixed:
            w = np.array([s.weight for s in sources], np.float64)
            self.p = w / w.sum()
            self.length = length or sum(s.size for s in sources)
        else:
            self.offsets = np.cumsum([0] + [s.size for s in sources])
            self.length = int(self.offsets[-1])

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.length

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor, str]:
        rng = np.random.default_rng((self.seed, self.epoch if self.mixed else 0, i))
        if self.mixed:
            k = int(rng.choice(len(self.sources), p=self.p))
            j = int(rng.integers(0, max(1, self.sources[k].size)))
        else:
            k = int(np.searchsorted(self.offsets, i, side="right") - 1)
            j = i - int(self.offsets[k])
        img, text = self.sources[k].get(j, rng)
        x = torch.from_numpy(normalize(resize_plate(img, self.h, self.w, self.two_row_aspect)))
        return x, torch.tensor(self.codec.encode(text), dtype=torch.long), text


def collate(batch: list[tuple[torch.Tensor, torch.Tensor, str]]
            ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, list[str]]:
    """-> images B x 3 x H x W, concatenated targets, target lengths, texts."""
    xs, ys, texts = zip(*batch)
    return (torch.stack(xs), torch.cat(ys), torch.tensor([len(y) for y in ys], dtype=torch.long), list(texts))


def build_dataset(specs: tuple[dict[str, Any] | str, ...], codec: Codec, height: int, width: int, length: int = 0,
                  mixed: bool = True, seed: int = 0, two_row_aspect: float = 0.0,
                  augment: str = "none") -> PlateDataset:
    """The training or validation set of the data source `specs` (mixed by their weights when `mixed`); a source
    given as a folder's path alone (`train=[my_plates]`) is that folder, augmented `augment`."""
    if not specs:
        raise UserError("no data sources given")
    return PlateDataset([SourceDataset(dict(s) if isinstance(s, dict) else {"path": s, "augment": augment}, codec)
                         for s in specs], codec, height, width, length, mixed, seed, two_row_aspect)
