"""What the crop probes share (`far_plates.py`, `motion_blur.py`, `interlace.py`): their arguments, the recognizer they
name, the real crops of a split, sequence accuracy of the recognizer on a list of crops, and the JSON record."""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from ocr import Recognizer
from ocr.data import split_crops
from ocr.ensemble import add_arguments as add_ensemble_arguments, load_recognizer

SPLITS = {"val": Path("configs/splits/real_crops_val.csv"), "holdout": Path("configs/splits/real_crops_holdout.csv")}
DATA = Path("../shared/data")


def parser(doc: str) -> argparse.ArgumentParser:
    """`--weights`, `--ensemble W [W ...]`, `--split val|holdout` (default val) and `--json OUT`, described by `doc`'s
    first line."""
    ap = argparse.ArgumentParser(description=doc.splitlines()[0])
    ap.add_argument("--weights", default="weights/ocr_latin.pth")
    add_ensemble_arguments(ap)
    ap.add_argument("--split", choices=sorted(SPLITS), default="val")
    ap.add_argument("--json", type=Path)
    return ap


def recognizer(args: argparse.Namespace, **kwargs: Any) -> Recognizer:
    """The recognizer `args` name: `--weights`, read with every `--ensemble` model when there are any (a cascade
    with `--ensemble-below`)."""
    return load_recognizer([args.weights, *args.ensemble], args.ensemble_below, **kwargs)


def split_set(split: str, folders: tuple[str, ...] = ("us_crops", "ar_crops")) -> tuple[list[np.ndarray], list[str]]:
    """The crops and texts of `folders` (under ../shared/data) that the `split` list names."""
    crops, texts = zip(*split_crops([DATA / f for f in folders], SPLITS[split]))
    return list(crops), list(texts)


def seq_acc(rec: Recognizer, crops: list[np.ndarray], texts: list[str]) -> float:
    """The share of `crops` that `rec` reads exactly as `texts`."""
    return float(np.mean([r.text == t for r, t in zip(rec(crops), texts)]))


def write_json(args: argparse.Namespace, rec: Recognizer, n: int, key: str, result: dict) -> None:
    """The probe's figures (`result` under `key`) with what produced them, to `args.json` if given."""
    if args.json:
        record = {"n": n, "split": args.split, "weights": args.weights, "source": rec.source, key: result}
        if args.ensemble:
            record["ensemble"], record["ensemble_below"] = args.ensemble, args.ensemble_below
        args.json.write_text(json.dumps(record, indent=2))
