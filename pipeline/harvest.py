"""Earlier runs' reads as an OCR training set of your own cameras' plates: the crops, labelled with what was read.

    python -m pipeline.harvest runs/pipeline/gate --out my_plates        # the vehicles' best crops
    python -m pipeline.harvest runs/pipeline/photos --images /srv/photos --out my_plates   # still images' reads,
                                                                          # cut from the photos by their boxes
    python ocr/train.py --config my_ocr.yaml init_from=weights/ocr_latin.pth ...   # the shipped recipe with
                                    # my_plates/train added (README.md, "Your own plates, harvested for the OCR")

Reads the pipeline was sure of (a vehicle's fused confidence >= --min-event-conf, a still image's read >=
--min-conf) become labelled crops in `OUT/train` and `OUT/val` (folders of `images/` + `labels.csv`, the OCR's
dataset format); the plates go to one or the other by a hash of their text, so a plate is never on both sides, in
this run or a later one. The others, and the vehicles seen but never read, go to `OUT/review` with the read as
the label to correct (an empty label is left out by the trainer): what the reader found hard is what is worth a
person's minute. At most --per-plate crops of one plate are kept, its surest, so the regulars of a car park do not
fill the set. Running it again adds only what is new. The crops are the ones the OCR read (`crops/`, as the
pipeline cut them); a run that kept no crops (`save_crops=false`) or pruned them gives none.

    python -m pipeline.harvest --file-review --out my_plates   # once review/labels.csv is checked and corrected

files each reviewed crop that has a label into `train` or `val` by its plate, as the sure ones were (the hard
cases, uncapped), and leaves the unlabelled ones in `review`. The validation share is kept in `OUT/harvest.json`
so that every harvest into a folder splits its plates alike.
"""
from __future__ import annotations

import csv
import hashlib
import json
import shutil
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from loguru import logger

from common.errors import UserError
from common.paths import read_csv, written_whole
from ocr.alphabet import plate_label
from ocr.process import TURNS, fold_o0
from pipeline.search import json_lines, folder_events, output_folders

ROOT = Path(__file__).resolve().parents[1]
PARTS = ("train", "val", "review")
COLUMNS = ["image", "plate_text", "confidence", "source"]


@dataclass(frozen=True)
class Harvested:
    """One crop to write: its file name, the text read, how sure, where it came from, and how to get it."""

    name: str
    text: str
    confidence: float
    source: str
    crop_file: Path | None = None  # a saved crop, copied as it is
    image_file: Path | None = None  # or a still image, and the box in it to cut
    box: tuple[float, ...] = ()
    rotate: int = 0  # the still turned clockwise by this many degrees before reading (`rotate`): its box is in the turn


@dataclass(frozen=True)
class HarvestSummary:
    """What a harvest wrote and left out."""

    written: dict[str, int]
    plates: dict[str, int]
    already: int = 0
    over_cap: int = 0
    crop_gone: int = 0
    stills_without_images: int = 0


def val_side(text: str, share: float) -> bool:
    """Whether the plate `text` belongs to the validation side: a fixed hash of its O/0-folded text, so that every
    crop of one plate, in every harvest, falls on the same side."""
    h = int.from_bytes(hashlib.sha1(fold_o0(text).encode()).digest()[:8], "big")
    return h / 2 ** 64 < share


def _crop_file(folder: Path, path: str) -> Path | None:
    """A saved crop, where the event says or in the folder's `crops/` (a run folder moved since)."""
    for p in (Path(path), folder / "crops" / Path(path).name) if path else ():
        if p.is_file():
            return p
    return None


def event_items(folder: Path) -> Iterator[tuple[Harvested, bool]]:
    """Each vehicle event of an output folder as (item, whether its crop is still there)."""
    for e in folder_events(folder):
        eid = str(e.get("event_id") or "")
        if not eid:
            continue
        where = f"{folder.name}/{e.get('source', '')} {float(e.get('first_time_s') or 0):.1f} s"
        when = str(e.get("first_seen_utc") or "")
        crop = _crop_file(folder, str(e.get("crop_path") or ""))
        yield Harvested(f"{eid}.jpg", str(e.get("text") or ""), float(e.get("confidence") or 0.0),
                        f"{where} {when}".strip(), crop_file=crop), crop is not None


def still_crop_name(folder: str, source: str, k: int) -> str:
    """The file name a harvest gives the `k`-th read of the still image `source` in the output folder named
    `folder`: the image's stem, a short hash of where it was read (the same stem in two folders stays apart), `k`."""
    tag = hashlib.sha1(f"{folder}/{source}".encode()).hexdigest()[:8]
    return f"{Path(source).stem}_{tag}_{k}.jpg"


def still_items(folder: Path, images: list[Path]) -> Iterator[tuple[Harvested, bool]]:
    """Each read of a still image in an output folder's `reads*.jsonl` as (item, whether its image was found under
    one of `images`): the newest run's reads first (`reads.jsonl`, then the earlier runs' `reads.prev*.jsonl`)."""
    def age(p: Path) -> tuple[int, int]:  # reads.jsonl, then reads.prevN ... reads.prev1, reads.prev (the oldest)
        rest = p.name[len("reads.prev"):-len(".jsonl")]
        return (0, 0) if p.name == "reads.jsonl" else (1, -int(rest) if rest.isdigit() else 0)

    for path in sorted(folder.glob("reads*.jsonl"), key=age):
        for line in json_lines(path):
            src = str(line.get("source") or "")
            found = next((d / src for d in images if (d / src).is_file()), None)
            turns = int(line["rotate"]) if line.get("rotate") in TURNS else 0  # as the run turned it
            for k, r in enumerate(line.get("reads") or []):
                box = tuple(float(v) for v in r.get("box") or ())
                if len(box) != 4:
                    continue
                yield Harvested(still_crop_name(folder.name, src, k), str(r.get("text") or ""),
                                float(r.get("confidence") or 0.0), f"{folder.name}/{src}", image_file=found,
                                box=box, rotate=turns), found is not None


def _existing(out: Path, parts: tuple[str, ...] = PARTS) -> tuple[set[str], dict[str, int]]:
    """The image names already harvested into `out` (its `parts`) and the crops each plate has in train and val."""
    names: set[str] = set()
    per_plate: dict[str, int] = defaultdict(int)
    for part in parts:
        labels = out / part / "labels.csv"
        if labels.is_file():
            for r in read_csv(labels, "CSV image,plate_text", ("image", "plate_text")):
                names.add(r.get("image") or "")
                if part != "review":
                    per_plate[fold_o0(r.get("plate_text") or "")] += 1
    return names, per_plate


Cut = Callable[[np.ndarray, np.ndarray], "np.ndarray | None"]


def settled_share(out: Path, val_share: float | None) -> float:
    """The validation share of the dataset folder `out`: the one its first harvest recorded (`harvest.json`), else
    `val_share` (0.1 when None), recorded now. A different share asked of a folder split before is a UserError:
    its plates would change sides."""
    record = out / "harvest.json"
    if record.is_file():
        try:
            kept = float(json.loads(record.read_text())["val_share"])
        except (ValueError, KeyError, TypeError) as exc:
            raise UserError(f"{record}: not a harvest record ({exc}); delete it to start the split afresh") from None
        if val_share is not None and abs(val_share - kept) > 1e-9:
            raise UserError(f"{out} was split with --val-share {kept}: a plate would change sides with {val_share} "
                            f"(harvest into a new folder for another share)")
        return kept
    share = 0.1 if val_share is None else val_share
    out.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps({"val_share": share}) + "\n")
    return share


def file_review(out: Path, val_share: float | None = None) -> dict[str, int]:
    """Move each row of `out/review` that has a label (checked and corrected by a person) into `out/train` or
    `out/val` by its plate (`val_side`), with its image; rows without one stay. Returns the rows moved to each
    side and those left. A label that is not letters and digits is a UserError naming the file and row."""
    review = out / "review" / "labels.csv"
    if not review.is_file():
        raise UserError(f"nothing to file: {review} not found (harvest into {out} first)")
    share = settled_share(out, val_share)
    filed, _ = _existing(out, ("train", "val"))  # a filing that stopped half-way is completed, not repeated
    rows = list(read_csv(review, "CSV image,plate_text", ("image", "plate_text")))
    moves: dict[str, list[dict[str, str]]] = {"train": [], "val": []}
    left: list[dict[str, str]] = []
    for i, r in enumerate(rows, start=2):
        text = plate_label(r.get("plate_text") or "")
        if not text:
            left.append(r)
            continue
        if not (text.isascii() and text.isalnum()):
            raise UserError(f"{review} row {i}: label {r.get('plate_text')!r} is not letters and digits")
        src = out / "review" / "images" / (r.get("image") or "")
        if not src.is_file():
            continue  # filed by a run that stopped before rewriting this list, or deleted by hand
        moves["val" if val_side(text, share) else "train"].append({**r, "plate_text": text})
    for side, rs in moves.items():
        if rs:
            (out / side / "images").mkdir(parents=True, exist_ok=True)
            new = not (out / side / "labels.csv").is_file()
            with (out / side / "labels.csv").open("a", newline="", encoding="utf-8") as f:
                w = csv.writer(f)
                if new:
                    w.writerow(COLUMNS)
                for r in rs:  # copied, listed, then removed: a crash anywhere loses nothing and lists nothing twice
                    src = out / "review" / "images" / r["image"]
                    if r["image"] not in filed:
                        shutil.copyfile(src, out / side / "images" / r["image"])
                        w.writerow([r.get(c) or "" for c in COLUMNS])
                        f.flush()
                    src.unlink()
    def rest(part: Path) -> None:  # the review list of what is left, replacing the old one only once whole
        with part.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(COLUMNS)
            w.writerows([r.get(c) or "" for c in COLUMNS] for r in left)

    written_whole(review, rest)
    return {"train": len(moves["train"]), "val": len(moves["val"]), "left": len(left)}


def harvest(folders: list[Path], out: Path, images: list[Path] | None = None, min_conf: float = 0.99,
            min_event_conf: float = 0.99, val_share: float | None = None, per_plate: int = 5, min_chars: int = 4,
            cut: Cut | None = None) -> HarvestSummary:
    """Write the reads of the output folders under `folders` into `out` (see the module's docstring); returns
    what was written and left out. `val_share`: `settled_share`. `cut(image, box)` cuts a still image's plate as
    the pipeline did (by default `CropSpec().cut`; `main` passes the one `configs/pipeline.yaml` gives)."""
    if cut is None:
        from pipeline.crops import CropSpec

        cut = CropSpec().cut
    runs = list(output_folders(folders))  # a folder that is not there is said before anything is written
    share = settled_share(out, val_share)
    names, counts = _existing(out)
    chosen: dict[str, list[Harvested]] = {p: [] for p in PARTS}
    sure: list[Harvested] = []
    seen: set[str] = set()  # this harvest's: an image read again by a later run counts once, its newest read
    already = gone = no_image = 0
    for folder in runs:
        items = [(it, ok, True) for it, ok in event_items(folder)]
        items += [(it, ok, False) for it, ok in still_items(folder, images or [])]
        for it, ok, is_event in items:
            if it.name in seen:
                continue
            seen.add(it.name)
            if it.name in names:
                already += 1
                continue
            if not ok:
                gone += is_event
                no_image += not is_event
                continue
            good = len(it.text) >= min_chars and it.confidence >= (min_event_conf if is_event else min_conf)
            (sure if good else chosen["review"]).append(it)
    over = 0
    by_plate: dict[str, list[Harvested]] = defaultdict(list)
    for it in sure:
        by_plate[fold_o0(it.text)].append(it)
    for plate, its in by_plate.items():
        room = max(0, per_plate - counts[plate])
        its.sort(key=lambda x: -x.confidence)
        over += len(its) - min(room, len(its))
        chosen["val" if val_side(plate, share) else "train"] += its[:room]
    written = {}
    for part, its in chosen.items():
        written[part] = _write(out / part, its, cut)
    plates = {p: len({fold_o0(i.text) for i in chosen[p]}) for p in ("train", "val")}
    return HarvestSummary(written, plates, already, over, gone, no_image)


def _write(part: Path, items: list[Harvested], cut: Cut) -> int:
    """Append `items` to the dataset folder `part` (images/ + labels.csv); returns how many were written."""
    from ocr.process import read_bgr, turn, write_image

    if not items:
        return 0
    (part / "images").mkdir(parents=True, exist_ok=True)
    labels = part / "labels.csv"
    new = not labels.is_file()
    n = 0
    with labels.open("a", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        if new:
            w.writerow(COLUMNS)
        for it in items:
            dst = part / "images" / it.name
            if it.crop_file is not None:
                shutil.copyfile(it.crop_file, dst)
            else:
                assert it.image_file is not None
                try:
                    crop = cut(turn(read_bgr(it.image_file), it.rotate), np.array(it.box, np.float32))
                except UserError as exc:
                    logger.warning(f"{exc}; its reads are left out")
                    continue
                if crop is None or crop.size == 0:
                    continue
                write_image(dst, crop)
            w.writerow([it.name, it.text, f"{it.confidence:.4f}", it.source])
            f.flush()  # each row as it is written: an interrupted harvest is taken up where it stopped
            n += 1
    return n


def main(argv: list[str] | None = None) -> int:
    from common.cli import entry_parser, run_main

    ap = entry_parser(__doc__)
    ap.add_argument("folders", nargs="*", type=Path, help="output folders, and the folders below them "
                                                          "(default: runs/pipeline)")
    ap.add_argument("--out", type=Path, required=True, help="the dataset folder to write (train/, val/, review/)")
    ap.add_argument("--file-review", action="store_true",
                    help="file the labelled rows of OUT/review/labels.csv into train/ and val/ (no folders read)")
    ap.add_argument("--images", type=Path, action="append", default=[],
                    help="a folder the still images were read from (their reads are cut from them); repeatable")
    ap.add_argument("--min-conf", type=float, default=0.99, help="a still image's read at least this sure is "
                                                                 "taken as labelled (default 0.99)")
    ap.add_argument("--min-event-conf", type=float, default=0.99,
                    help="a vehicle's fused read at least this sure is taken as labelled (default 0.99)")
    ap.add_argument("--val-share", type=float, default=None,
                    help="share of the plates set apart for validation (default 0.1; a folder keeps its first one)")
    ap.add_argument("--per-plate", type=int, default=5, help="at most this many crops of one plate")
    ap.add_argument("--min-chars", type=int, default=4, help="shorter reads go to review")
    ap.add_argument("--config-dir", default=str(ROOT / "configs"),
                    help="the pipeline's configs: still images' plates are cut as configs/pipeline.yaml says")
    a = ap.parse_args(argv)

    def work() -> None:
        for name in ("min_conf", "min_event_conf", "val_share"):
            if getattr(a, name) is not None and not 0.0 <= getattr(a, name) <= 1.0:
                raise UserError(f"--{name.replace('_', '-')} must be between 0 and 1, not {getattr(a, name)}")
        if a.per_plate < 1:
            raise UserError(f"--per-plate must be at least 1, not {a.per_plate}")
        for d in a.images:
            if not d.is_dir():
                raise UserError(f"--images: no such folder: {d}")
        if a.file_review:
            n = file_review(a.out, a.val_share)
            logger.info(f"{a.out}: filed {n['train']} reviewed crops into train, {n['val']} into val; "
                        f"{n['left']} without a label stay in review")
            return
        from pipeline.settings import crop_spec, load_configs

        spec = crop_spec(load_configs(a.config_dir, []).pipeline, video=False)
        s = harvest(a.folders or [Path("runs/pipeline")], a.out, a.images, a.min_conf, a.min_event_conf,
                    a.val_share, a.per_plate, a.min_chars, spec.cut)
        w = s.written
        logger.info(f"{a.out}: train {w['train']} crops ({s.plates['train']} plates), val {w['val']} "
                    f"({s.plates['val']}), review {w['review']} (to label: correct plate_text in "
                    f"{a.out / 'review' / 'labels.csv'}, then train on that folder too)")
        left = [f"{s.already} harvested before" if s.already else "",
                f"{s.over_cap} over --per-plate {a.per_plate}" if s.over_cap else "",
                f"{s.crop_gone} vehicles whose crop is gone" if s.crop_gone else "",
                f"{s.stills_without_images} still reads whose image is not under --images"
                if s.stills_without_images else ""]
        if any(left):
            logger.info("left out: " + ", ".join(x for x in left if x))
        if s.plates["train"] and not (a.out / "val" / "labels.csv").is_file():
            logger.warning(f"no plate is on the validation side yet ({s.plates['train']} plates): harvest more, or "
                           f"raise --val-share, before giving {a.out / 'val'} to the trainer")

    return run_main(work, on_interrupt="interrupted: what was written is kept and listed; the same command goes on "
                                      "from there")


if __name__ == "__main__":
    raise SystemExit(main())
