"""Evaluate a recognizer on a labelled dataset: the guide's test report plus accuracy breakdowns.

    python ocr/evaluate.py --weights weights/ocr_latin.pth --data ../shared/data/us_crops \
        --split-file configs/splits/real_crops_holdout.csv --split holdout --show 20 --json out.json
"""
from __future__ import annotations

if __package__ in (None, ""):
    import sys
    from pathlib import Path as _P

    sys.path.insert(0, str(_P(__file__).resolve().parents[1]))

import csv
import json
import statistics
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from common.cli import NO_METRICS, at_least, entry_parser, prepare_outputs, run_main
from common.device import PRECISIONS
from common.paths import find, naming
from ocr.data import SourceDataset, load_crop
from ocr.label_files import dataset_folder
from ocr.alphabet import Codec
from ocr.metrics import confusions, summarize, wilson_interval
from ocr.recognizer import Recognizer
from ocr.ensemble import add_arguments as add_ensemble_arguments, load_recognizer

BAR = "=" * 70


def shown_name(path: Path, base: Path) -> str:
    """How the predictions name an image: by its path under the dataset `base` (UFPR-ALPR's
    `testing/track0091/track0091[01].png`: names repeat across its folders), or by its name in our layout's `images/`
    (and outside the dataset)."""
    try:
        rel = path.relative_to(base)
    except ValueError:
        return path.name
    return rel.name if rel.parts[:1] == ("images",) and len(rel.parts) == 2 else rel.as_posix()


def run_eval(recognizer: Recognizer, data: str | Path, split_file: str | None = None, split: str = "all",
             batch: int = 32) -> dict[str, Any]:
    """Read every sample of `data`; returns metrics, per-image predictions and timings."""
    spec: dict[str, Any] = {"path": str(data), "split": split}
    if split_file:
        spec["split_file"] = split_file
    src = SourceDataset(spec, Codec(recognizer.cfg.alphabet))
    base = dataset_folder(find(data))  # a label file: its folder
    rows, times = [], []
    for i in range(0, len(src.samples), batch):
        chunk = src.samples[i:i + batch]
        crops = [load_crop(s) for s in chunk]
        t0 = time.perf_counter()
        reads = recognizer(crops)
        times.append((time.perf_counter() - t0) * 1000 / len(chunk))
        rows += [(shown_name(s.path, base), s.text, r.text, r.confidence) for s, r in zip(chunk, reads)]
    gts, preds = [r[1] for r in rows], [r[2] for r in rows]
    m = summarize(gts, preds)
    by_len: dict[int, list[bool]] = defaultdict(list)
    for g, p in zip(gts, preds):
        by_len[len(g)].append(g == p)
    return {**m, "ms_per_plate": statistics.median(times) if times else 0.0, "rows": rows,
            "confusions": confusions(gts, preds).most_common(10),
            "by_length": {k: (sum(v), len(v)) for k, v in sorted(by_len.items())}}


def report(res: dict[str, Any], weights: Path, best: float | None, data: str, show: int, runs: str = "") -> str:
    """The guide's test report for evaluation results `res`, with the metrics beyond it; `runs`: what ran (the file
    and its precision, where its ms per plate come from)."""
    lines = [BAR[:60], "🔍 CRNN OCR INFERENCE", BAR[:60], "", "📦 Loading model...",
             f"✅ Model loaded from: {weights}"] + ([f"   Runs as: {runs}"] if runs else [])
    if best is not None:
        lines.append(f"   Best accuracy: {best * 100:.2f}%")
    rows = res["rows"]
    k = min(show, len(rows))
    if k:  # the guide's sample of reads (--show 0: none)
        ok = sum(g == p for _, g, p, _ in rows[:k])
        lines += ["", f"🧪 Testing on {k} images from {data}", BAR]
        lines += [f"{'✅' if g == p else '❌'} GT: {g} | Pred: {p}" for _, g, p, _ in rows[:k]]
        lines += [BAR, f"📊 Accuracy: {ok}/{k} = {100 * ok / k:.2f}%"]
    right = round(res["seq_acc"] * res["n"])
    low, high = wilson_interval(right, res["n"])  # a small test set's figure is a range: one plate of 29 is 3.4 points
    lines += ["", f"All {res['n']} images:",
              f"   Sequence accuracy:          {res['seq_acc'] * 100:.2f}%  ({right} of {res['n']}; 95 % interval "
              f"{low * 100:.1f}-{high * 100:.1f}%)",
              f"   Sequence accuracy (O=0):    {res['seq_acc_o0'] * 100:.2f}%",
              f"   Character accuracy:         {res['char_acc'] * 100:.2f}%",
              f"   Median ms per plate:        {res['ms_per_plate']:.2f}",
              "   By plate length:            " + ", ".join(f"{n}: {a}/{t}" for n, (a, t) in res["by_length"].items()),
              "   Top confusions (gt->pred):  " + (", ".join(f"{a}->{b} x{c}" for (a, b), c in res["confusions"]) or "none")]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from loguru import logger

    ap = entry_parser(__doc__)
    ap.add_argument("--weights", required=True, type=find, help=".pth checkpoint or exported .onnx")
    ap.add_argument("--data", required=True,
                    help="dataset folder or label file (ours, or another tool's: ocr/label_files.py)")
    ap.add_argument("--split-file", help="CSV dataset,image of held-out rows")
    ap.add_argument("--split", choices=("all", "train", "holdout", "val", "test"),
                    help="the rows the split file lists (holdout, the default with --split-file), the others (train) "
                         "or every row (all, the default without it); without --split-file, train, val or test is "
                         "the dataset's own split (its test/ folder, or its split.txt's)")
    ap.add_argument("--show", type=at_least(0), default=20, help="lines of GT | Pred to print")
    ap.add_argument("--json", type=Path, help="write {n, seq_acc, seq_acc_o0, char_acc, ms_per_plate}")
    ap.add_argument("--predictions", type=Path, help="write image,plate_text,pred,confidence")
    ap.add_argument("--backend", default="torch", choices=("torch", "onnx"))
    ap.add_argument("--device", default="auto")
    ap.add_argument("--decoder", default="auto", choices=("auto", "greedy", "beam"))
    ap.add_argument("--batch", type=at_least(1), default=32)
    ap.add_argument("--patterns", help="comma-separated plate formats for the beam search (D digit, L letter, "
                    "* any), e.g. LLLDDD,LLDDDLL for Argentina; default: the checkpoint's own")
    ap.add_argument("--precision", default="fp32", choices=PRECISIONS,
                    help="torch backend: fp32, bf16 (fast on AMX CPUs), fp16 (CUDA) or auto")
    add_ensemble_arguments(ap)
    ap.add_argument("--compile", action="store_true",
                    help="torch backend on the CPU: torch.compile the model (fp32, bf16, or int8 with torchao)")
    args = ap.parse_args(argv)
    if args.split == "holdout" and not args.split_file:
        ap.error(f"--split {args.split} needs --split-file (the CSV dataset,image of the held-out rows)")
    if args.split in ("val", "test") and args.split_file:
        ap.error(f"--split {args.split} is the dataset's own split: with --split-file, give holdout or train")
    args.split = args.split or ("holdout" if args.split_file else "all")

    def work() -> None:
        prepare_outputs(args.json, args.predictions)
        pats = tuple(p.strip() for p in args.patterns.split(",") if p.strip()) if args.patterns else None
        rec = load_recognizer([args.weights, *args.ensemble], args.ensemble_below, device=args.device,
                              backend=args.backend, decoder=args.decoder, patterns=pats, precision=args.precision,
                              compiled=args.compile)
        best = rec.best_seq_acc
        res = run_eval(rec, args.data, args.split_file, args.split, args.batch)
        logger.info(report(res, args.weights, best, args.data, args.show, f"{rec.source} ({rec.precision})"))
        share = getattr(rec, "second_share", None)  # an ensemble: what its other models were asked
        if share is not None:
            logger.info(f"   Other models read:          {share:.1%} of the crops "
                        f"(--ensemble-below {args.ensemble_below:g})\n")
        if args.json:
            with naming(args.json):  # a full disk: the line names the file
                args.json.write_text(json.dumps({k: res[k] for k in ("n", "seq_acc", "seq_acc_o0", "char_acc",
                                                                      "ms_per_plate")}, indent=2))
        if args.predictions:
            with naming(args.predictions), args.predictions.open("w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["image", "plate_text", "pred", "confidence"])
                w.writerows([n, g, p, f"{c:.4f}"] for n, g, p, c in res["rows"])

    return run_main(work, sink=lambda m: print(m, end=""),  # the report on stdout, as the guide's
                    on_interrupt=NO_METRICS)


if __name__ == "__main__":
    raise SystemExit(main())
