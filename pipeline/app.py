"""Compose the pipeline from the YAML configs and run it on sources (used by run_pipeline.py)."""
from __future__ import annotations

import threading
from contextlib import ExitStack
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from loguru import logger

from common.errors import UserError, warn_once
from common.liveness import beat
from pipeline.config import PipelineConfig
from pipeline.outputs import claim_out, event_sinks, image_stores, make_out, out_dir, webhook_sink, write_summary
from pipeline.retention import Keeper
from pipeline.settings import Configs, crop_spec, strided, video_configs

if TYPE_CHECKING:
    from pipeline.reader import PlateReader


def _recognizer(cfg: PipelineConfig, patterns: tuple[str, ...]) -> Any:
    from ocr.ensemble import load_recognizer

    return load_recognizer([cfg.ocr_weights, *cfg.ocr_ensemble], cfg.ocr_ensemble_below, backend=cfg.ocr_backend,
                           decoder=cfg.ocr_decoder, patterns=patterns or None, precision=cfg.ocr_precision,
                           compiled=cfg.ocr_compile)


def check_models(cfgs: Configs, detect: bool = True, checked: dict[Any, Any] | None = None) -> str:
    """The model files `cfgs` names (the OCR's, with `detect` the detector's), checked as their loaders check them
    before loading: a missing or unreadable one is one error line before any source starts, not one per source, as
    is an ensemble of models that read apart, a plate pattern no read of their alphabet could fit, or a backend and
    precision that cannot run together. `checked` (the files read already, with what they hold, which gains these)
    reads each file once for the sources that share it. Returns the OCR's alphabet."""
    from ocr.ensemble import check_alike
    from ocr.recognizer import check_fit, check_model_file, resolve_backend

    checked = {} if checked is None else checked
    p = cfgs.pipeline
    ocr = (p.ocr_weights, *p.ocr_ensemble)
    for weights in ocr:
        if weights not in checked:
            checked[weights] = check_model_file(weights)
        check_fit(weights, cfgs.fusion.patterns, checked[weights].alphabet)
        resolve_backend(Path(weights), p.ocr_backend, p.ocr_precision, p.ocr_compile)
    check_alike([(w, checked[w]) for w in ocr])
    if detect and cfgs.detector not in checked:
        from detection.detector import check_weights

        check_weights(cfgs.detector)
        checked[cfgs.detector] = True
    return str(checked[p.ocr_weights].alphabet)


def load_watchlist(cfg: PipelineConfig, recognizer: Any = None, alphabet: str = "") -> Any:
    """The configured watchlist (pipeline/watchlist.py), or None; plates with a character outside `recognizer`'s
    alphabet (or `alphabet`, where no recognizer is loaded: the settings checked) are refused."""
    from pipeline.watchlist import Watchlist

    alphabet = getattr(getattr(recognizer, "cfg", None), "alphabet", alphabet)
    return Watchlist.load(cfg.watchlist, cfg.watchlist_max_edits, alphabet) if cfg.watchlist else None


def bar_off(wanted: bool) -> bool | None:
    """tqdm's `disable` for a progress bar: off unless `wanted`, and then drawn on a terminal only (None: tqdm leaves
    it out where stderr is a file, a pipe or a service's log, whose one line it would fill with carriage returns)."""
    return None if wanted else True


def video_rate(source: Any, fps: float = 0.0) -> float:
    """The annotated video's frame rate: `fps` when given, else the rate the source gives frames at (a video file's
    over its stride; a camera's as it reports it, else 25, and no more than its `max_fps`: a capped camera's video
    is not filled with copies of each frame)."""
    if fps > 0:
        return fps
    rate = (source.fps or 25.0) / getattr(source, "stride", 1)
    cap = getattr(getattr(source, "cfg", None), "max_fps", 0.0)
    return min(rate, cap) if cap > 0 else rate


def source_stride(source: Any) -> float:
    """How many of `source`'s frames go by for each frame run: a video file's `stride`; a camera capped by its
    `max_fps` whose rate is known, its rate over the cap; else 1 (`strided` counts the frame windows by it)."""
    if hasattr(source, "stride"):
        return float(source.stride)
    cap = getattr(getattr(source, "cfg", None), "max_fps", 0.0)
    return source.fps / cap if 0 < cap < (source.fps or 0.0) else 1.0


def run_video(spec: str, cfgs: Configs, stop: Any, detector: Any = None, recognizer: Any = None,
              windows: Any = None, out_name: str = "", label: str = "", sinks: list[Any] | None = None,
              stores: dict[str, Any] | None = None, recent: dict[str, tuple[float, float]] | None = None,
              on_status: Any = None) -> dict[str, Any]:
    """A video file, camera or stream through the full pipeline; returns the run summary as a dict.
    With `show`, its annotated frames go to `windows` (one per source), or a window of its own when none given.
    `out_name`: its output folder under `output_dir` (an absolute path: that folder); `label`: what its events call
    the source (default: `out_name`, else the source's own name). `sinks` and `stores`: open event outputs and crop
    and frame stores to use (a watched folder's, for its clips) instead of the configured ones in its folder;
    `recent`: the plates of earlier events, deduplicated against and kept up to date (`TrackFuser`); `on_status`: a
    camera's or stream's run summary is handed to it every `status_every_s` while it runs."""
    from tqdm import tqdm

    from pipeline.annotate import LiveWindows, VideoSink, draw
    from pipeline.live import LiveConfig, LiveSource
    from pipeline.orchestrator import Pipeline
    from pipeline.playback import ended_early
    from pipeline.recording import given_start, recording_clock
    from pipeline.sources import ImageSource, VideoFileSource, open_source, turned
    from pipeline.tracker import PlateTracker
    from pipeline.types import SourceEvent, utc_iso
    from pipeline.webhook import WebhookSink, outage_notes

    cfgs = video_configs(cfgs)
    p = cfgs.pipeline
    live = LiveConfig(p.open_timeout_s, p.read_timeout_s, p.stall_timeout_s, p.backoff_start_s, p.backoff_max_s,
                      p.open_retry_s, p.frozen_timeout_s, p.max_fps)
    source = open_source(spec, p.stride, live, stop, p.start_s, p.end_s, p.snapshot_every_s, p.source_fps)
    if p.stride > 1 and isinstance(source, LiveSource):
        logger.warning(f"{source.name}: stride={p.stride} is for video files; a camera's or stream's frames are read "
                       f"as they come, the newest each time (max_fps= caps how many a second)")
    elif p.max_fps > 0 and isinstance(source, VideoFileSource):
        logger.warning(f"{source.name}: max_fps={p.max_fps:g} is for cameras and streams; a video file's frames are "
                       f"all read (stride= reads every Nth)")
    cfgs = strided(cfgs, source_stride(source))  # the frame windows in the source's own frames
    clock = getattr(source, "clock", None)  # a camera's: now; a file's: when it was recorded, if known
    if p.video_start_utc and isinstance(source, VideoFileSource):
        clock = recording_clock(source.path, p.video_start_utc)
    elif p.video_start_utc and isinstance(source, LiveSource) and source.once:  # a recorder's playback, from its start
        clock, source.follows_clock = given_start(p.video_start_utc), False
    out = out_dir(p, source.name, out_name)
    make_out(out)
    label = label or out_name or source.name  # what events call the source: its name in a --sources file, if given
    keeper = Keeper(out, p.keep_days if sinks is None else 0)  # a watched folder's clip: the folder's, pruned there
    with ExitStack() as stack:
        claim_out(out, stack)  # before the models load: a folder in use is said at once
        keeper()
        detector, recognizer, watchlist, zones, fuser = video_stages(
            cfgs, label, detector, recognizer, clock=clock, recent=recent,
            **(image_stores(p, out) if stores is None else stores))
        sinks = event_sinks(p, out, stack) if sinks is None else sinks
        video = None
        live_parts = isinstance(source, LiveSource) and p.video_segment_min > 0

        def part_frames(fps: float) -> int:  # a live source's annotated part, in frames at `fps`
            return int(p.video_segment_min * 60 * fps) if live_parts else 0

        if p.video_out:
            fps = video_rate(source, p.video_fps)
            video = stack.enter_context(VideoSink(out / f"annotated.{p.video_container}", fps, part_frames(fps),
                                                  p.video_keep_segments if live_parts else 0,
                                                  min_free_mb=p.min_free_mb,
                                                  timed=not isinstance(source, ImageSource)))
        guessed = video is not None and not source.fps  # a camera not opened yet: its rate known at its first frame

        def bar(items: Any) -> Any:  # counts frames only, not a live source's lost/reconnected events
            nonlocal guessed
            with tqdm(total=source.total or None, unit="frame", disable=bar_off(p.progress), dynamic_ncols=True) as t:
                for item in turned(items, p.rotate):
                    if guessed and video is not None and not isinstance(item, SourceEvent):
                        guessed, rate = False, video_rate(source, p.video_fps)
                        video.retime(rate, part_frames(rate))
                    yield item
                    if not isinstance(item, SourceEvent):
                        t.update()

        advised: list[bool] = []  # a camera's plates told too small once (a recording's: its summary's figures only)

        def status(s: Any) -> None:  # a live source, while it runs; a status that cannot be written stops nothing
            keeper(sinks)
            if not advised and tell_size(s):
                advised.append(True)
            if p.status_every_s <= 0:  # called for the pruning alone
                return
            if on_status is not None:
                on_status(s)
            try:
                write_summary(out, s, detector, recognizer, running=True)
            except OSError as exc:
                logger.warning(f"{s.source}: summary.json not updated: {exc.strerror or exc}")
            rest = f" (detector on {s.detected_frames})" if s.detected_frames < s.frames else ""
            logger.info(f"{s.source}: running, {s.frames} frames at {s.fps} fps{rest}, {s.events} vehicles, "
                        f"{s.outages} outages" + (", lost now" if s.source_down else ""))

        live_status = isinstance(source, LiveSource) and (p.status_every_s > 0 or keeper.keep_days > 0)
        drawn = partial(draw, zones=zones)  # the roi and line drawn with the tracks
        hook = next((s for s in sinks if isinstance(s, WebhookSink)), None) if p.webhook_outages else None
        pipe = Pipeline(detector, PlateTracker(cfgs.tracker), recognizer, fuser, sinks, zones, video,
                        _show(drawn, label, windows or LiveWindows()) if p.show else drawn,
                        crop_spec(p, video=True), stop, watchlist=watchlist, on_status=status if live_status else None,
                        status_every_s=p.status_every_s or keeper.every_s, name=label, gate=motion_gate(p),
                        on_source=outage_notes(hook) if hook is not None else None)
        try:
            summary = pipe.run(source, bar)
        finally:
            source.close()
        if isinstance(source, LiveSource) and source.once and not summary.stopped:  # a recorder's playback
            early = ended_early(spec, summary.position_s)
            if early and p.video_start_utc and clock is not None:  # its events timed from the window's start
                early += f" video_start_utc={utc_iso(clock + int(summary.position_s or 0))}"
            if early:
                logger.warning(early)
    return write_summary(out, summary, detector, recognizer)


def tell_size(summary: Any) -> str:
    """A warning logged where most of a camera's vehicles' plates were too small to read well so far
    (`size_advice`); the warning, or ""."""
    from pipeline.plate_sizes import size_advice

    advice = size_advice(summary.plate_width_px, summary.source)
    if advice:
        logger.warning(advice)
    return advice


def video_detector(cfgs: Configs) -> Any:
    """The detector as video runs it: `cfgs`' as `video_configs` gives them (boxes down to the tracker's low
    threshold), each frame whole, stretched or de-interlaced as the config says (`detection.passes.for_video`)."""
    from detection import PlateDetector
    from detection.passes import for_video

    cfg = video_configs(cfgs).detector
    return for_video(PlateDetector(cfg), cfg)


def video_stages(cfgs: Configs, label: str, detector: Any = None, recognizer: Any = None,
                 **fuser_kw: Any) -> tuple[Any, Any, Any, Any, Any]:
    """The video pipeline's stages from `cfgs` (as `video_configs` gives them): the detector (on the roi with
    `roi_crop`), the recognizer, the watchlist, the zones and the track fuser (its events called `label`; `fuser_kw`:
    its clock and stores), each built unless given."""
    from pipeline.fusion import TrackFuser

    p = cfgs.pipeline
    detector = detector or video_detector(cfgs)
    recognizer = recognizer or _recognizer(p, cfgs.fusion.patterns)
    watchlist = load_watchlist(p, recognizer)
    zones, detector = with_zones(p, detector)
    fuser = TrackFuser(cfgs.fusion, label, zones.direction if zones and p.line else None,
                       decode=lambda m: _decoded(recognizer.decode(m)),
                       urgent=watchlist.match if watchlist is not None and p.watchlist_early else None, **fuser_kw)
    return detector, recognizer, watchlist, zones, fuser


def vehicle_reader(cfgs: Configs, name: str = "frames", detector: Any = None, recognizer: Any = None,
                   out: str | Path | None = None, rgb: bool = False) -> Any:
    """A `VehicleReader` (pipeline/vehicles.py) built from `cfgs` as `run_video` builds its pipeline; with `out`, its
    events also go to the configured outputs there (events.db, .jsonl, .csv, crops/, frames/, the webhook), closed
    by the reader's `close()`. Frames given with their `time_s` carry UTC times from `video_start_utc`, when set."""
    from pipeline.orchestrator import Pipeline
    from pipeline.recording import FROM_FILE, given_start, name_offset
    from pipeline.tracker import PlateTracker
    from pipeline.vehicles import VehicleReader

    cfgs = video_configs(cfgs)
    p = cfgs.pipeline
    if p.video_start_utc.strip() == FROM_FILE or name_offset(p.video_start_utc) is not None:
        raise UserError(f"video_start_utc={p.video_start_utc.strip()} reads a video file's own time: for frames given "
                        "from Python, give the time their time_s 0 was (video_start_utc=2026-12-05T22:00:00Z)")
    folder = make_out(Path(out)) if out is not None else None
    stores = image_stores(p, folder) if folder is not None else {}
    stack = ExitStack()
    try:
        if folder is not None:
            claim_out(folder, stack)  # before the models load: a folder in use is said at once
        detector, recognizer, watchlist, zones, fuser = video_stages(
            cfgs, name, detector, recognizer, clock=given_start(p.video_start_utc), **stores)
        sinks = event_sinks(p, folder, stack) if folder is not None else []
    except BaseException:
        stack.close()
        raise
    return VehicleReader(Pipeline(detector, PlateTracker(cfgs.tracker), recognizer, fuser, sinks, zones,
                                  crops=crop_spec(p, video=True), watchlist=watchlist, name=name,
                                  gate=motion_gate(p)), stack, rotate=p.rotate, rgb=rgb)


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


def still_reader(cfgs: Configs, detector: Any = None, recognizer: Any = None, rotate: int = 0,
                 rgb: bool = False) -> PlateReader:
    """The still-image reader (`pipeline.reader.PlateReader`) as the configs build it: the detector's passes for
    stills, plates cut as for stills, fusion's `min_chars` / `min_conf` as the floor; `detector` and `recognizer`
    given are used instead of loading the configured ones; `rotate` and `rgb` as `PlateReader` takes them (the
    command and the service turn their images themselves)."""
    from detection import PlateDetector
    from detection.passes import for_stills
    from pipeline.reader import PlateReader

    return PlateReader(for_stills(detector or PlateDetector(cfgs.detector), cfgs.detector),
                       recognizer or _recognizer(cfgs.pipeline, cfgs.fusion.patterns),
                       crop_spec(cfgs.pipeline, video=False), cfgs.fusion.min_chars, cfgs.fusion.min_conf, rotate, rgb)


def run_images(spec: str, cfgs: Configs, crops_only: bool, detector: Any = None, recognizer: Any = None,
               out_name: str = "", stop: Any = None) -> dict[str, Any]:
    """Still images: one JSONL/CSV line per image with its reads, written and logged as each is read (a progress
    bar over a folder). `crops_only`: each image is one plate. An unreadable image is reported (one line), listed in
    `skipped`, and the others are still read. `stop` (set by Ctrl-C) ends the folder after the image in hand. With
    `follow`, a folder is watched (`watch_media`) until `stop`: its reads are appended to those of earlier runs,
    whose images are not read again, and the videos that come are read as clips (`pipeline/clips.py`). With
    `webhook`, each image with plates in it is POSTed as its JSONL line."""
    from tqdm import tqdm

    from ocr.process import read_bgr, turn
    from pipeline.addresses import STDIN, is_url, redact
    from pipeline.clips import ClipReader, clips_read
    from pipeline.media import VIDEO_EXTS, folder_media, watch_media
    from pipeline.orchestrator import read_crops
    from pipeline.photo_meta import photo_meta
    from pipeline.recording import utc_offset
    from pipeline.sinks import ImageReadsSink, read_rows, with_watch
    from pipeline.sources import open_source
    from pipeline.types import utc_iso

    p = cfgs.pipeline
    clock = utc_offset(p.photo_utc_offset, "photo_utc_offset")
    given = [f"stride={p.stride}"] * (p.stride > 1) + [f"max_fps={p.max_fps:g}"] * (p.max_fps > 0)
    if given:  # a folder of frames exported from a video is read photo by photo, each one
        warn_once(f"{' and '.join(given)} {'are' if len(given) > 1 else 'is'} for videos: images are each read (a "
                  f"numbered sequence, frames/img_%05d.jpg, is read as a video)")
    if is_url(spec) or spec == STDIN:  # never opened (a stream's reader would be left running)
        raise UserError(f"{redact(spec)}: plate crops are read from image files and folders, not from a "
                        + ("URL" if is_url(spec) else "stream piped in"))
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
    keeper, old_seen = Keeper(out, p.keep_days), False
    with ExitStack() as stack:
        claim_out(out, stack)  # before the models load: a folder in use is said at once
        keeper()
        recognizer = recognizer or _recognizer(p, cfgs.fusion.patterns)
        watchlist = load_watchlist(p, recognizer)
        watch = partial(watch_fields, watchlist) if watchlist is not None else None
        reader = None if crops_only else still_reader(cfgs, detector, recognizer)
        hook = stack.enter_context(webhook_sink(p, out)) if p.webhook else None
        sink = stack.enter_context(ImageReadsSink(out, watchlist is not None, append=follow, hook=hook,
                                                  rotate=p.rotate))
        halt = stop or threading.Event()
        clips = ClipReader(cfgs, out, halt, recognizer, stack, detector, hook)  # the videos that come
        if follow:  # a watched folder's earlier reads are kept, and their images and clips not read again
            seen = sink.read_before()
            done = clips_read(out)
            if seen or done:
                logger.info(f"{len(seen)} images and {len(done)} clips of this folder were read by earlier runs; only "
                            "new ones are read")
            seen |= done
        paths = watch_media(folder, seen, halt, p.follow_poll_s, videos=not crops_only,
                            idle_s=p.follow_idle_s) if follow else listed
        wanted = p.progress and not follow and total > 1
        for path in tqdm(paths, total=total or None, unit="image", disable=bar_off(wanted), dynamic_ncols=True,
                         leave=False):
            beat()  # an image read: the folder's run goes on (systemd's watchdog, common/liveness.py)
            if halt.is_set():
                break
            if follow:  # a watch goes on for months: its folder pruned as its images come
                keeper([sink, *clips.sinks])
                written = keeper.too_old(path)  # its reads pruned already: not read again after each restart
                if written is not None:
                    if not old_seen:
                        logger.warning(f"{folder}: files written before the days kept (keep_days={p.keep_days:g}) "
                                       f"are not read, e.g. {name_of(path)} (written {utc_iso(written)})")
                    old_seen = True
                    continue
            name = name_of(path)
            if path.suffix.lower() in VIDEO_EXTS:  # only a watched folder gives videos here
                if not clips(path, name):
                    break
                continue
            try:
                img = turn(read_bgr(path), p.rotate)
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
            sink.write(name, reads, taken, photo_meta(path, clock))
            n += 1
            if not follow:
                lines.append((name, reads))
            texts = ", ".join(f"{r['text']} ({r['confidence']:.2f})" for r in reads) or "no plate"
            logger.info(f"{name:28s} {texts}")
    return {"source": source_name, "images": n, "clips": clips.read, "outputs": str(out), "reads": lines,
            "skipped": skipped,
            "stopped": not follow and halt.is_set() and n + len(skipped) < total}

