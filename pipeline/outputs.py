"""Where a run writes: its output folder (named after the source, made, held against a second run), its event
outputs (events.db, .jsonl, .csv, the webhook), the stores of each vehicle's crop and frame, and summary.json."""
from __future__ import annotations

import json
import os
import re
from contextlib import ExitStack
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from common.errors import UserError
from common.paths import written_whole
from pipeline.config import PipelineConfig


def out_dir(cfg: PipelineConfig, name: str, folder: str = "") -> Path:
    """The source's output folder: `folder` when given (see `distinct_out_names`), else named after the source."""
    if folder:
        return Path(cfg.output_dir) / folder
    if "://" in name:  # a stream (its name already redacted): host, port and path as one portable folder name
        name = re.sub(r"[^A-Za-z0-9.-]+", "_", name.split("://", 1)[1].split("@")[-1]).strip("_.")
    else:
        name = Path(name).stem
    return Path(cfg.output_dir) / (name or "source")


def make_out(out: Path) -> Path:
    """Create the output folder `out`; one error line when it cannot be created or written to."""
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UserError(f"cannot create output folder {out}: {exc.strerror or exc}") from None
    if not os.access(out, os.W_OK):
        raise UserError(f"output folder {out} is not writable")
    return out


def claim_out(out: Path, stack: ExitStack) -> None:
    """Hold the output folder `out` for this run until `stack` closes (a lock on `out/.run.lock`, let go when the
    process ends however it ends): a second run writing into it at once (a camera started twice) is one error line,
    not two runs' events interleaved and their annotated videos written over each other."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock
        return
    f = open(out / ".run.lock", "a+", encoding="utf-8")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # held
        f.seek(0)
        holder = f.read().strip()
        f.close()
        raise UserError(f"output folder {out} is being written by another run" + (f" (pid {holder})" if holder else "")
                        + ": give this one another output_dir (or name)") from None
    except OSError:  # a file system without locks (some network mounts): run unguarded, as before
        f.close()
        return
    f.seek(0)
    f.truncate()
    f.write(f"{os.getpid()}\n")
    f.flush()
    stack.callback(f.close)


def distinct_out_names(specs: list[str]) -> dict[str, str]:
    """Output folder names for files of one run that would share one (`cam1/day.mp4`, `cam2/day.mp4`): the parent
    folder joins the name (`cam1_day`), then a number if needed. Sources not listed keep their default."""
    from pipeline.addresses import is_live

    files = [s for s in specs if not is_live(s)]
    stems = [Path(s).stem for s in files]
    names, taken = {}, set(stems)
    for spec, stem in zip(files, stems):
        if stems.count(stem) > 1:
            base = f"{Path(spec).resolve().parent.name}_{stem}"
            name, n = base, 2
            while name in taken:
                name, n = f"{base}_{n}", n + 1
            names[spec] = name
            taken.add(name)
    return names


def image_stores(cfg: PipelineConfig, out: Path) -> dict[str, Any]:
    """The track fuser's stores of each vehicle's best crop and whole frame under `out`, as configured."""
    from pipeline.stores import CropStore, FrameStore

    return {"save_crop": CropStore(out / "crops", cfg.crops_keep, min_free_mb=cfg.min_free_mb) if cfg.save_crops
            else None,
            "save_frame": FrameStore(out / "frames", cfg.frames_keep, min_free_mb=cfg.min_free_mb) if cfg.save_frames
            else None}


def event_sinks(cfg: PipelineConfig, out: Path, stack: ExitStack, hook: Any = None) -> list[Any]:
    """The configured event outputs in `out` (events.db, events.jsonl, events.csv, the webhook), each entered on
    `stack`, which closes them. `hook`: a webhook sink already open to send the events with (a watched folder's, whose
    clips' events then wait in its pending file while the service is down, to be sent as the watch goes on)."""
    from pipeline.sinks import CsvSink, JsonlSink, SqliteSink

    made = [(cfg.sqlite, lambda: SqliteSink(out / "events.db")), (cfg.jsonl, lambda: JsonlSink(out / "events.jsonl")),
            (cfg.csv, lambda: CsvSink(out / "events.csv")),
            (bool(cfg.webhook) and hook is None, lambda: webhook_sink(cfg, out))]
    return [stack.enter_context(make()) for on, make in made if on] + ([hook] if hook is not None else [])


def webhook_sink(cfg: PipelineConfig, out: Path) -> Any:
    """The configured webhook (pipeline/webhook.py), its pending events kept in `out`."""
    from pipeline.webhook import WebhookSink

    return WebhookSink(cfg.webhook, out / "webhook_pending.jsonl", cfg.webhook_headers, cfg.webhook_timeout_s,
                       cfg.backoff_start_s, cfg.backoff_max_s, images=cfg.webhook_images, keep_days=cfg.keep_days,
                       ca=cfg.webhook_ca)


def write_summary(out: Path, summary: Any, detector: Any, recognizer: Any,
                  running: bool = False) -> dict[str, Any]:
    """`out/summary.json`: the run's figures and model files; `running` while a live source goes on (written
    whole, then moved over the last one: a reader never sees half a file; a full disk's error names it)."""
    result = {**asdict(summary), "models": models_run(detector, recognizer), "outputs": str(out)}
    if getattr(recognizer, "second_share", None) is not None:  # an OCR ensemble: the crops its other models read
        result["ocr_second_share"] = recognizer.second_share
    if running:
        result["running"] = True
    result["updated_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    written_whole(out / "summary.json", lambda part: part.write_text(json.dumps(result, indent=2)))
    return result


def models_run(detector: Any, recognizer: Any) -> dict[str, str]:
    """The model files this run used, as the summary reports them (the ONNX exports run in place of the .pt/.pth)."""
    gray = getattr(detector, "gray", None)
    out = {"detector": str(getattr(detector, "weights", "")), "detector_gray": str(getattr(gray, "weights", "")),
           "ocr": str(getattr(recognizer, "source", "")), "ocr_precision": str(getattr(recognizer, "precision", ""))}
    return {k: v for k, v in out.items() if v}
