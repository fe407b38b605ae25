"""How the real crops read when an interlaced camera films a moving plate.

    python bench/interlace.py [--weights weights/ocr_latin.pth] [--split val|holdout] [--json OUT]

Each real US and Argentinian crop of a split (`configs/splits/real_crops_val.csv` by default, the validation crops)
has its odd rows moved along the rows by 1, 2, 3 and 4 % of its width against its even rows (`ocr.augment.comb`:
the two fields of an interlaced frame, exposed 1/50 s apart while the car moves), as it is (a comb) and blended as
a simple de-interlacer does (a ghost), and is read by the recognizer as the pipeline runs it
(`Recognizer.from_checkpoint`, on the CPU its int8 export). Prints sequence accuracy per shift. Needs
`../shared/data`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from crop_probe import parser, seq_acc, split_set, write_json

from ocr import Recognizer
from ocr.augment import blend_fields, comb

SHARES = (0.0, 0.01, 0.02, 0.03, 0.04)


def fields_moved(img: np.ndarray, share: float, blend: bool) -> np.ndarray:
    """`img` with its odd rows moved `share` of its width, blended vertically if `blend`."""
    out = comb(img, img.shape[1] * share, 1)
    return blend_fields(out) if blend else out


def main() -> int:
    args = parser(__doc__).parse_args()
    crops, texts = split_set(args.split)
    rec = Recognizer.from_checkpoint(args.weights, backend="auto", precision="auto")  # as the pipeline runs it
    result: dict[str, dict[str, float]] = {"comb": {}, "blended": {}}
    print(f"{len(crops)} US and Argentinian crops ({args.split}), {rec.source} ({rec.precision})")
    for share in SHARES:
        for kind, blend in (("comb", False), ("blended", True)):
            result[kind][f"{share:.2f}"] = seq_acc(rec, [fields_moved(c, share, blend) for c in crops], texts)
        print(f"fields {share:4.0%} of the width apart: comb {result['comb'][f'{share:.2f}']:6.1%}, "
              f"blended {result['blended'][f'{share:.2f}']:6.1%}")
    write_json(args, rec, len(crops), "by_share", result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
