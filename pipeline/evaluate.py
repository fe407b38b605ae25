"""End-to-end evaluation on still images with plate boxes and texts, and on a clip with expected vehicles.

    python -m pipeline.evaluate --labels samples/stills/labels.csv [--json OUT] [--predictions OUT.jsonl]
    python -m pipeline.evaluate --video samples/clip.mp4 --expected samples/clip_expected.csv [--json OUT]
"""
from __future__ import annotations

import json
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
from loguru import logger

from common.cli import NO_METRICS, entry_parser, prepare_outputs, run_main
from common.errors import UserError
from common.paths import naming, read_csv
from detection.metrics import iou_matrix
from ocr.alphabet import plate_label
from ocr.metrics import near_text
from ocr.process import fold_o0
from pipeline.crops import CropSpec


MATCH_IOU = 0.4  # a read belongs to a labelled plate when their boxes overlap at least this much
WIDTH_BINS = (("<60px", 0, 60), ("60-120px", 60, 120), (">=120px", 120, float("inf")))  # plate width in the image


def turned_boxes(boxes: np.ndarray, height: int, width: int, degrees: int) -> np.ndarray:
    """`boxes` (N x 4, x1 y1 x2 y2) of a `height` x `width` image, where they are once it is turned clockwise by
    `degrees` (0, 90, 180, 270: `ocr.process.turn`)."""
    x1, y1, x2, y2 = boxes.T
    turns = {0: (x1, y1, x2, y2), 90: (height - y2, x1, height - y1, x2),
             180: (width - x2, height - y2, width - x1, height - y1), 270: (y1, width - x2, y2, width - x1)}
    return np.stack(turns[degrees], axis=1).reshape(-1, 4)


def evaluate_stills(labels_csv: Path, detector: Any, recognizer: Any, crops: CropSpec = CropSpec(),
                    predictions: Path | None = None, split_file: Path | None = None,
                    rotate: int = 0) -> dict[str, Any]:
    """Detection recall at IoU 0.4 and read accuracy (overall and by plate width): a GT plate is read when an
    overlapping read (IoU >= 0.4) has its text. Plates with empty text count for detection only (`read_acc` is over
    the `n_plates_with_text`). With `split_file`, only its images; plates cut as `crops` says; each image and its
    plates turned clockwise by `rotate` degrees first, as `run_pipeline.py` turns them (boxes written in the turned
    image)."""
    from detection.dataset import folder_labels, listed_images
    from ocr.process import dataset_image, read_bgr, turn
    from pipeline.orchestrator import read_image

    labels = folder_labels(labels_csv, ("test", "val"))  # ours, a YOLO, VOC or COCO export's, a public set's
    if split_file is not None:
        listed = listed_images(labels_csv, split_file)
        labels = {k: v for k, v in labels.items() if k in listed}
        if not labels:
            raise UserError(f"no image of {labels_csv} is listed in {split_file}")
    n_plates = n_text = found = read_ok = read_ok_o0 = 0
    by_width = {name: [0, 0] for name, _, _ in WIDTH_BINS}  # plates with text, read
    times = []
    out = predictions.open("w") if predictions else None
    try:
        for name, boxes in labels.items():
            img = read_bgr(dataset_image(labels_csv, name))
            gt = turned_boxes(np.array([[b.x1, b.y1, b.x2, b.y2] for b in boxes], np.float64).reshape(-1, 4),
                              img.shape[0], img.shape[1], rotate)
            t0 = time.perf_counter()
            # short reads kept: recall of the detector
            reads = read_image(turn(img, rotate), detector, recognizer, crops)
            ms = (time.perf_counter() - t0) * 1000
            times.append(ms)
            if out:
                with naming(out.name):  # a full disk: the line names the file
                    out.write(json.dumps({"image": name, "ms": round(ms, 2), "reads": [
                        {"box": list(r.box), "text": r.text, "conf": r.confidence} for r in reads]}) + "\n")
            pr = np.array([r.box for r in reads], np.float64).reshape(-1, 4)
            ious = iou_matrix(gt, pr)
            for i, b in enumerate(boxes):
                n_plates += 1
                hits = [j for j in range(len(reads)) if ious[i, j] >= MATCH_IOU]
                found += bool(hits)
                if b.text:
                    n_text += 1
                    ok = any(reads[j].text == b.text for j in hits)
                    read_ok += ok
                    bin_ = next(n for n, lo, hi in WIDTH_BINS if lo <= gt[i, 2] - gt[i, 0] < hi)
                    by_width[bin_][0] += 1
                    by_width[bin_][1] += ok
                    read_ok_o0 += any(fold_o0(reads[j].text) == fold_o0(b.text) for j in hits)
    finally:
        if out:
            with naming(out.name):
                out.close()
    if n_plates and not n_text:  # a labelling tool's boxes (YOLO, VOC, COCO) carry no plate's text
        logger.warning(f"{labels_csv}: none of its {n_plates} plates has its text in the labels: the detector's "
                       f"recall is measured, reading is not (read_acc counts the plates with text: 0)")
    return {"n_plates": n_plates, "n_plates_with_text": n_text, "det_recall@0.4": found / max(n_plates, 1),
            "read_acc": read_ok / max(n_text, 1),
            "read_acc_o0": read_ok_o0 / max(n_text, 1), "ms_per_image": statistics.median(times) if times else 0.0,
            "read_acc_by_plate_width": {k: {"n": n, "read_acc": ok / n if n else 0.0}
                                        for k, (n, ok) in by_width.items()}}


def read_expected(path: Path) -> list[dict[str, Any]]:
    """The vehicles an expected-vehicles CSV lists (`plate_text,first_frame`), in order."""
    if not path.is_file():
        raise UserError(f"expected-vehicles file not found: {path}")
    rows = list(read_csv(path, "CSV plate_text,first_frame[,last_frame]", ("plate_text",)))
    if not rows:
        raise UserError(f"{path}: no vehicles listed (expected CSV plate_text,first_frame[,last_frame])")
    out = []
    for i, r in enumerate(rows, start=2):
        try:
            first = int(r.get("first_frame") or 0)
        except ValueError:
            raise UserError(f"{path} row {i}: first_frame must be a frame number, got {r['first_frame']!r}") from None
        out.append({"text": plate_label(r["plate_text"] or ""), "first_frame": first})
    return out


def score_video(expected: list[dict[str, Any]], events: list[Any], trace: list[tuple[int, dict[int, str]]],
                misread_edits: int = 2, stride: int = 1) -> dict[str, Any]:
    """Read rate (vehicles with a correct event), duplicates per vehicle read, frames to first correct fused read,
    and misread events: events within `misread_edits` edits (at most a third of the characters) of an expected
    plate, the vehicle read wrong; the remaining events are `other_events` (plates the list leaves out). `events`:
    each event's text, confidence and kind (right, misread, other). `trace` counts the frames run, every `stride`th
    of the clip's; frames to a first read are the clip's, as `expected` counts them."""
    per, near = [], set()
    for v in expected:
        gt = fold_o0(v["text"])
        matches = [e for e in events if fold_o0(e.text) == gt]
        misreads = [e.text for e in events if near_text(fold_o0(e.text), gt, misread_edits)]
        near.update(misreads)
        first = next((f * stride for f, texts in trace if any(fold_o0(t) == gt for t in texts.values())), None)
        per.append({"text": v["text"], "events": len(matches), "misreads": misreads,
                    "frames_to_first_read": None if first is None else first - v["first_frame"]})
    read = [p for p in per if p["events"]]
    delays = [p["frames_to_first_read"] for p in per if p["frames_to_first_read"] is not None]
    gts = {fold_o0(v["text"]) for v in expected}
    kinds = [{"text": e.text, "confidence": round(e.confidence, 4),
              "kind": "right" if fold_o0(e.text) in gts else "misread" if e.text in near else "other"} for e in events]
    other = [k["text"] for k in kinds if k["kind"] == "other"]
    return {"vehicles": len(expected), "read_rate": len(read) / max(len(expected), 1),
            "duplicates_per_vehicle": (sum(p["events"] - 1 for p in read) / len(read)) if read else 0.0,
            "misread_events": sum(len(p["misreads"]) for p in per),
            "median_frames_to_first_read": statistics.median(delays) if delays else None,
            "other_events": other, "per_vehicle": per, "events": kinds}


def main(argv: list[str] | None = None) -> int:
    from pipeline.settings import load_configs

    ap = entry_parser(__doc__)
    ap.add_argument("--labels", type=Path, help="stills: labels.csv (image,plate_text,x1,y1,x2,y2), or its folder "
                    "(a YOLO, VOC or COCO export's, or a public set's photos with their plates' text files: its test "
                    "split)")
    ap.add_argument("--split-file", type=Path, help="stills: only the images listed in this dataset,image CSV")
    ap.add_argument("--video", help="a clip to run through the pipeline")
    ap.add_argument("--expected", type=Path, help="the clip's vehicles: plate_text,first_frame")
    ap.add_argument("--config-dir", default="configs")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--predictions", type=Path)
    ap.add_argument("overrides", nargs="*")
    a = ap.parse_intermixed_args(argv)

    def work() -> None:
        if not a.labels and not (a.video and a.expected):  # said before any model loads
            raise UserError("give --labels CSV, or --video CLIP with --expected CSV")
        prepare_outputs(a.json, a.predictions)
        cfgs = load_configs(a.config_dir, a.overrides)
        from detection import PlateDetector
        from detection.dataset import labels_csv_of
        from detection.passes import for_stills, for_video
        from pipeline.app import _recognizer
        from pipeline.settings import crop_spec, video_configs

        if a.video:
            cfgs = video_configs(cfgs)
        detector = PlateDetector(cfgs.detector)
        recognizer = _recognizer(cfgs.pipeline, cfgs.fusion.patterns)
        if a.labels:
            res = evaluate_stills(labels_csv_of(a.labels), for_stills(detector, cfgs.detector), recognizer,
                                  crop_spec(cfgs.pipeline, video=False), a.predictions, a.split_file,
                                  cfgs.pipeline.rotate)
        else:
            res = run_clip(a.video, a.expected, cfgs, for_video(detector, cfgs.detector), recognizer)
        if getattr(recognizer, "second_share", None) is not None:  # an ensemble: the crops its other models read
            res["ocr_second_share"] = recognizer.second_share
        report = json.dumps(res, indent=2)
        print(report)
        if a.json:
            with naming(a.json):  # a full disk: the line names the file
                a.json.write_text(report)

    return run_main(work, on_interrupt=NO_METRICS)


def run_clip(video: str, expected_csv: Path, cfgs: Any, detector: Any, recognizer: Any,
             wrap: Callable[[Any], Any] | None = None) -> dict[str, Any]:
    """The clip's vehicles against `expected_csv`, run as `run_pipeline.py` runs it (`stride`, `start_s`, `end_s`,
    `source_fps`, `rotate`); `wrap` may stand in for the opened clip's frames (bench/motion_gate_noise.py: noise
    added)."""
    import threading

    from pipeline.app import motion_gate, source_stride, video_stages
    from pipeline.orchestrator import Pipeline
    from pipeline.settings import crop_spec, strided
    from pipeline.sources import open_source, turned
    from pipeline.tracker import PlateTracker

    p = cfgs.pipeline
    expected = read_expected(expected_csv)
    events: list[Any] = []
    trace: list[tuple[int, dict[int, str]]] = []
    sink = type("Mem", (), {"write": lambda self, e: events.append(e)})()
    opened = open_source(video, p.stride, start_s=p.start_s, end_s=p.end_s, fps=p.source_fps)
    source = wrap(opened) if wrap else opened
    try:
        cfgs = strided(cfgs, source_stride(opened))
        # the stages as run_pipeline.py builds them (a configured roi, the fuser's posterior decoding), no outputs
        detector, recognizer, watchlist, zones, fuser = video_stages(cfgs, video, detector, recognizer)
        pipe = Pipeline(detector, PlateTracker(cfgs.tracker), recognizer, fuser, [sink], zones,
                        crops=crop_spec(p, video=True), stop=threading.Event(), trace=trace,
                        watchlist=watchlist, gate=motion_gate(p))
        summary = pipe.run(source, progress=lambda frames: turned(frames, p.rotate))
    finally:
        source.close()
    return {**score_video(expected, events, trace, stride=p.stride), "fps": summary.fps, "stage_ms": summary.stage_ms,
            "frames": summary.frames, "detected_frames": summary.detected_frames}


if __name__ == "__main__":
    raise SystemExit(main())
