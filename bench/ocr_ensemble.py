"""Would two OCR models reading every crop, their CTC posteriors averaged, read more than one? A probe on the OCR
config's validation images (bench/results/ocr_ensemble_*.txt).

    python bench/ocr_ensemble.py --weights weights/ocr_latin.pth weights/ocr_latin_seed.pth \
        [--combine frames|sequences] [--config configs/ocr_latin.yaml] [--backend torch --precision fp32]

Every model reads each validation source of the config (as training validates: crops, boxes cut out of scenes,
two-row plates). `--combine frames` averages the models' per-frame posteriors (same alphabet, 50 frames each) and
decodes greedily: it needs models that emit characters on the same frames (one grown from the other).
`--combine sequences` takes each model's read as a candidate and keeps the one whose CTC log-likelihood summed over
the models is highest (`ocr.ensemble`, as `ocr_ensemble` reads): it does not depend on where a model places its characters.
Printed per source and in all: plates read exactly by each model and by the ensemble (also O/0-folded).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json

import numpy as np

from common.config import load_config
from common.errors import UserError
from ocr.alphabet import Codec
from ocr.config import OCRConfig
from ocr.data import SourceDataset, load_crop
from ocr.ensemble import EnsembleRecognizer
from ocr.process import fold_o0
from ocr.recognizer import Recognizer


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", nargs="+", required=True, help="two or more checkpoints of one alphabet")
    ap.add_argument("--config", default="configs/ocr_latin.yaml", help="its `val:` sources are read")
    ap.add_argument("--combine", choices=("frames", "sequences"), default="frames",
                    help="average posteriors frame by frame, or pick among the models' reads by summed likelihood")
    ap.add_argument("--backend", default="torch")
    ap.add_argument("--precision", default="fp32")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if len(args.weights) < 2:
        raise UserError("an ensemble needs two or more --weights")
    recs = [Recognizer.from_checkpoint(w, "cpu", args.backend, "greedy", precision=args.precision) for w in args.weights]
    chars = recs[0].cfg.alphabet
    if any(r.cfg.alphabet != chars for r in recs):
        raise UserError("the models read different alphabets: " + ", ".join(r.cfg.alphabet for r in recs))
    cfg = load_config(OCRConfig, args.config, [])
    names = [Path(w).name for w in args.weights] + ["ensemble"]
    rows, total = [], np.zeros(len(names), int)
    for spec in cfg.val:
        src = SourceDataset(dict(spec), Codec(chars))
        samples = src.samples
        crops = [load_crop(s) for s in samples]
        probs = [r.probs(crops) for r in recs]  # B x T x C each; Recognizer.probs runs them in batches
        reads = [[r.decode(p).text for p in ps] for r, ps in zip(recs, probs)]  # each model's own decoder (greedy)
        if args.combine == "frames":
            reads.append([recs[0].decode(p).text for p in np.mean(probs, axis=0)])
        else:  # the recognizer's own combination (ocr/ensemble.py), on the posteriors already computed
            reads.append([recs[0].decode(p).text for p in EnsembleRecognizer(recs).combine(np.stack(probs, axis=1))])
        gts = [s.text for s in samples]
        right = [sum(r == g for r, g in zip(rs, gts)) for rs in reads]
        folded = [sum(fold_o0(r) == fold_o0(g) for r, g in zip(rs, gts)) for rs in reads]
        total += right
        rows.append({"source": src.name, "n": len(gts), "right": dict(zip(names, right)),
                     "right_o0": dict(zip(names, folded))})
        print(f"{src.name:28s} {len(gts):4d}  " + "  ".join(f"{n} {r} (O/0 {f})" for n, r, f in zip(names, right, folded)))
    n = sum(r["n"] for r in rows)
    print(f"{'all':28s} {n:4d}  " + "  ".join(f"{name} {t}" for name, t in zip(names, total)))
    if args.json:
        args.json.write_text(json.dumps({"weights": args.weights, "combine": args.combine, "sources": rows, "n": n,
                                         "right": dict(zip(names, total.tolist()))}, indent=2))
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
