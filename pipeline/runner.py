"""Sources run to their outputs (run_pipeline.py's jobs): one at a time, or cameras, streams and watched folders side
by side in threads of their own; a camera's run that fails once it has run is started again; under systemd, each is
watched for hangs and told (ready, its status)."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any

RESTART_AFTER_S = 60.0  # a camera's run that fails after running this long is started again (run_all)


@dataclass(frozen=True)
class Job:
    """A source with the configs it runs with, its output folder's name ("": named after the source) and, for a
    sources file's entry, where it is listed (`cameras.yaml, entry 2 (rtsp://***@10.0.0.6/1)`), which a mistake in
    its settings names."""
    spec: str
    cfgs: Any
    out_name: str = ""
    listed: str = ""

    @property
    def name(self) -> str:
        """What its lines and `systemctl status` call it: its output folder's name, else the source with its login
        hidden."""
        from pipeline.addresses import redact

        return redact(self.out_name or self.spec)


def run_one(spec: str, cfgs: Any, crops_only: bool, stop: threading.Event, windows: Any, out_name: str = "",
            on_status: Any = None) -> bool:
    """One source to its outputs, with a summary line; False (after one error line) when it failed. `on_status`: a
    camera's or stream's run summary, every `status_every_s` while it runs (`pipeline.app.run_video`)."""
    from loguru import logger

    from common.cli import EXPECTED, error_line
    from ocr.process import IMAGE_EXTS
    from pipeline.addresses import is_live, is_url
    from pipeline.app import run_images, run_video
    from pipeline.sources import go_on_line, is_sequence, window_text

    try:  # an image's URL is a camera's snapshot URL, numbered images a video: both read below
        if crops_only or Path(spec).is_dir() or (Path(spec).suffix.lower() in IMAGE_EXTS and not is_url(spec)
                                                 and not is_sequence(spec)):
            res = run_images(spec, cfgs, crops_only, out_name=out_name, stop=stop)
            bad = f", {len(res['skipped'])} unreadable (skipped)" if res["skipped"] else ""
            bad += ", stopped before the rest" if res["stopped"] else ""
            clips, more = (f", {res['clips']} clips", ", events.*, clips/") if res.get("clips") else ("", "")
            logger.info(f"{res['images']} images{clips} read{bad} -> {res['outputs']}/reads.jsonl, reads.csv{more}")
            return not res["skipped"]
        res = run_video(spec, cfgs, stop, windows=windows, out_name=out_name, on_status=on_status)
        notes = f", {res['dropped_frames']} stale frames dropped, {res['outages']} outages" if (
            res["dropped_frames"] or res["outages"]) else ""
        notes += f", {res['unreadable_frames']} undecodable frames skipped" if res["unreadable_frames"] else ""
        detected = res.get("detected_frames", res["frames"])
        notes += f", detector on {detected} ({res['frames'] - detected} unmoved)" if detected < res["frames"] else ""
        if res.get("stopped") and res.get("position_s") is not None and not is_live(spec):
            notes += f", {go_on_line(res['position_s'], cfgs.pipeline.end_s)}"
        c = cfgs.pipeline
        parts = is_live(spec) and c.video_segment_min > 0  # a camera's annotated video: parts named by their start
        made = [n for on, n in ((c.sqlite, "events.db"), (c.jsonl, "events.jsonl"), (c.csv, "events.csv"),
                                (c.save_crops, "crops/"), (c.save_frames, "frames/"),
                                (c.video_out, f"annotated{'_*' * parts}.{c.video_container}")) if on]
        logger.info(f"{res['source']}{window_text(c.start_s, c.end_s)}: {res['frames']} frames at {res['fps']} fps"
                    f"{notes}, {res['events']} vehicles -> {res['outputs']}/ ({', '.join(made)})")
        return True
    except EXPECTED as exc:
        logger.error(error_line(exc))
        return False


def run_all(jobs: list[Job], crops_only: bool, stop: threading.Event) -> int:
    """Cameras, streams and watched folders never end: with other sources, each runs in its own thread (its own
    detector and recognizer) while files and images run one after the other here; progress bars then stay off.
    This (the main) thread keeps taking signals and draws the `--show` windows. An endless source whose run fails
    once it has run for `RESTART_AFTER_S` is started again after `backoff_max_s` (one that fails at its start, not).
    Under systemd, the service is told ready now, each source is watched for progress (`WatchdogSec=`:
    common/liveness.py) and `systemctl status` says which run. Returns the exit status."""
    from loguru import logger

    from common.liveness import doings, wait, watching
    from common.systemd import Supervisor, notify, watchdog_s
    from pipeline.addresses import is_live
    from pipeline.annotate import LiveWindows

    windows = LiveWindows()

    def endless(job: Job) -> bool:
        return (not crops_only and is_live(job.spec)) or (job.cfgs.pipeline.follow and Path(job.spec).is_dir())

    vehicles: dict[str, str] = {}  # each camera's or stream's vehicles so far, by its name (systemctl status)

    def tally(source: str, summary: Any) -> None:
        vehicles[source] = f"{summary.events} vehicle{'s' * (summary.events != 1)}"

    def run(job: Job) -> bool:
        with watching(job.name):
            return run_one(job.spec, job.cfgs, crops_only, stop, windows, job.out_name, partial(tally, job.name))

    def run_endless(job: Job) -> bool:  # a camera, a stream, a watched folder: started again after a failure
        while True:  # that came once it had run for RESTART_AFTER_S (a full disk, a fault of ours), not one at its
            started = time.monotonic()  # start (a camera not opened, its settings): the others are not stopped
            try:
                good = run(job)
            except Exception:  # its traceback told here, in the journal, rather than by the thread's end
                logger.opt(exception=True).error(f"{job.name}: the run failed")
                good = False
            ran = time.monotonic() - started
            if good or stop.is_set() or ran < RESTART_AFTER_S:
                return good
            delay = job.cfgs.pipeline.backoff_max_s
            logger.warning(f"{job.name}: failed after running for {ran / 60:.0f} min; started again in {delay:g} s")
            if wait(stop, delay):
                return True  # stopped as asked, while it waited to start again (its failure told above)

    cams = [replace(j, cfgs=replace(j.cfgs, pipeline=replace(j.cfgs.pipeline, progress=False)))
            for j in jobs if endless(j)] if len(jobs) > 1 else []
    ok = [False] * len(cams)  # a camera whose run failed (and was not started again) leaves False: exit status 1
    here: list[str] = []  # the source read by this thread now

    def run_cam(i: int) -> None:
        ok[i] = run_endless(cams[i])

    def status() -> str:  # systemctl status's line
        parts = []
        if cams:
            failed = [c.name for c, t, good in zip(cams, threads, ok) if not (t.is_alive() or good)]
            parts.append(f"{sum(t.is_alive() for t in threads)} of {len(cams)} cameras, streams or watched folders "
                         "running" + (f" ({', '.join(failed)} stopped on an error)" if failed else ""))
        if here:
            parts.append(f"reading {here[-1]}")
        waits = doings()  # what a camera waits for: to open, its lost stream
        for source in dict.fromkeys([*vehicles, *waits]):
            parts.append(f"{source}: {', '.join(filter(None, (vehicles.get(source), waits.get(source))))}")
        return "; ".join(parts)

    threads = [threading.Thread(target=run_cam, args=(i,), name=f"source-{i}", daemon=True) for i in range(len(cams))]
    notify("READY=1")  # the settings checked: a Type=notify unit is started
    period = watchdog_s()
    for job in (j for j in jobs if period and endless(j) and j.cfgs.pipeline.open_timeout_s >= period / 2):
        logger.warning(f"{job.name}: open_timeout_s={job.cfgs.pipeline.open_timeout_s:g} is at least half the "
                       f"watchdog's period ({period:g} s, WatchdogSec=): a camera slow to open would be taken for a "
                       "hang; raise WatchdogSec")
    with Supervisor(status):
        for t in threads:
            t.start()
        for job in jobs:
            if stop.is_set():
                break
            if not (cams and endless(job)):
                here.append(job.name)
                ok.append(run_endless(job) if endless(job) else run(job))
        here.clear()
        while any(t.is_alive() for t in threads):
            windows.pump()
            for t in threads:
                t.join(timeout=0.05)
    if len(ok) > 1:  # a folder of clips (a dash-cam card), several cameras: the tally under the sources' own lines
        failed = ok.count(False)
        logger.info(f"{len(ok)} sources: {len(ok) - failed} read" + (f", {failed} failed (see above)" if failed else "")
                    + (", stopped before the rest" if stop.is_set() and len(ok) < len(jobs) else ""))
    return 0 if all(ok) else 1
