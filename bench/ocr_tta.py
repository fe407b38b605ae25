"""Would reading each crop in several views read more? A probe on labelled crop sets (bench/results/ocr_views.txt).

    python bench/ocr_tta.py --weights weights/ocr_latin.pth --data ../shared/data/us_crops \
        --split-file configs/splits/real_crops_val.csv --split holdout [--data ...] [--views 0,1,2] [--json OUT]

Each crop is read in the views of `ocr.views.VIEWS` (as it is; its sides, then its height, trimmed and padded a
little). Printed per set, in plates read: the plain read (the first view), the pipeline's fusion (`ocr.views.pick`:
the read with the highest CTC log-likelihood summed over the views), a majority vote of the views' reads (the plain
read on a tie), a mixture (the likelihoods averaged rather than multiplied), and each view alone. US crops are
compared O/0-folded. The pipeline reads in views with `read_views=stills|always`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
from collections import Counter

import numpy as np

from common.cli import numbers
from common.errors import UserError
from ocr.alphabet import Codec
from ocr.data import SourceDataset, load_crop
from ocr.process import fold_o0
from ocr.recognizer import Recognizer
from ocr.views import VIEWS, log_likelihoods, pick, view


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--data", required=True, action="append")
    ap.add_argument("--split-file")
    ap.add_argument("--split", default="all")
    ap.add_argument("--backend", default="onnx")
    ap.add_argument("--precision", default="int8")
    ap.add_argument("--views", default=",".join(map(str, range(len(VIEWS)))), type=numbers(int),
                    help="indices into ocr.views.VIEWS to read (the first is the plain read)")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    if any(not 0 <= i < len(VIEWS) for i in args.views):
        raise UserError(f"--views: ocr.views.VIEWS has {len(VIEWS)} views, 0-{len(VIEWS) - 1}, not {args.views}")
    rec = Recognizer.from_checkpoint(args.weights, "cpu", args.backend, "greedy", precision=args.precision)
    chars = rec.cfg.alphabet
    views = [VIEWS[i] for i in args.views]
    res = {}
    for data in args.data:
        spec = {"path": data, "split": args.split, **({"split_file": args.split_file} if args.split_file else {})}
        fold = fold_o0 if "us_crops" in data else (lambda s: s)
        n, score = 0, Counter()
        per_view = np.zeros(len(views), int)
        for s in SourceDataset(spec, Codec(chars)).samples:
            crop = load_crop(s)
            probs = rec.probs([view(crop, *v) for v in views])
            reads = [rec.decode(p) for p in probs]
            texts = [r.text for r in reads]
            cands = sorted(set(texts))
            ll = log_likelihoods(probs, cands, chars)
            top, count = Counter(texts).most_common(1)[0]
            picks = {"plain": texts[0], "view sum": texts[pick(probs, texts, [r.confidence for r in reads], chars)],
                     "vote": top if count > 1 else texts[0],
                     "mixture": cands[int(np.logaddexp.reduce(ll, axis=0).argmax())]}
            gt = fold(s.text)
            n += 1
            score.update(k for k, t in picks.items() if fold(t) == gt)
            per_view += [fold(t) == gt for t in texts]
        res[data] = {"n": n, **{k: score[k] for k in ("plain", "view sum", "vote", "mixture")},
                     "each view": per_view.tolist()}
        print(f"{data}: " + " | ".join(f"{k} {v}" for k, v in res[data].items()))
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
