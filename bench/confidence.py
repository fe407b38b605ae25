"""How far a read's confidence can be trusted: the reads kept at each confidence threshold, how many of them are
right, and the accuracy of reads by confidence.

    python bench/confidence.py --split val|holdout [--weights W]          # the real crops, the OCR alone
    python -m pipeline.evaluate --labels L --predictions P.jsonl          # then, end to end on still images:
    python bench/confidence.py --labels L --predictions P.jsonl
    python -m pipeline.evaluate --video C --expected E --json R.json       # a clip of known vehicles:
    python bench/confidence.py --clip R.json [R2.json ...]                # its events by fused confidence

A read is right when its text is the plate's, O and 0 taken as one (as watchlists match). Crops: each crop's read
at the recognizer's sequence confidence, the recognizer run as the pipeline runs it. Stills: each plate with text
gets the read whose box overlaps it most (IoU >= 0.4), if any; reads shorter than `fusion.min_chars` are dropped
as the outputs drop them; reads over no labelled plate at all are counted apart as "unlabelled reads" (reads over a
plate labelled without text, too small or blurred to read by eye, are left out). In the pasted sets most unlabelled
reads are real plates of the background frames that their labels leave out (cut by the frame's edge, or far), so
the column is an upper bound on reads of things that are not plates. Clips: each event
(one per vehicle, as the outputs write them) at its fused confidence, right when it is an expected vehicle's
text, wrong when it is a misread of one (pipeline.evaluate's misread events); events of plates the list leaves
out are counted apart. Threshold t keeps the reads of confidence >= t (`fusion.min_conf` for still images and for
the fused confidence of a vehicle).
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse
import json
from dataclasses import dataclass

import numpy as np

from common.errors import UserError
from ocr.process import fold_o0

THRESHOLDS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99)
BINS = (0.0, 0.1, 0.3, 0.5, 0.7, 0.9, 0.99, 1.0001)


@dataclass(frozen=True)
class Scored:
    """Reads of labelled plates (`conf`, `right`; a plate with no read has conf -1), and reads over none."""
    conf: np.ndarray
    right: np.ndarray
    other_conf: np.ndarray


def crops_scored(weights: str, split: str) -> Scored:
    """The recognizer on the real crops of `split`, each read against its label."""
    from crop_probe import split_set

    from ocr import Recognizer

    rec = Recognizer.from_checkpoint(weights, backend="auto", precision="auto")  # as the pipeline runs it
    crops, texts = split_set(split)
    reads = rec(crops)
    print(f"{len(crops)} real crops ({split}), {rec.source} ({rec.precision})")
    return Scored(np.array([r.confidence for r in reads]),
                  np.array([fold_o0(r.text) == fold_o0(t) for r, t in zip(reads, texts)]), np.zeros(0))


def stills_scored(labels: Path, predictions: Path, min_chars: int) -> Scored:
    """pipeline.evaluate's reads of the images of `labels`, each labelled plate with text against its best read."""
    from detection.dataset import read_box_labels
    from detection.metrics import iou_matrix
    from pipeline.evaluate import MATCH_IOU

    if not predictions.is_file():
        raise UserError(f"predictions not found: {predictions} (write them with python -m pipeline.evaluate "
                        f"--labels {labels} --predictions {predictions})")
    gt_all = read_box_labels(labels)
    conf, right, other_conf = [], [], []
    n_images = 0
    for line in predictions.read_text().splitlines():
        rec = json.loads(line)
        boxes = gt_all.get(rec["image"])
        if boxes is None:
            raise UserError(f"{predictions}: image {rec['image']} is not in {labels}")
        n_images += 1
        reads = [r for r in rec["reads"] if len(r["text"]) >= min_chars]
        gt = np.array([[b.x1, b.y1, b.x2, b.y2] for b in boxes], np.float64).reshape(-1, 4)
        ious = iou_matrix(gt, np.array([r["box"] for r in reads], np.float64).reshape(-1, 4))
        for i, b in enumerate(boxes):
            if b.text:
                j = int(np.argmax(ious[i])) if len(reads) else -1
                hit = j >= 0 and ious[i, j] >= MATCH_IOU
                conf.append(reads[j]["conf"] if hit else -1.0)
                right.append(hit and fold_o0(reads[j]["text"]) == fold_o0(b.text))
        for j, r in enumerate(reads):
            if not len(boxes) or ious[:, j].max() < MATCH_IOU:
                other_conf.append(r["conf"])
    print(f"{n_images} images of {labels}, {len(conf)} plates with text, reads of at least {min_chars} characters")
    return Scored(np.array(conf), np.array(right, bool), np.array(other_conf))


def clip_scored(result: Path) -> Scored:
    """The events of a pipeline.evaluate --video result, each by its kind (right, misread, other)."""
    if not result.is_file():
        raise UserError(f"clip result not found: {result} (write it with python -m pipeline.evaluate --video ... "
                        f"--expected ... --json {result})")
    events = json.loads(result.read_text()).get("events")
    if events is None:
        raise UserError(f"{result} has no events list: re-run pipeline.evaluate --video with this version")
    known = [e for e in events if e["kind"] != "other"]
    print(f"{result}: {len(events)} events, {len(known)} of expected vehicles "
          f"(the threshold table counts events, not vehicles)")
    return Scored(np.array([e["confidence"] for e in known]), np.array([e["kind"] == "right" for e in known]),
                  np.array([e["confidence"] for e in events if e["kind"] == "other"]))


def report(s: Scored, unit: str = "plates", other_name: str = "unlabelled") -> dict:
    """Print and return the threshold table (the share of `unit` read right, the right share of the reads kept, the
    wrong ones kept, and the `other_name` kept) and the accuracy by confidence bin."""
    n = len(s.conf)
    rows = []
    print(f"{'threshold':>9s} {unit + ' right':>13s} {'right of kept':>14s} {'wrong kept':>11s} {other_name:>13s}")
    for t in THRESHOLDS:
        kept = s.conf >= t
        k, ok = int(kept.sum()), int((kept & s.right).sum())
        others = int((s.other_conf >= t).sum())
        rows.append({"threshold": t, "kept": k, "right": ok, "wrong": k - ok, "unlabelled": others})
        print(f"{t:9.2f} {ok / max(n, 1):13.1%} {ok / max(k, 1):14.1%} {k - ok:11d} {others:13d}")
    bins = []
    print(f"{'confidence':>13s} {'reads':>6s} {'right':>7s}")
    for lo, hi in zip(BINS, BINS[1:]):
        inb = (s.conf >= lo) & (s.conf < hi)
        k = int(inb.sum())
        bins.append({"from": lo, "to": min(hi, 1.0), "reads": k, "right": int((inb & s.right).sum())})
        print(f"{lo:5.2f}-{min(hi, 1.0):<7.2f} {k:6d} {(inb & s.right).sum() / max(k, 1):7.1%}")
    print(f"{unit} without a read: {int((s.conf < 0).sum())} of {n}")
    return {"plates": n, "no_read": int((s.conf < 0).sum()), "thresholds": rows, "bins": bins}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=("val", "holdout"), help="the real crops of this split (OCR alone)")
    ap.add_argument("--weights", default="weights/ocr_latin.pth", help="with --split")
    ap.add_argument("--labels", type=Path, help="still images: their labels.csv")
    ap.add_argument("--predictions", type=Path, help="still images: pipeline.evaluate --predictions output")
    ap.add_argument("--clip", type=Path, nargs="+", help="a clip: pipeline.evaluate --video ... --json output "
                                                         "(several: their events pooled)")
    ap.add_argument("--min-chars", type=int, default=4, help="still images: shorter reads are dropped (the outputs')")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    names = {}
    if args.split:
        scored = crops_scored(args.weights, args.split)
    elif args.clip:
        parts = [clip_scored(c) for c in args.clip]
        scored = Scored(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("conf", "right", "other_conf")))
        names = {"unit": "events", "other_name": "other events"}
    elif args.labels and args.predictions:
        scored = stills_scored(args.labels, args.predictions, args.min_chars)
    else:
        ap.error("give --split, --labels and --predictions, or --clip")
    result = report(scored, **names)
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    from common.cli import run_main

    raise SystemExit(run_main(main))  # an expected mistake: one error line, exit 2
