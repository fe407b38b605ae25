"""Read licence plates in video files, cameras, streams and images: one result per vehicle.

    python run_pipeline.py                          # the bundled sample with the shipped weights
    python run_pipeline.py clip.mp4 rtsp://user:pass@cam/1 0 photos/ [key=value ...]
    python run_pipeline.py clip.mp4 stride=2 detector.conf=0.3 fusion.lost_frames=20 line=[[0.5,0],[0.5,1]]
    python run_pipeline.py --crops plates/          # images that are already plate crops: OCR only
    python run_pipeline.py --source clip.mp4        # the same as a plain argument (also source=clip.mp4)
    python run_pipeline.py --sources cameras.yaml   # several cameras, each with its own settings
    python run_pipeline.py --sources cameras.yaml --check   # its settings checked, nothing read (exit 0 or 2)
    rpicam-vid -t 0 --inline -o - | python run_pipeline.py -   # a stream piped into standard input

A folder gives its images (one source) and each of its videos, then its subfolders' in turn (a dash-cam card's
DCIM/...; hidden folders and the pipeline's own output folders left out); with follow=true a folder is watched for
images that arrive (a camera uploading snapshots); a camera's snapshot URL (http, one picture per request) is
asked for a picture every snapshot_every_s. Cameras, streams and watched folders never end, so each runs in its
own thread beside the others; files and images are processed one after the other meanwhile.
Outputs go to <output_dir>/<source>/: events.db (SQLite), events.jsonl, events.csv, crops/, frames/, annotated.mp4
(or .mkv) and summary.json for videos and streams; reads.jsonl and reads.csv for images. Ctrl-C or SIGTERM stops
cleanly: open tracks are written as events before exit. Earlier runs' outputs: `python -m pipeline.search PLATE`
(when and where a plate was seen), `python -m pipeline.stays` (entries matched with exits).
"""
from __future__ import annotations

import os
import signal
import threading
from pathlib import Path
from typing import Any

from pipeline.runner import Job, run_all

ROOT = Path(__file__).resolve().parent


def _default_sources() -> tuple[list[str], bool]:
    """The bundled sample: the clip when a detector is shipped, else the plate crops (OCR only); with no samples
    beside the code (`pip install .` copies the code alone), a UserError."""
    from common.errors import UserError

    clip = ROOT / "samples" / "clip.mp4"
    if clip.is_file() and (ROOT / "weights" / "detector.pt").is_file():
        return [str(clip), str(ROOT / "samples" / "stills" / "images")], False
    if not (ROOT / "samples" / "plates").is_dir():
        raise UserError("no source given, and the bundled samples/ are not beside this install: give a video, a "
                        "camera, a stream or a folder")
    return [str(ROOT / "samples" / "plates")], True


def add_log_file(path: str) -> None:
    """The run's messages also into `path`, each with its UTC time and level, and a line per vehicle event (not on
    the console); rotated at 10 MB, the newest 10 kept; opened now, so a path that cannot be written is said before
    any source starts."""
    from loguru import logger

    from common.errors import UserError

    try:
        logger.add(path, format="{time:YYYY-MM-DD HH:mm:ss.SSS!UTC}Z {level: <7} {message}", rotation="10 MB",
                   retention=10, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write log_file {path}: {exc.strerror or exc}") from None


def main(argv: list[str] | None = None) -> int:
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("OPENCV_LOG_LEVEL", "OFF")  # OpenCV's and FFmpeg's own messages (a missing camera, a refused
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # stream) would surround our one error line; set to see them
    from loguru import logger

    from common.cli import entry_parser, leave, run_main, stop_signals
    from common.systemd import notify

    ap = entry_parser(__doc__)
    ap.add_argument("args", nargs="*",
                    help="sources (files, folders, camera index, URL, - for standard input) and key=value overrides")
    ap.add_argument("--config-dir", default=str(ROOT / "configs"), help="folder with pipeline/detector/tracker/fusion.yaml")
    ap.add_argument("--crops", action="store_true", help="inputs are plate crops: skip detection and tracking")
    ap.add_argument("--show", action="store_true", help="show a live window")
    ap.add_argument("--source", action="append", default=[], metavar="SRC",
                    help="a source, as a plain argument is (also source=SRC; repeatable)")
    ap.add_argument("--sources", metavar="FILE", help="YAML list of sources, each with its own settings "
                    "(pipeline/source_list.py): cameras with their own roi, line, output folder")
    ap.add_argument("--check", action="store_true", help="check the settings (configs, overrides, sources file, model "
                    "files, roi and line, watchlist, webhook) and exit, reading nothing: 0 when all is well, 2 with "
                    "the mistake's line (before restarting a service on an edited cameras file)")
    a = ap.parse_intermixed_args(argv)  # flags anywhere: clip.mp4 --show stride=2

    def work() -> int:
        from common.errors import UserError
        from pipeline.outputs import distinct_out_names
        from pipeline.settings import load_configs

        named = [x.removeprefix("source=") for x in a.args if x.startswith("source=")] + a.source  # never overrides
        args = [x for x in a.args if not x.startswith("source=")]
        overrides = [x for x in args if "=" in x and "://" not in x.split("=", 1)[0] and not Path(x).exists()]
        overrides += ["show=true"] if a.show else []
        crops_only = a.crops
        cfgs = load_configs(a.config_dir, overrides)
        given = [given_source(x) for x in args if x not in overrides] + [given_source(x) for x in named]
        check_given_starts(given, cfgs, crops_only)
        sources = given_sources(given, cfgs.pipeline.follow, crops_only)
        listed = listed_jobs(a.sources, a.config_dir, overrides) if a.sources else []
        for job in listed:
            check_given_starts([job.spec], job.cfgs, crops_only)
        if not sources and not listed:
            sources, crops_only = _default_sources()
            if crops_only:
                logger.info("no detector shipped yet: reading the bundled plate crops in samples/plates (OCR only)")
        names = distinct_out_names(sources)  # files of one name in different folders get one output folder each
        jobs = [Job(s, cfgs, names.get(s, "")) for s in sources] + listed
        check_one_stdin(jobs)
        if cfgs.pipeline.log_file and not a.check:
            add_log_file(cfgs.pipeline.log_file)
        models: dict[Any, Any] = {}  # the model files the sources name, each read once
        for job in jobs:  # a bad model file or watchlist, a bad webhook, no display: said before any source starts
            try:
                check_before_start(job.spec, job.cfgs, crops_only, models)
            except UserError as exc:  # a sources file's entry: which one
                if not job.listed:
                    raise
                raise type(exc)(f"{job.listed}: {exc}") from None
        if a.check:
            logger.info(f"settings checked: {len(jobs)} source{'s' * (len(jobs) != 1)} "
                        f"({', '.join(j.name for j in jobs)}); none was opened")
            return 0
        stop = threading.Event()

        def on_signal(signum, _frame):
            if stop.is_set():
                raise KeyboardInterrupt
            logger.warning(f"{signal.Signals(signum).name}: stopping; open tracks are being written")
            notify("STOPPING=1")
            stop.set()

        # Ctrl-C, a service manager's or a job scheduler's stop, the terminal or SSH session closed (SIGHUP, unless
        # nohup ignores it): each writes the open tracks and ends the run
        for stop_signal in stop_signals(signal.SIGINT, signal.SIGTERM):
            signal.signal(stop_signal, on_signal)
        return run_all(jobs, crops_only, stop)  # a source's own mistake is its one error line there

    return leave(run_main(work), argv)  # on the command line, the process ends there


def given_source(arg: str) -> str:
    """A source as given on the command line with `${NAME}` put in from the environment
    (`rtsp://admin:${CAM_PASSWORD}@cam/1`, written `$${CAM_PASSWORD}` in a systemd unit, which would put it in
    itself: the password then shown by `ps`), as a config value is."""
    from common.config import expand_env
    from pipeline.addresses import redact

    return str(expand_env(arg, f"source {redact(arg)}"))  # a login given in clear beside it, not shown


def given_sources(args: list[str], follow: bool, crops_only: bool) -> list[str]:
    """The command line's sources, folders expanded into theirs (a watched folder stays one source, its tree
    watched; with --crops image folders only), each once: a file or folder given again (`clip.mp4 ./clip.mp4`, a
    folder and a video in it) would have its vehicles written twice into one output folder."""
    from loguru import logger

    from pipeline.addresses import is_url, local_path
    from pipeline.media import expand_folder

    expanded = [s for x in map(local_path, args) for s in ([x] if follow and Path(x).is_dir() else
                                                           expand_folder(x, videos=not crops_only))]
    first: dict[str, str] = {}
    for s in expanded:
        key = s if is_url(s) or s.isdigit() else str(Path(s).resolve())
        if key in first:
            logger.warning(f"{s} is given more than once ({first[key]}): read once")
        else:
            first[key] = s
    return list(first.values())


def check_one_stdin(jobs: list[Job]) -> None:
    """A UserError where standard input (`-`) is more than one job's source (a sources file's entries, or one and the
    command line): it is read by one."""
    from common.errors import UserError
    from pipeline.addresses import STDIN

    if sum(j.spec == STDIN for j in jobs) > 1:
        raise UserError(f"standard input ({STDIN}) is given as more than one source (in --sources, or there and on the "
                        "command line): it is read by one")


def listed_jobs(path: str, config_dir: str, overrides: list[str]) -> list[Job]:
    """The sources of a `--sources` file, each with the command line's overrides and then its own."""
    from common.config import ConfigError
    from pipeline.addresses import redact
    from pipeline.settings import load_configs
    from pipeline.source_list import read_source_list

    jobs = []
    for i, entry in enumerate(read_source_list(path), 1):
        listed = f"{path}, entry {i} ({redact(entry.spec)})"
        try:
            cfgs = load_configs(config_dir, overrides + list(entry.overrides))
        except ConfigError as exc:
            raise ConfigError(f"{listed}: {exc}") from None
        jobs.append(Job(entry.spec, cfgs, entry.name, listed))
    return jobs


def check_before_start(spec: str, cfgs: Any, crops_only: bool, models: dict[Any, Any]) -> None:
    """What can be found wrong in source `spec`'s settings before it starts: its model files (each read once into
    `models`, with what it holds) and the patterns and watchlist against their alphabet, its window of a video file
    and the time it was recorded, its roi and counting line, its webhook, a display."""
    from pipeline.app import check_models, load_watchlist, zones_of
    from pipeline.recording import check_start
    from pipeline.sources import check_window

    alphabet = check_models(cfgs, detect=not crops_only, checked=models)
    check_window(spec, cfgs.pipeline.start_s, cfgs.pipeline.end_s)
    check_start(spec, cfgs.pipeline.video_start_utc)
    zones_of(cfgs.pipeline)
    load_watchlist(cfgs.pipeline, alphabet=alphabet)
    if cfgs.pipeline.webhook:
        from pipeline.webhook import check_webhook

        check_webhook(cfgs.pipeline.webhook, cfgs.pipeline.webhook_headers, cfgs.pipeline.webhook_ca)
    if cfgs.pipeline.show:
        from pipeline.annotate import check_display

        check_display()


def check_given_starts(specs: list[str], cfgs: Any, crops_only: bool) -> None:
    """A recording's start given as a time (`video_start_utc`) is one video's: given with a folder (`specs` as given,
    before folders are expanded) that holds several videos, or that is watched for the clips that come, it would time
    them all alike, so it is a UserError. Videos named one by one keep it (two cameras' exports of one night). A
    camera clock's offset (`photo_utc_offset`) that is none is one too, before any source is opened."""
    from common.errors import UserError
    from pipeline.media import VIDEO_EXTS, expand_folder
    from pipeline.recording import given_start, utc_offset

    p = cfgs.pipeline
    utc_offset(p.photo_utc_offset, "photo_utc_offset")
    if crops_only or given_start(p.video_start_utc) is None:  # none, or each file's own
        return
    for spec in (s for s in specs if Path(s).is_dir()):
        if p.follow:
            raise UserError(f"video_start_utc={p.video_start_utc} would give every clip that comes into {spec} the "
                            "same start: video_start_utc=file takes each clip's own")
        clips = [x for x in expand_folder(spec) if Path(x).suffix.lower() in VIDEO_EXTS]
        if len(clips) > 1:
            raise UserError(f"video_start_utc={p.video_start_utc} would give the {len(clips)} videos in {spec} the "
                            "same start: video_start_utc=file takes each one's own")


if __name__ == "__main__":
    raise SystemExit(main())
