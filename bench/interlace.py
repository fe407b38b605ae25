"""How the real crops read when an interlaced camera films a moving plate.

    python bench/interlace.py [--weights weights/ocr_latin.pth] [--ensemble W ...] [--split val|holdout]
                              [--deinterlace-above 1.0] [--json OUT]

Each real US and Argentinian crop of a split (`configs/splits/real_crops_val.csv` by default, the validation crops)
has its odd rows moved along the rows by 1, 2, 3 and 4 % of its width against its even rows (`ocr.augment.comb`:
the two fields of an interlaced frame, exposed 1/50 s apart while the car moves), as it is (a comb) and blended as
a simple de-interlacer does (a ghost), and the comb as the pipeline's `deinterlace_above` reads it (where its
`detection.interlace.comb_score` reaches the threshold, also from one field, line-doubled, the surer read kept:
`CropSpec.field_view`, `read_crops`), and is read by the recognizer as the pipeline runs it
(`Recognizer.from_checkpoint`, on the CPU its int8 export; with `--ensemble`, each model so, read together as
`ocr_ensemble`). Prints sequence accuracy per shift and how many crops the threshold de-interlaced. Needs
`../shared/data`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np
from crop_probe import parser, recognizer, seq_acc, split_set, write_json

from ocr.augment import blend_fields, comb
from pipeline.crops import CropSpec
from pipeline.orchestrator import read_crops

SHARES = (0.0, 0.01, 0.02, 0.03, 0.04)


def fields_moved(img: np.ndarray, share: float, blend: bool) -> np.ndarray:
    """`img` with its odd rows moved `share` of its width, blended vertically if `blend`."""
    out = comb(img, img.shape[1] * share, 1)
    return blend_fields(out) if blend else out


def main() -> int:
    ap = parser(__doc__)
    ap.add_argument("--deinterlace-above", type=float, default=1.0, help="the pipeline's deinterlace_above")
    args = ap.parse_args()
    crops, texts = split_set(args.split)
    rec = recognizer(args, backend="auto", precision="auto")  # as the pipeline runs it
    spec = CropSpec(deinterlace_above=args.deinterlace_above)
    result: dict[str, dict[str, float]] = {"comb": {}, "blended": {}, "deinterlaced": {}, "share_deinterlaced": {}}
    print(f"{len(crops)} US and Argentinian crops ({args.split}), {rec.source} ({rec.precision}); "
          f"de-interlaced where comb_score >= {args.deinterlace_above}")
    for share in SHARES:
        key = f"{share:.2f}"
        combed = [fields_moved(c, share, False) for c in crops]
        result["comb"][key] = seq_acc(rec, combed, texts)
        result["blended"][key] = seq_acc(rec, [fields_moved(c, share, True) for c in crops], texts)
        fields = [spec.field_view(c) for c in combed]
        hit = [f is not None for f in fields]
        reads = read_crops(rec, combed, fields=fields)
        result["deinterlaced"][key] = float(np.mean([r.read.text == t for r, t in zip(reads, texts)]))
        result["share_deinterlaced"][key] = float(sum(hit) / len(hit))
        print(f"fields {share:4.0%} of the width apart: comb {result['comb'][key]:6.1%}, "
              f"blended {result['blended'][key]:6.1%}, comb de-interlaced {result['deinterlaced'][key]:6.1%} "
              f"({sum(hit)} of {len(hit)} crops)")
    write_json(args, rec, len(crops), "by_share", result)
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
