"""Label a harvest's review crops as a person would, from a labelled still set: a trial of the harvest loop.

    python -m pipeline.harvest O --images data_gen/scenes_val_m9/images --out H   # O: run_pipeline.py's output
    python bench/simulate_review.py --harvest H --reads O/images/reads.jsonl --labels data_gen/scenes_val_m9/labels.csv
    python -m pipeline.harvest --file-review --out H

Each still-image crop in `H/review` gets the text of the labelled plate its read's box overlaps most (IoU >= 0.4),
or an empty label (left out) where it overlaps none, or only a plate labelled without text: an optimistic
reviewer, who reads every labelled plate however smeared. Vehicles' crops (from video) are left as they are.
"""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import argparse  # noqa: E402
import csv  # noqa: E402
import json  # noqa: E402
from collections import defaultdict  # noqa: E402

import numpy as np  # noqa: E402

from common.cli import run_main  # noqa: E402
from common.errors import UserError  # noqa: E402
from detection.metrics import iou_matrix  # noqa: E402
from pipeline.harvest import still_crop_name  # noqa: E402


def overlapped_text(box: list[float], plates: list[tuple[list[float], str]], min_iou: float = 0.4) -> str:
    """The text of the plate in `plates` (box, text) that `box` overlaps most, if by `min_iou` or more, else ""."""
    if not plates:
        return ""
    ious = iou_matrix(np.array([box], np.float64), np.array([b for b, _ in plates], np.float64))[0]
    best = int(ious.argmax())
    return plates[best][1] if ious[best] >= min_iou else ""


def main(argv: list[str] | None = None) -> int:
    """Rewrite H/review/labels.csv with the labelled set's texts; print what changed."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--harvest", type=Path, required=True)
    ap.add_argument("--reads", type=Path, required=True, help="the run's reads.jsonl")
    ap.add_argument("--labels", type=Path, required=True, help="the still set's labels.csv (with boxes)")
    a = ap.parse_args(argv)
    review = a.harvest / "review" / "labels.csv"
    for p in (review, a.reads, a.labels):
        if not p.is_file():
            raise UserError(f"not found: {p}")
    truth: dict[str, list[tuple[list[float], str]]] = defaultdict(list)
    with a.labels.open(newline="") as f:
        for r in csv.DictReader(f):
            truth[Path(r["image"]).name].append(([float(r[k]) for k in ("x1", "y1", "x2", "y2")],
                                                 r["plate_text"].strip().upper()))
    boxes: dict[str, list[float]] = {}
    folder = a.reads.parent.name
    for line in a.reads.read_text().splitlines():
        obj = json.loads(line)
        for k, r in enumerate(obj.get("reads") or []):
            boxes[still_crop_name(folder, obj["source"], k)] = r["box"]
    with review.open(newline="") as f:
        rows = list(csv.DictReader(f))
    counts = {"same": 0, "corrected": 0, "blanked": 0, "video": 0}
    for r in rows:
        box = boxes.get(r["image"])
        if box is None:
            counts["video"] += 1
            continue
        src = r["source"].split("/", 1)[-1]
        text = overlapped_text(box, truth.get(Path(src).name, []))
        counts["same" if text == r["plate_text"] else "blanked" if not text else "corrected"] += 1
        r["plate_text"] = text
    with review.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["image", "plate_text"])
        w.writeheader()
        w.writerows(rows)
    print(f"{review}: {len(rows)} crops; read right already {counts['same']}, corrected {counts['corrected']}, "
          f"blanked {counts['blanked']} (no labelled plate with text), video crops left {counts['video']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(run_main(main))
