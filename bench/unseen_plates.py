"""How the held-out real crops read when the plate itself was never trained on.

    python bench/unseen_plates.py [--weights weights/ocr_latin.pth] [--backend B --precision P] [--json OUT]

The real crops are split by image, not by vehicle (`configs/splits/`): a few held-out crops show a plate that
another crop of the training rows shows too (the same car in another frame). This prints the recognizer's
sequence accuracy (exact; US also O/0-folded) on the held-out US and Argentinian crops in three parts: all, those
whose text no training or validation crop has (unseen plates: what photos from elsewhere are like) and the rest
(seen plates), and names the misreads of each part. The recognizer runs as the pipeline runs it
(`Recognizer.from_checkpoint`, on the CPU its int8 export; `--backend torch --precision fp32` for the model as it
is). Needs `../shared/data`.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json

from crop_probe import DATA, SPLITS

from ocr import Recognizer
from ocr.data import split_crops
from ocr.process import fold_o0

HOLDOUT = SPLITS["holdout"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="weights/ocr_latin.pth")
    ap.add_argument("--backend", choices=("auto", "torch", "onnx"), default="auto")
    ap.add_argument("--precision", choices=("auto", "fp32", "bf16", "int8"), default="auto")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    rec = Recognizer.from_checkpoint(args.weights, backend=args.backend, precision=args.precision)
    print(f"held-out real crops, {rec.source} ({rec.precision})")
    result: dict[str, dict[str, object]] = {}
    for name in ("us_crops", "ar_crops"):
        folder = DATA / name
        known = {text for _, text in split_crops([folder], HOLDOUT, split="train")}  # training and validation rows
        crops, texts = zip(*split_crops([folder], HOLDOUT))
        reads = [r.text for r in rec(list(crops))]
        for part, keep in (("all", lambda t: True), ("unseen", lambda t: t not in known),
                           ("seen", lambda t: t in known)):
            pairs = [(t, r) for t, r in zip(texts, reads) if keep(t)]
            exact = sum(t == r for t, r in pairs)
            folded = sum(fold_o0(t) == fold_o0(r) for t, r in pairs)
            wrong = [f"{t}->{r}" for t, r in pairs if t != r]
            result[f"{name}/{part}"] = {"n": len(pairs), "exact": exact, "o0": folded, "misreads": wrong}
            print(f"{name:9s} {part:6s} n={len(pairs):3d}  exact {exact / max(len(pairs), 1):7.2%}  "
                  f"O/0 {folded / max(len(pairs), 1):7.2%}  misreads: {', '.join(wrong) or '-'}")
    if args.json:
        args.json.write_text(json.dumps({"weights": args.weights, "source": rec.source, "parts": result}, indent=2))
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
