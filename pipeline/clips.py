"""Video clips a camera uploads into a watched folder (an NVR's motion clips): each read once as a video file is, its
events written to the folder's outputs (events.db, .jsonl, .csv, crops/, frames/, the webhook) as a camera's are, its
annotated video and summary to `clips/<clip name>/` (the newest `video_keep_segments` clips' videos kept);
`clips.jsonl` lists the clips read, and one a stop cut short is gone on with from where it stopped."""
from __future__ import annotations

import json
import time
from collections import deque
from contextlib import ExitStack
from dataclasses import replace
from pathlib import Path
from typing import Any

from loguru import logger

from common.cli import error_line
from pipeline.media import annotated_videos
from pipeline.recording import file_start
from pipeline.sinks import open_to_append, writing
from pipeline.stores import LowSpace
from pipeline.types import utc_iso

CLIPS_READ = "clips.jsonl"  # in the watched folder's output folder: one line per clip read (or failed)


def clips_read(out: Path) -> set[str]:
    """The clips (names relative to the watched folder) that earlier runs read to their end or found unreadable."""
    from pipeline.search import json_lines

    path = out / CLIPS_READ
    return {str(x["clip"]) for x in json_lines(path) if "clip" in x} if path.is_file() else set()


def stopped_at(folder: Path, clip: str) -> float | None:
    """Where an earlier reading of `clip` into output `folder` was stopped (its summary's `position_s`), None when it
    was not (or the summary is another clip's: `x.mp4` and `x.avi` share `clips/x/`)."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(summary, dict) or summary.get("source") != clip:
        return None
    at = summary.get("position_s") if summary.get("stopped") else None
    return float(at) if isinstance(at, (int, float)) else None


class ClipVideos:
    """The clips' annotated videos (`root/<clip>/annotated*.mp4` or `.mkv`), a clip at a time, oldest first (earlier
    runs' included): those of the newest `keep` clips stay (0: all), and while the disk has under `min_free_mb` free
    each clip's replace the oldest clip's, as a camera's parts do; a clip's events, crops and frames are not touched."""

    def __init__(self, root: Path, keep: int, min_free_mb: float) -> None:
        self.root, self.keep = root, keep
        self.low = LowSpace("the clips' annotated videos", "each clip's annotated video replaces the oldest clip's",
                            min_free_mb)
        self._clips: deque[str] | None = None  # clip folders (relative to root) holding videos, oldest first
        self._held: set[str] = set()

    def added(self, folder: Path) -> None:
        """Clip output `folder`'s videos are written: the oldest clips' videos deleted past the count or the disk."""
        if self._clips is None:
            found = {v.parent for v in annotated_videos(self.root, "**/")} - {folder}
            self._clips = deque(f.relative_to(self.root).as_posix() for f in sorted(found, key=_mtime))
            self._held = set(self._clips)
        name = folder.relative_to(self.root).as_posix()
        if name in self._held:  # a clip gone on with after a stop: now the newest
            self._clips.remove(name)
        self._clips.append(name)
        self._held.add(name)
        while self.keep > 0 and len(self._clips) > self.keep:
            self._drop()
        if len(self._clips) > 1 and self.low(self.root):
            self._drop()

    def _drop(self) -> None:
        assert self._clips is not None
        name = self._clips.popleft()
        self._held.discard(name)
        for video in annotated_videos(self.root / name):
            video.unlink(missing_ok=True)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # gone since it was listed
        return 0.0


class ClipReader:
    """`reader(path, name)` reads clip `path` (named `name` in the watched folder) with `cfgs` (from where an earlier
    reading stopped), the models loaded once and shared; False when `stop` cut it short. Its events go to the
    folder's outputs in `out` (opened at the first clip on `stack`; `hook`: the folder's webhook sink, so that the
    events a service that is down has not taken are sent as the watch goes on), its annotated video and summary to
    `out/clips/<name>/`. `detector`: the video detector to use (None: the configured one, built at the first clip)."""

    def __init__(self, cfgs: Any, out: Path, stop: Any, recognizer: Any, stack: ExitStack, detector: Any = None,
                 hook: Any = None) -> None:
        self.cfgs, self.out, self.stop, self.stack = cfgs, out, stop, stack
        self.recognizer, self.detector, self.hook = recognizer, detector, hook
        self.read = 0
        self._outputs: tuple[list[Any], dict[str, Any]] | None = None
        self._recent: dict[str, tuple[float, float]] = {}  # the plates of the clips' events, for fusion.dedupe_s
        self._began: float | None = None  # when the clip before was recorded (epoch s), if its container says
        p = cfgs.pipeline
        self.videos = ClipVideos(out / "clips", p.video_keep_segments, p.min_free_mb)

    @property
    def sinks(self) -> list[Any]:
        """The folder's event sinks opened so far (none before its first clip)."""
        return self._outputs[0] if self._outputs is not None else []

    def _folder_outputs(self) -> tuple[list[Any], dict[str, Any]]:
        """The watched folder's event sinks and crop and frame stores, opened once (an image-only watch has none)."""
        if self._outputs is None:
            from pipeline.outputs import event_sinks, image_stores

            p = self.cfgs.pipeline
            self._outputs = event_sinks(p, self.out, self.stack, self.hook), image_stores(p, self.out)
        return self._outputs

    def _carried(self, path: Path) -> dict[str, tuple[float, float]]:
        """The plates of the clips before, in clip `path`'s times: a vehicle in view across two clips (a recorder's
        pre- and post-roll, a car waiting at a gate) gives one event, as a camera's does. Carried only when both clips'
        containers hold their recording times (or their names do, with `video_start_utc=name`; whatever else
        `video_start_utc` gives the events) and this clip began after the one before; otherwise none (two clips'
        positions say nothing of the time between them)."""
        began, before = file_start(path, self.cfgs.pipeline.video_start_utc), self._began
        self._began = began
        if began is None or before is None or began < before:
            self._recent.clear()
        else:
            for key, (last_s, conf) in list(self._recent.items()):
                self._recent[key] = (last_s + before - began, conf)
        return self._recent

    def _detector(self) -> Any:
        if self.detector is None:
            from pipeline.app import video_detector

            self.detector = video_detector(self.cfgs)
        return self.detector

    def __call__(self, path: Path, name: str) -> bool:
        from pipeline.app import run_video
        from pipeline.sources import UnreadableVideo, go_on_from

        folder = self.out / "clips" / Path(name).with_suffix("")
        p = replace(self.cfgs.pipeline, progress=False, start_s=0.0, end_s=0.0)
        at = stopped_at(folder, name)
        if at is not None:
            p = replace(p, start_s=go_on_from(at))
            logger.info(f"{name}: an earlier run stopped at {at:.3f} s; going on from there")
        line: dict[str, Any] = {"clip": name}
        sinks, stores = self._folder_outputs()
        try:
            res = run_video(str(path), replace(self.cfgs, pipeline=p), self.stop, self._detector(), self.recognizer,
                            out_name=str(folder.resolve()), label=name, sinks=sinks, stores=stores,
                            recent=self._carried(path))
        except UnreadableVideo as exc:  # a clip that cannot be read: said, listed, and not tried again (a full disk
            said = error_line(exc)  # or an output folder that cannot be made stops the run: the next reads the clip)
            logger.error(said)
            line["error"] = said.removeprefix("error: ")
        else:
            if p.video_out:
                self.videos.added(folder)
            if res["stopped"]:
                logger.info(f"{name}: stopped after {res['frames']} frames; the next run on this folder goes on "
                            "from there")
                return False
            logger.info(f"{name}: {res['frames']} frames, {res['events']} vehicles -> {self.out}/"
                        + f" (annotated video: {folder}/)" * p.video_out)
            line.update(frames=res["frames"], vehicles=res["events"])
        self.read += 1
        line["read_utc"] = utc_iso(time.time())
        log = self.out / CLIPS_READ
        with writing(log), open_to_append(log) as f:
            f.write(json.dumps(line) + "\n")
        return True
