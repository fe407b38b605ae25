"""Video clips a camera uploads into a watched folder (an NVR's motion clips): each read as a video file is, into its
own output folder below the folder's (`clips/<clip name>/`), once; `clips.jsonl` there lists the clips read, and one
a stop cut short is gone on with from where it stopped."""
from __future__ import annotations

import json
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from loguru import logger

from common.cli import error_line
from pipeline.sinks import open_to_append, writing
from pipeline.types import utc_iso

CLIPS_READ = "clips.jsonl"  # in the watched folder's output folder: one line per clip read (or failed)


def clips_read(out: Path) -> set[str]:
    """The clips (names relative to the watched folder) that earlier runs read to their end or found unreadable."""
    from pipeline.search import json_lines

    path = out / CLIPS_READ
    return {str(x["clip"]) for x in json_lines(path) if "clip" in x} if path.is_file() else set()


def stopped_at(folder: Path) -> float | None:
    """Where an earlier reading into output `folder` was stopped (its summary's `position_s`), None when it was not."""
    try:
        summary = json.loads((folder / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    at = summary.get("position_s") if isinstance(summary, dict) and summary.get("stopped") else None
    return float(at) if isinstance(at, (int, float)) else None


class ClipReader:
    """`reader(path, name)` reads clip `path` (named `name` in the watched folder) into `out/clips/<name>/` with
    `cfgs` (its `start_s` where an earlier reading stopped), the models loaded once and shared; False when `stop` cut
    it short. `detector`: the video detector to use (None: the configured one, built at the first clip); `hook`: the
    watched folder's webhook sink, which sends the clips' events too (a clip's own would leave those the service did
    not take in a folder no run comes back to)."""

    def __init__(self, cfgs: Any, out: Path, stop: Any, recognizer: Any, detector: Any = None,
                 hook: Any = None) -> None:
        self.cfgs, self.out, self.stop = cfgs, out, stop
        self.recognizer, self.detector, self.hook = recognizer, detector, hook
        self.read = 0

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
        at = stopped_at(folder)
        if at is not None:
            p = replace(p, start_s=go_on_from(at))
            logger.info(f"{name}: an earlier run stopped at {at:.3f} s; going on from there")
        line: dict[str, Any] = {"clip": name}
        try:
            res = run_video(str(path), replace(self.cfgs, pipeline=p), self.stop, self._detector(), self.recognizer,
                            out_name=str(folder.resolve()), label=name, hook=self.hook)
        except UnreadableVideo as exc:  # a clip that cannot be read: said, listed, and not tried again (a full disk
            said = error_line(exc)  # or an output folder that cannot be made stops the run: the next reads the clip)
            logger.error(said)
            line["error"] = said.removeprefix("error: ")
        else:
            if res["stopped"]:
                logger.info(f"{name}: stopped after {res['frames']} frames; the next run on this folder goes on "
                            "from there")
                return False
            logger.info(f"{name}: {res['frames']} frames, {res['events']} vehicles -> {folder}/")
            line.update(frames=res["frames"], vehicles=res["events"])
        self.read += 1
        line["read_utc"] = utc_iso(time.time())
        log = self.out / CLIPS_READ
        with writing(log), open_to_append(log) as f:
            f.write(json.dumps(line) + "\n")
        return True
