"""The pipeline's four component configs (pipeline, detector, tracker, fusion) loaded together from configs/ with
`key=value` overrides (`fusion.min_conf=0.6`; the pipeline's keys bare), and the settings video and stills run with."""
from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from common.config import ConfigError, closest, key_list, load_config
from common.errors import warn_once
from detection.config import DetectorConfig
from pipeline.config import PipelineConfig
from pipeline.fusion import FusionConfig
from pipeline.tracker import TrackerConfig

COMPONENTS = {"pipeline": PipelineConfig, "detector": DetectorConfig, "tracker": TrackerConfig,
              "fusion": FusionConfig}


@dataclass(frozen=True)
class Configs:
    """The pipeline's four configs, as loaded from configs/ with overrides."""
    pipeline: PipelineConfig
    detector: DetectorConfig
    tracker: TrackerConfig
    fusion: FusionConfig


# a pipeline key given (on the command line, or in a sources file) that acts only with another key on: said once when
# that key is off (follow_idle_s=10 without follow=true read the folder once and said nothing of it)
WORKS_WITH = {"follow_idle_s": "follow", "follow_poll_s": "follow", "watchlist_max_edits": "watchlist",
              "watchlist_early": "watchlist", "webhook_headers": "webhook", "webhook_timeout_s": "webhook",
              "webhook_ca": "webhook", "webhook_images": "webhook", "webhook_outages": "webhook", "roi_crop": "roi",
              "directions": "line", "motion_every_s": "motion_gate", "motion_level": "motion_gate",
              "motion_share": "motion_gate", "video_fps": "video_out", "video_container": "video_out",
              "video_segment_min": "video_out", "video_keep_segments": "video_out", "crops_keep": "save_crops",
              "frames_keep": "save_frames"}


def _unused(given: dict[str, list[str]], cfgs: Configs) -> None:
    """Warn (once each) of the overrides `given` (by component) whose key works with another that is off: the
    pipeline's of `WORKS_WITH`, and the tracker's `gmc_method` (BoT-SORT's camera-motion compensation)."""
    cfg, t = cfgs.pipeline, cfgs.tracker
    for override in given["pipeline"]:
        needs = WORKS_WITH.get(override.split("=", 1)[0])
        if needs is not None and not getattr(cfg, needs):
            off = "off" if isinstance(getattr(cfg, needs), bool) else "not set"
            warn_once(f"{override}: it works with {needs}, which is {off}, so it does nothing here")
    gmc = [o for o in given["tracker"] if o.startswith("gmc_method=")]  # the last given is the one that holds
    if gmc and t.tracker_type != "botsort" and t.gmc_method != "none":
        warn_once(f"tracker.{gmc[-1]}: it works with tracker.tracker_type=botsort, which is {t.tracker_type}, so it "
                  "does nothing here")


def config_keys() -> dict[str, str]:
    """Every component's keys, written as an override gives them (`fusion.min_conf`; the pipeline's bare), each with
    its bare name."""
    return {f.name if comp == "pipeline" else f"{comp}.{f.name}": f.name
            for comp, cls in COMPONENTS.items() for f in fields(cls)}


def _suggest_any(key: str, config_dir: str | Path, component: str = "") -> str:
    """The closest key of any component, written as it must be given (`fusion.min_conf`, or bare for pipeline), or,
    where none is close, `component`'s keys or, with none named, the files that list them all."""
    names = config_keys()
    close = closest(key, names.values())
    hits = [f"'{q}'" for q, bare in names.items() if bare == close]  # none when nothing is close (None)
    if hits:
        return f" (did you mean {' or '.join(hits)}?)"
    if component:
        return f" (none is close; {component}'s keys: {key_list(f.name for f in fields(COMPONENTS[component]))})"
    others = ", ".join(f"{c}.yaml as {c}.KEY=VALUE" for c in COMPONENTS if c != "pipeline")
    listed = Path(config_dir) / "pipeline.yaml"  # a folder without it runs on the defaults: the project's lists them
    where = listed if listed.is_file() else "the project's configs/pipeline.yaml"
    return f" (none is close; the keys are listed in {where}, given bare, and {others})"


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
                raise ConfigError(f"override '{o}': {comp} has no key '{rest}'{_suggest_any(rest, config_dir, comp)}")
            split[comp].append(o[len(comp) + 1:])
        elif rest:
            raise ConfigError(f"override '{o}': unknown component '{comp}' (known: {', '.join(COMPONENTS)})")
        elif key in COMPONENTS and key != "pipeline":
            raise ConfigError(f"override '{o}': give each of {key}'s keys as {key}.KEY=VALUE")
        elif key not in pipeline_keys:
            raise ConfigError(f"override '{o}': unknown key '{key}'{_suggest_any(key, config_dir)}")
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
    _unused(split, cfgs)
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


def strided(cfgs: Configs, stride: float) -> Configs:
    """The configs for a source run at every `stride`th of its frames (a video file's `stride`; a camera capped by
    `max_fps`, its rate over the cap): the windows that count frames (`fusion.lost_frames`, `tracker.track_buffer`)
    count the source's frames, those left out too, so that a track ends as many seconds after its plate was last
    seen as at every frame."""
    if stride <= 1:
        return cfgs
    f, t = cfgs.fusion, cfgs.tracker
    return replace(cfgs, fusion=replace(f, lost_frames=math.ceil(f.lost_frames / stride)),
                   tracker=replace(t, track_buffer=math.ceil(t.track_buffer / stride)))


def crop_spec(cfg: PipelineConfig, video: bool) -> Any:
    """How plates are cut and read in video or in still images (`narrow_both_ways`, `read_views`: stills, always,
    never)."""
    from pipeline.crops import CropSpec

    def on(setting: str) -> bool:
        return setting == "always" or (setting == "stills" and not video)

    return CropSpec(cfg.crop_margin, cfg.min_plate_height, cfg.deskew_min_deg, cfg.crop_stretch_below,
                    on(cfg.narrow_both_ways), on(cfg.read_views), cfg.deinterlace_above)
