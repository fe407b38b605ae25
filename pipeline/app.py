"""Compose the pipeline from the YAML configs and run it on sources (used by run_pipeline.py)."""
from __future__ import annotations

import json
import os
import re
import threading
from contextlib import ExitStack
from dataclasses import asdict, dataclass, fields, replace
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from common.config import ConfigError, closest, load_config
from common.errors import UserError
from detection.config import DetectorConfig
from pipeline.config import PipelineConfig
from pipeline.fusion import FusionConfig
from pipeline.tracker import TrackerConfig

if TYPE_CHECKING:
    from pipeline.reader import PlateReader

COMPONENTS = {"pipeline": PipelineConfig, "detector": DetectorConfig, "tracker": TrackerConfig, "fusion": FusionConfig}


@dataclass(frozen=True)
class Configs:
    """The pipeline's four configs, as loaded from configs/ with overrides."""
    pipeline: PipelineConfig
    detector: DetectorConfig
    tracker: TrackerConfig
    fusion: FusionConfig


def config_keys() -> dict[str, str]:
    """Every component's keys, written as an override gives them (`fusion.min_conf`; the pipeline's bare), each with
    its bare name."""
    return {f.name if comp == "pipeline" else f"{comp}.{f.name}": f.name
            for comp, cls in COMPONENTS.items() for f in fields(cls)}


def _suggest_any(key: str) -> str:
    """The closest key of any component, written as it must be given (`fusion.min_conf`, or bare for pipeline)."""
    names = config_keys()
    close = closest(key, names.values())
    hits = [f"'{q}'" for q, bare in names.items() if bare == close]  # none when nothing is close (None)
    return f" (did you mean {' or '.join(hits)}?)" if hits else ""


def override_list(overrides: Any) -> list[str]:
    """`overrides` as a list of `key=value` strings; a single string or a path given for it (the config folder
    given first, `from_configs("configs")`) is a TypeError, not one override per character."""
    if isinstance(overrides, (str, Path)):
        raise TypeError(f"overrides are a list of key=value strings, not {str(overrides)!r} (the config folder is "
                        f"config_dir=)")
    return list(overrides)


def load_configs(config_dir: str | Path, overrides: list[str]) -> Configs:
    """Each component from `<config_dir>/<name>.yaml`; overrides `comp.key=value` (no prefix: pipeline)."""
    split: dict[str, list[str]] = {k: [] for k in COMPONENTS}
    pipeline_keys = {f.name for f in fields(PipelineConfig)}
    for o in overrides:
        key = o.split("=", 1)[0]
        comp, _, rest = key.partition(".")
        if rest and comp in COMPONENTS:
            if rest not in {f.name for f in fields(COMPONENTS[comp])}:
                raise ConfigError(f"override '{o}': {comp} has no key '{rest}'{_suggest_any(rest)}")
            split[comp].append(o[len(comp) + 1:])
        elif rest:
            raise ConfigError(f"override '{o}': unknown component '{comp}' (known: {', '.join(COMPONENTS)})")
        elif key in COMPONENTS and key != "pipeline":
            raise ConfigError(f"override '{o}': give each of {key}'s keys as {key}.KEY=VALUE")
        elif key not in pipeline_keys:
            raise ConfigError(f"override '{o}': unknown key '{key}'{_suggest_any(key)}")
        else:
            split["pipeline"].append(o)
    d = Path(config_dir)
    cfgs = Configs(**{k: load_config(cls, d / f"{k}.yaml" if (d / f"{k}.yaml").is_file() else None, split[k],
                                     prefix="" if k == "pipeline" else f"{k}.")
                      for k, cls in COMPONENTS.items()})
    if cfgs.pipeline.ocr_ensemble and cfgs.fusion.posterior_top_k > 1:
        raise ConfigError("fusion.posterior_top_k averages posteriors frame by frame, and the models of ocr_ensemble "
                          "emit on different frames: use one of the two")
    if cfgs.pipeline.ocr_ensemble_below < 1 and not cfgs.pipeline.ocr_ensemble:
        raise ConfigError(f"ocr_ensemble_below={cfgs.pipeline.ocr_ensemble_below:g} asks the other models of "
                          "ocr_ensemble for a second read, and ocr_ensemble names none")
    return cfgs


def video_configs(cfgs: Configs) -> Configs:
    """The configs as video runs them: the detector hands the tracker boxes down to `tracker.track_low_thresh`,
    as ultralytics' own `track()` does (ByteTrack's second stage keeps a track through frames where its plate
    scores low: blur, glare, a passing occluder), while a box below `detector.conf` still neither starts a
    track nor matches one in the first stage."""
    d, t = cfgs.detector, cfgs.tracker
    return replace(cfgs, detector=replace(d, conf=min(d.conf, t.track_low_thresh)),
                   tracker=replace(t, track_high_thresh=max(t.track_high_thresh, d.conf),
                                   new_track_thresh=max(t.new_track_thresh, d.conf)))


def crop_spec(cfg: PipelineConfig, video: bool) -> Any:
    """How plates are cut and read in video or in still images (`narrow_both_ways`, `read_views`: stills, always,
    never)."""
    from pipeline.crops import CropSpec

    def on(setting: str) -> bool:
        return setting == "always" or (setting == "stills" and not video)

    return CropSpec(cfg.crop_margin, cfg.min_plate_height, cfg.deskew_min_deg, cfg.crop_stretch_below,
                    on(cfg.narrow_both_ways), on(cfg.read_views), cfg.deinterlace_above)


def _recognizer(cfg: PipelineConfig, patterns: tuple[str, ...]) -> Any:
    from ocr.ensemble import load_recognizer

    return load_recognizer([cfg.ocr_weights, *cfg.ocr_ensemble], cfg.ocr_ensemble_below, backend=cfg.ocr_backend,
                           decoder=cfg.ocr_decoder, patterns=patterns or None, precision=cfg.ocr_precision,
                           compiled=cfg.ocr_compile)


def check_models(cfgs: Configs, detect: bool = True, checked: set[Any] | None = None) -> None:
    """The model files `cfgs` names (the OCR's, with `detect` the detector's), checked as their loaders check them
    before loading: a missing or unreadable one is one error line before any source starts, not one per source.
    `checked` (the settings checked already, which gains these) skips a setting the sources share."""
    from ocr.recognizer import check_model_file

    named = (cfgs.pipeline.ocr_weights, cfgs.pipeline.ocr_ensemble, cfgs.detector if detect else None)
    if checked is not None:
        if named in checked:
            return
        checked.add(named)
    for weights in (cfgs.pipeline.ocr_weights, *cfgs.pipeline.ocr_ensemble):
        check_model_file(weights)
    if detect:
        from detection.detector import check_weights

        check_weights(cfgs.detector)


def load_watchlist(cfg: PipelineConfig, recognizer: Any = None) -> Any:
    """The configured watchlist (pipeline/watchlist.py), or None; with `recognizer`, plates with a character outside
    its alphabet are refused."""
    from pipeline.watchlist import Watchlist

    alphabet = getattr(getattr(recognizer, "cfg", None), "alphabet", "")
    return Watchlist.load(cfg.watchlist, cfg.watchlist_max_edits, alphabet) if cfg.watchlist else None


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
    from pipeline.sources import is_live

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


def video_rate(source: Any, fps: float = 0.0) -> float:
    """The annotated video's frame rate: `fps` when given, else the rate the source gives frames at (a video file's
    over its stride; a camera's as it reports it, else 25)."""
    if fps > 0:
        return fps
    return (source.fps or 25.0) / getattr(source, "stride", 1)


def run_video(spec: str, cfgs: Configs, stop: Any, detector: Any = None, recognizer: Any = None,
              windows: Any = None, out_name: str = "") -> dict[str, Any]:
    """A video file, camera or stream through the full pipeline; returns the run summary as a dict.
    With `show`, its annotated frames go to `windows` (one per source), or a window of its own when none given."""
    from tqdm import tqdm

    from pipeline.annotate import LiveWindows, VideoSink, draw
    from pipeline.orchestrator import Pipeline
    from pipeline.sources import ImageSource, LiveConfig, LiveSource, open_source
    from pipeline.tracker import PlateTracker
    from pipeline.types import SourceEvent

    cfgs = video_configs(cfgs)
    p = cfgs.pipeline
    live = LiveConfig(p.open_timeout_s, p.read_timeout_s, p.stall_timeout_s, p.backoff_start_s, p.backoff_max_s,
                      p.open_retry_s)
    source = open_source(spec, p.stride, live, stop)
    out = out_dir(p, source.name, out_name)
    make_out(out)
    label = out_name or source.name  # what events call the source: its name in a --sources file, when given
    with ExitStack() as stack:
        claim_out(out, stack)  # before the models load: a folder in use is said at once
        detector, recognizer, watchlist, zones, fuser = video_stages(
            cfgs, label, detector, recognizer, clock=getattr(source, "clock", None), **image_stores(p, out))
        sinks = event_sinks(p, out, stack)
        video = None
        if p.video_out:
            fps = video_rate(source, p.video_fps)
            live_parts = isinstance(source, LiveSource) and p.video_segment_min > 0
            video = stack.enter_context(VideoSink(out / "annotated.mp4", fps,
                                                  int(p.video_segment_min * 60 * fps) if live_parts else 0,
                                                  p.video_keep_segments if live_parts else 0,
                                                  timed=not isinstance(source, ImageSource)))

        def bar(items: Any) -> Any:  # counts frames only, not a live source's lost/reconnected events
            with tqdm(total=source.total or None, unit="frame", disable=not p.progress, dynamic_ncols=True) as t:
                for item in items:
                    yield item
                    if not isinstance(item, SourceEvent):
                        t.update()

        def status(s: Any) -> None:  # a live source, while it runs; a status that cannot be written stops nothing
            try:
                write_summary(out, s, detector, recognizer, running=True)
            except OSError as exc:
                logger.warning(f"{s.source}: summary.json not updated: {exc.strerror or exc}")
            rest = f" (detector on {s.detected_frames})" if s.detected_frames < s.frames else ""
            logger.info(f"{s.source}: running, {s.frames} frames at {s.fps} fps{rest}, {s.events} vehicles, "
                        f"{s.outages} outages")

        live_status = isinstance(source, LiveSource) and p.status_every_s > 0
        drawn = partial(draw, zones=zones)  # the roi and line drawn with the tracks
        pipe = Pipeline(detector, PlateTracker(cfgs.tracker), recognizer, fuser, sinks, zones, video,
                        _show(drawn, label, windows or LiveWindows()) if p.show else drawn,
                        crop_spec(p, video=True), stop, watchlist=watchlist, on_status=status if live_status else None,
                        status_every_s=p.status_every_s, name=label, gate=motion_gate(p))
        try:
            summary = pipe.run(source, bar)
        finally:
            source.close()
    return write_summary(out, summary, detector, recognizer)


def image_stores(cfg: PipelineConfig, out: Path) -> dict[str, Any]:
    """The track fuser's stores of each vehicle's best crop and whole frame under `out`, as configured."""
    from pipeline.sinks import CropStore, FrameStore

    return {"save_crop": CropStore(out / "crops", cfg.crops_keep) if cfg.save_crops else None,
            "save_frame": FrameStore(out / "frames", cfg.frames_keep) if cfg.save_frames else None}


def event_sinks(cfg: PipelineConfig, out: Path, stack: ExitStack) -> list[Any]:
    """The configured event outputs in `out` (events.db, events.jsonl, events.csv, the webhook), each entered on
    `stack`, which closes them."""
    from pipeline.sinks import CsvSink, JsonlSink, SqliteSink

    made = [(cfg.sqlite, lambda: SqliteSink(out / "events.db")), (cfg.jsonl, lambda: JsonlSink(out / "events.jsonl")),
            (cfg.csv, lambda: CsvSink(out / "events.csv")), (bool(cfg.webhook), lambda: webhook_sink(cfg, out))]
    return [stack.enter_context(make()) for on, make in made if on]


def webhook_sink(cfg: PipelineConfig, out: Path) -> Any:
    """The configured webhook (pipeline/webhook.py), its pending events kept in `out`."""
    from pipeline.webhook import WebhookSink

    return WebhookSink(cfg.webhook, out / "webhook_pending.jsonl", cfg.webhook_headers, cfg.webhook_timeout_s,
                       cfg.backoff_start_s, cfg.backoff_max_s, images=cfg.webhook_images)


def video_stages(cfgs: Configs, label: str, detector: Any = None, recognizer: Any = None,
                 **fuser_kw: Any) -> tuple[Any, Any, Any, Any, Any]:
    """The video pipeline's stages from `cfgs` (as `video_configs` gives them): the detector (on the roi with
    `roi_crop`), the recognizer, the watchlist, the zones and the track fuser (its events called `label`; `fuser_kw`:
    its clock and stores), each built unless given."""
    from detection import PlateDetector
    from detection.passes import for_video
    from pipeline.fusion import TrackFuser

    p = cfgs.pipeline
    detector = detector or for_video(PlateDetector(cfgs.detector), cfgs.detector)
    recognizer = recognizer or _recognizer(p, cfgs.fusion.patterns)
    watchlist = load_watchlist(p, recognizer)
    zones, detector = with_zones(p, detector)
    fuser = TrackFuser(cfgs.fusion, label, zones.direction if zones and p.line else None,
                       decode=lambda m: _decoded(recognizer.decode(m)), **fuser_kw)
    return detector, recognizer, watchlist, zones, fuser


def vehicle_reader(cfgs: Configs, name: str = "frames", detector: Any = None, recognizer: Any = None,
                   out: str | Path | None = None) -> Any:
    """A `VehicleReader` (pipeline/vehicles.py) built from `cfgs` as `run_video` builds its pipeline; with `out`, its
    events also go to the configured outputs there (events.db, .jsonl, .csv, crops/, frames/, the webhook), closed
    by the reader's `close()`."""
    from pipeline.orchestrator import Pipeline
    from pipeline.tracker import PlateTracker
    from pipeline.vehicles import VehicleReader

    cfgs = video_configs(cfgs)
    p = cfgs.pipeline
    folder = make_out(Path(out)) if out is not None else None
    stores = image_stores(p, folder) if folder is not None else {}
    stack = ExitStack()
    try:
        if folder is not None:
            claim_out(folder, stack)  # before the models load: a folder in use is said at once
        detector, recognizer, watchlist, zones, fuser = video_stages(cfgs, name, detector, recognizer, **stores)
        sinks = event_sinks(p, folder, stack) if folder is not None else []
    except BaseException:
        stack.close()
        raise
    return VehicleReader(Pipeline(detector, PlateTracker(cfgs.tracker), recognizer, fuser, sinks, zones,
                                  crops=crop_spec(p, video=True), watchlist=watchlist, name=name,
                                  gate=motion_gate(p)), stack)


def motion_gate(cfg: PipelineConfig) -> Any:
    """The configured motion gate (pipeline/motion.py), on the roi's bounding box when one is drawn; None when off."""
    if not cfg.motion_gate:
        return None
    from detection.region import bounding_box
    from pipeline.motion import MotionGate

    return MotionGate(cfg.motion_every_s, cfg.motion_level, cfg.motion_share,
                      region=bounding_box(cfg.roi) if cfg.roi else None)


def zones_of(cfg: PipelineConfig) -> Any:
    """The zones `cfg` draws (`roi`, counting `line`), None without either; a bad polygon or line is a UserError."""
    from pipeline.zones import ZoneConfig, Zones

    return Zones(ZoneConfig(cfg.roi, cfg.line, True, cfg.directions), 1, 1) if (cfg.roi or cfg.line) else None


def with_zones(cfg: PipelineConfig, detector: Any) -> tuple[Any, Any]:
    """The zones `cfg` draws (`zones_of`) and the video detector as it runs with them: on the roi's bounding box
    alone with `roi_crop` (detection/region.py)."""
    zones = zones_of(cfg)
    if cfg.roi and cfg.roi_crop:
        from detection.region import RegionDetector, bounding_box

        detector = RegionDetector(detector, bounding_box(cfg.roi))
    return zones, detector


def write_summary(out: Path, summary: Any, detector: Any, recognizer: Any, running: bool = False) -> dict[str, Any]:
    """`out/summary.json`: the run's figures and model files; `running` while a live source goes on (written
    whole, then moved over the last one: a reader never sees half a file)."""
    result = {**asdict(summary), "models": models_run(detector, recognizer), "outputs": str(out)}
    if getattr(recognizer, "second_share", None) is not None:  # an OCR ensemble: the crops its other models read
        result["ocr_second_share"] = recognizer.second_share
    if running:
        result["running"] = True
    result["updated_utc"] = datetime.now(timezone.utc).isoformat(timespec="seconds")
    tmp = out / "summary.json.tmp"
    tmp.write_text(json.dumps(result, indent=2))
    tmp.replace(out / "summary.json")
    return result


def models_run(detector: Any, recognizer: Any) -> dict[str, str]:
    """The model files this run used, as the summary reports them (the ONNX exports run in place of the .pt/.pth)."""
    gray = getattr(detector, "gray", None)
    out = {"detector": str(getattr(detector, "weights", "")), "detector_gray": str(getattr(gray, "weights", "")),
           "ocr": str(getattr(recognizer, "source", "")), "ocr_precision": str(getattr(recognizer, "precision", ""))}
    return {k: v for k, v in out.items() if v}


def watch_fields(watchlist: Any, text: str, where: str) -> dict[str, str]:
    """An image read's watchlist fields (`watch`, `watch_label`: empty when it matches no listed plate); a match is
    logged."""
    hit = watchlist.alert(text, f"in {where}")
    return {"watch": hit.plate, "watch_label": hit.label} if hit else {"watch": "", "watch_label": ""}


def _decoded(read: Any) -> tuple[str, float, tuple[float, ...]]:
    return read.text, read.confidence, read.char_confidences


def _show(draw: Any, name: str, windows: Any) -> Any:
    def show(image: Any, tracks: Any, texts: dict[int, str], watched: frozenset = frozenset()) -> Any:
        img = draw(image, tracks, texts, watched)
        windows.submit(name, img)
        return img

    return show


def still_reader(cfgs: Configs, detector: Any = None, recognizer: Any = None) -> PlateReader:
    """The still-image reader (`pipeline.reader.PlateReader`) as the configs build it: the detector's passes for
    stills, plates cut as for stills, fusion's `min_chars` / `min_conf` as the floor; `detector` and `recognizer`
    given are used instead of loading the configured ones."""
    from detection import PlateDetector
    from detection.passes import for_stills
    from pipeline.reader import PlateReader

    return PlateReader(for_stills(detector or PlateDetector(cfgs.detector), cfgs.detector),
                       recognizer or _recognizer(cfgs.pipeline, cfgs.fusion.patterns),
                       crop_spec(cfgs.pipeline, video=False), cfgs.fusion.min_chars, cfgs.fusion.min_conf)


def run_images(spec: str, cfgs: Configs, crops_only: bool, detector: Any = None, recognizer: Any = None,
               out_name: str = "", stop: Any = None) -> dict[str, Any]:
    """Still images: one JSONL/CSV line per image with its reads, written and logged as each is read (a progress
    bar over a folder). `crops_only`: each image is one plate. An unreadable image is reported (one line), listed in
    `skipped`, and the others are still read. `stop` (set by Ctrl-C) ends the folder after the image in hand. With
    `follow`, a folder is watched (`watch_images`) until `stop`: its reads are appended to those of earlier runs,
    whose images are not read again. With `webhook`, each image with plates in it is POSTed as its JSONL line."""
    from tqdm import tqdm

    from ocr.process import read_bgr
    from pipeline.orchestrator import read_crops
    from pipeline.sinks import ImageReadsSink, read_rows, with_watch
    from pipeline.sources import folder_media, open_source, watch_images
    from pipeline.types import utc_iso

    p = cfgs.pipeline
    follow = p.follow and Path(spec).is_dir()
    if follow:
        folder = Path(spec)
        name_of, total, source_name = (lambda f: f.relative_to(folder).as_posix()), 0, folder.name
    else:
        images, videos = folder_media(Path(spec)) if crops_only and Path(spec).is_dir() else ([], [])
        if videos and not images:
            raise UserError(f"{spec} holds videos, not plate crops: --crops reads images of plates (videos run "
                            f"without it)")
        source = open_source(spec)
        listed: list[Path] | None = getattr(source, "paths", None)
        if listed is None:
            raise UserError(f"{spec} is not an image or a folder of images")
        name_of, total, source_name = (lambda f: f.name), len(listed), source.name
    out = out_dir(p, source_name, out_name)
    make_out(out)
    lines, skipped, n = [], [], 0  # a watched folder, read for months, keeps no list of its reads in memory
    crops = crop_spec(p, video=False)
    with ExitStack() as stack:
        claim_out(out, stack)  # before the models load: a folder in use is said at once
        recognizer = recognizer or _recognizer(p, cfgs.fusion.patterns)
        watchlist = load_watchlist(p, recognizer)
        watch = partial(watch_fields, watchlist) if watchlist is not None else None
        reader = None if crops_only else still_reader(cfgs, detector, recognizer)
        hook = stack.enter_context(webhook_sink(p, out)) if p.webhook else None
        sink = stack.enter_context(ImageReadsSink(out, watchlist is not None, append=follow, hook=hook))
        if follow:  # a watched folder's earlier reads are kept, and their images not read again
            seen = sink.read_before()
            if seen:
                logger.info(f"{len(seen)} images of this folder were read by earlier runs; only new ones are read")
        paths = watch_images(folder, seen, stop or threading.Event(), p.follow_poll_s) if follow else listed
        for path in tqdm(paths, total=total or None, unit="image", disable=not p.progress or follow or total < 2,
                         dynamic_ncols=True, leave=False):
            if stop is not None and stop.is_set():
                break
            name = name_of(path)
            try:
                img = read_bgr(path)
            except UserError as exc:  # one bad file of a folder: said, counted, and the others still read
                logger.error(f"error: {exc}")
                skipped.append(name)
                continue
            try:
                taken = utc_iso(path.stat().st_mtime)  # a camera's upload: when the car was there
            except OSError:  # gone already (a watched folder's camera tidies up)
                taken = ""
            if reader is None:  # --crops: an interlaced crop is read from one field too, the surer read kept
                r = read_crops(recognizer, [img], fields=[crops.field_view(img)])[0].read
                reads = [{"box": [0, 0, img.shape[1], img.shape[0]], "text": r.text,
                          "confidence": round(r.confidence, 4)}]
            else:
                reads = read_rows(reader(img))
            reads = with_watch(reads, name, watch)
            sink.write(name, reads, taken)
            n += 1
            if not follow:
                lines.append((name, reads))
            texts = ", ".join(f"{r['text']} ({r['confidence']:.2f})" for r in reads) or "no plate"
            logger.info(f"{name:28s} {texts}")
    return {"source": source_name, "images": n, "outputs": str(out), "reads": lines, "skipped": skipped,
            "stopped": not follow and stop is not None and stop.is_set() and n + len(skipped) < total}

