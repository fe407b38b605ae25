"""Every key of an OCR data source (one item of `train:` / `val:`) given nonsense, in-process: each must be refused
with one UserError line or read, never end in another exception (a traceback for the user of `ocr/train.py`).

    python bench/source_fuzz.py

The sources are built on a small folder of labelled crops written to a temporary folder, as a path source alone, with
`split: train` or `holdout`, with a `split_file`, and as a synthetic source; prints each source that raised something
else, then the count.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import tempfile
from typing import Any

import cv2
import numpy as np

from common.errors import UserError
from ocr.alphabet import Codec
from ocr.data import SOURCE_KEYS, SourceDataset

VALUES: list[Any] = ["xyz", -5, "[1, 2", None, True, [], {}, 0, 1.5, "", ["a"], {"a": 1}, "/nonexistent", [None], [5]]


def main(argv: list[str] | None = None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    latin = Codec("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    with tempfile.TemporaryDirectory() as tmp:
        crops = Path(tmp) / "crops"
        (crops / "images").mkdir(parents=True)
        cv2.imwrite(str(crops / "images" / "a.png"), np.full((20, 60, 3), 128, np.uint8))
        (crops / "labels.csv").write_text("image,plate_text\na.png,AB123\n")
        (Path(tmp) / "split.csv").write_text("dataset,image\ncrops,a.png\n")
        bases: list[dict[str, Any]] = [{"path": str(crops)}, {"path": str(crops), "split": "train"},
                                       {"path": str(crops), "split": "holdout"},
                                       {"path": str(crops), "split_file": str(Path(tmp) / "split.csv")},
                                       {"synth": "latin"}]
        n = refused = 0
        broke = []
        for base in bases:
            for key in sorted(SOURCE_KEYS):
                for value in VALUES:
                    spec = {**base, key: value}
                    n += 1
                    try:
                        SourceDataset(spec, latin)
                    except UserError:
                        refused += 1
                    except Exception as exc:  # what a user would see as a traceback
                        broke.append(f"{spec}: {type(exc).__name__}: {exc}")
    print("\n".join(broke))
    print(f"{n} sources: {refused} refused in one line, {n - refused - len(broke)} read, {len(broke)} raised another "
          "exception")
    return 1 if broke else 0


if __name__ == "__main__":
    raise SystemExit(main())
