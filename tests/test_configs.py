"""Every YAML shipped in configs/ loads into its component's config class, and every key is commented."""
import dataclasses
import re
from pathlib import Path

import pytest

from common.config import load_config
from detection.config import DetectorConfig
from detection.train_config import DetectorTrainConfig
from pipeline.config import PipelineConfig
from pipeline.fusion import FusionConfig
from pipeline.tracker import TrackerConfig
from ocr.config import OCRConfig

CONFIGS = Path(__file__).resolve().parents[1] / "configs"
CLASSES = {"ocr": OCRConfig, "detector": DetectorConfig, "detector_train": DetectorTrainConfig,
           "pipeline": PipelineConfig, "tracker": TrackerConfig, "fusion": FusionConfig}


@pytest.mark.parametrize("path", sorted(CONFIGS.glob("*.yaml")), ids=lambda p: p.name)
def test_config_loads(path):
    component = path.stem if path.stem in CLASSES else path.stem.split("_")[0]
    assert component in CLASSES, f"no config class registered for {path.name}"
    cfg = load_config(CLASSES[component], path)
    if component == "ocr":
        cfg.model_config()
    for line in path.read_text().splitlines():
        if line and not line.startswith((" ", "#", "-")) and ":" in line and not line.rstrip().endswith(":"):
            assert "#" in line, f"{path.name}: key without a comment: {line}"


def test_every_component_ships_a_config():
    assert {p.stem for p in CONFIGS.glob("*.yaml")} >= {"ocr_digits", "ocr_latin", "detector", "detector_train", "pipeline", "tracker", "fusion"}


# where a component's code default is not its shipped YAML's, and why
OWN_DEFAULTS = {("detector", "gray_weights"): "a detector of your own, given in Python, gets no second one of ours"}


@pytest.mark.parametrize("component", ["detector", "pipeline", "tracker", "fusion"])
def test_a_component_config_built_in_python_is_its_shipped_yaml(component):
    """`FusionConfig()` and the like run as `configs/<component>.yaml` does, and a YAML of your own that leaves a key
    out takes the shipped value."""
    cls = CLASSES[component]
    shipped = load_config(cls, CONFIGS / f"{component}.yaml")
    differ = {f.name for f in dataclasses.fields(cls) if getattr(cls(), f.name) != getattr(shipped, f.name)}
    assert differ == {key for comp, key in OWN_DEFAULTS if comp == component}


# what the guide's own run (configs/ocr_digits.yaml) sets apart from OCRConfig's defaults, and why
OCR_RUN_KEYS = {"train": "its data", "val": "its data", "patterns": "its plates' format",
                "samples_per_epoch": "synthetic plates drawn per epoch", "num_workers": "a 2-core CPU",
                "out_dir": "its run folder"}


def test_the_ocr_config_built_in_python_is_the_guides_training_run():
    """`OCRConfig()` trains as the guide says (batch 32, 100 epochs, Adam 1e-3, 64 x 200, early stop after 15,
    a checkpoint every 10) and as `configs/ocr_digits.yaml` does, apart from that run's own data and folder."""
    default = OCRConfig()
    assert (default.batch_size, default.epochs, default.lr, default.img_h, default.img_w, default.early_stop_patience,
            default.checkpoint_every, default.two_row_aspect) == (32, 100, 1e-3, 64, 200, 15, 10, 0.0)
    assert default.samples_per_epoch == 0  # an epoch is every sample of the sources once
    run = load_config(OCRConfig, CONFIGS / "ocr_digits.yaml")
    assert {f.name for f in dataclasses.fields(OCRConfig) if getattr(default, f.name) != getattr(run, f.name)} == set(
        OCR_RUN_KEYS)


# what the shipped detector run (configs/detector_train.yaml) sets apart from DetectorTrainConfig's defaults, and why
DETECTOR_RUN_KEYS = {"model": "our slimmer plate model's YAML", "train": "its data", "val": "its data",
                     "split_file": "its held-out rides", "unboxed": "its plates the labels leave out",
                     "publish": "its val split is the held-out set, so the last epoch", "extra": "its ultralytics extras"}


def test_the_detector_training_config_built_in_python_is_the_shipped_run_but_its_data_and_model():
    run = load_config(DetectorTrainConfig, CONFIGS / "detector_train.yaml")
    default = DetectorTrainConfig()
    assert {f.name for f in dataclasses.fields(DetectorTrainConfig)
            if getattr(default, f.name) != getattr(run, f.name)} == set(DETECTOR_RUN_KEYS)


def numeric_keys(cls):
    """The keys of a config class that take a number."""
    return {f.name for f in dataclasses.fields(cls) if f.type in ("int", "float") or "Range(" in str(f.type)}


# each numeric key of each component: values at its bounds, taken, and the nearest ones past them, refused in one line
OCR_BOUNDS = [("img_h", [16], [15]), ("img_w", [16], [15]), ("width_mult", [0.01], [0]), ("hidden", [1], [0]),
              ("lstm_layers", [1], [0]), ("dropout", [0, 1], [-0.1, 1.1]), ("two_row_aspect", [0], [-0.1]),
              ("beam_width", [1], [0]), ("samples_per_epoch", [0], [-1]), ("epochs", [1], [0]),
              ("batch_size", [1], [0]), ("lr", [1e-9], [0]), ("weight_decay", [0], [-0.1]),
              ("grad_clip", [0.01], [0]), ("plateau_patience", [0], [-1]), ("plateau_factor", [1], [0, 1.1]),
              ("min_lr", [0], [-1e-9]), ("early_stop_patience", [0], [-1]), ("max_bad_batches", [1], [0]),
              ("ema_decay", [0, 1], [-0.1, 1.1]), ("distill_weight", [0], [-1]), ("freeze_cnn", [0, 6], [-1, 7]),
              ("num_workers", [0], [-1]), ("threads", [0], [-1]), ("seed", [0], [-1]), ("checkpoint_every", [1], [0]),
              ("time_limit_min", [0], [-1])]


# each numeric detector key; the still-image passes' keys have their own checks (0 is off, then a floor)
DETECTOR_BOUNDS = [("imgsz", [32], [31]), ("conf", [0, 1], [-0.1, 1.1]), ("iou", [0, 1], [-0.1, 1.1]),
                   ("max_det", [1], [0]), ("batch", [1], [0]), ("max_overlap", [0, 1], [-0.1, 1.1]),
                   ("dark_below", [0, 255], [-1, 256]),
                   ("pale_above", [0, 255], [-1, 256]), ("deinterlace_above", [0], [-0.1])]
DETECTOR_PASSES = [("still_tile", [0, 64], [1, 63], "must be 0 (off) or at least 64 px"),
                   ("still_zoom_out", [0, 1.01], [1, 0.5], "must be 0 (off) or over 1"),
                   ("still_zoom_above", [0, 1], [-0.01, 1.01], "must be within 0-1")]


def assert_bounds(cls, key, taken, refused, says):
    """`key=value` loads into `cls` as the value for each of `taken`; each of `refused` is one ConfigError line that
    `says(value)` (a pattern) matches."""
    from common.config import ConfigError

    for value in taken:
        assert getattr(load_config(cls, None, [f"{key}={value}"]), key) == value
    for value in refused:
        with pytest.raises(ConfigError, match=says(value)):
            load_config(cls, None, [f"{key}={value}"])


@pytest.mark.parametrize("key, taken, refused, says", DETECTOR_PASSES, ids=[b[0] for b in DETECTOR_PASSES])
def test_the_still_passes_keys_take_off_and_their_floor_and_refuse_what_lies_between(key, taken, refused, says):
    assert_bounds(DetectorConfig, key, taken, refused, lambda v: re.escape(f"detector.{key} {says}, not {v}"))


PIPELINE_BOUNDS = [("ocr_ensemble_below", [0, 1], [-0.1, 1.1]), ("stride", [1], [0]),
                   ("start_s", [0, 5025], [-1]), ("end_s", [0, 0.5], [-0.5]),
                   ("crop_margin", [0, 1], [-0.1, 1.1]), ("min_plate_height", [0], [-1]),
                   ("deskew_min_deg", [0], [-0.1]),
                   ("crop_stretch_below", [0, 255], [-1, 256]), ("deinterlace_above", [0], [-0.1]),
                   ("frames_keep", [0], [-1]), ("crops_keep", [0], [-1]), ("video_fps", [0, 1000], [-1, 1001]),
                   ("source_fps", [0, 1000], [-1, 1001]), ("max_fps", [0, 0.5, 30], [-1]),
                   ("video_segment_min", [0], [-0.1]), ("video_keep_segments", [0], [-1]),
                   ("min_free_mb", [0, 1e6], [-0.5]), ("keep_days", [0, 0.5, 3650], [-1]),
                   ("status_every_s", [0], [-0.1]), ("motion_every_s", [0, 3600], [-0.1, 3601]),
                   ("motion_level", [1, 255], [0, 256]), ("motion_share", [0, 1], [-0.1, 1.1]),
                   ("open_timeout_s", [0.01], [0]), ("read_timeout_s", [0.01], [0]), ("stall_timeout_s", [0.01], [0]),
                   ("backoff_start_s", [0.01], [0]), ("backoff_max_s", [0.01], [0]),
                   ("open_retry_s", [-1, 0, 5], []),  # < 0: retried for ever
                   ("watchlist_max_edits", [0], [-1]), ("follow_poll_s", [0.01], [0]),
                   ("follow_idle_s", [0, 10], [-1]), ("frozen_timeout_s", [0, 120], [-1]),
                   ("snapshot_every_s", [0.05, 3600], [0.04, 3601]), ("webhook_timeout_s", [0.01], [0])]
FUSION_BOUNDS = [("lost_frames", [1], [0]), ("max_reads", [1], [0]), ("decisive_reads", [1], [0]),
                 ("decisive_share", [0, 1], [-0.1, 1.1]), ("decisive_conf", [0, 1], [-0.1, 1.1]),
                 ("min_reads", [1], [0]), ("min_chars", [0], [-1]), ("min_conf", [0, 1], [-0.1, 1.1]),
                 ("dedupe_s", [0], [-0.1]), ("dedupe_edits", [0], [-1]), ("off_pattern", [0, 1], [-0.1, 1.1]),
                 ("posterior_top_k", [0], [-1]), ("hold_below", [0, 1], [-0.1, 1.1]),
                 ("decide_after_s", [0, 5.5], [-1]), ("width_power", [0, 2.5], [-1]),
                 ("reread_growth", [0, 1.25], [-1])]
TRACKER_BOUNDS = [("track_high_thresh", [0, 1], [-0.1, 1.1]), ("track_low_thresh", [0, 1], [-0.1, 1.1]),
                  ("new_track_thresh", [0, 1], [-0.1, 1.1]), ("track_buffer", [1], [0]),
                  ("match_thresh", [0, 1], [-0.1, 1.1]), ("box_buffer", [0, 0.3, 10], [-0.1, 10.1])]
DETECTOR_TRAIN_BOUNDS = [("gray_share", [0, 1], [-0.1, 1.1]), ("epochs", [1], [0]), ("hours", [0], [-0.1]),
                         ("imgsz", [32], [31]), ("batch", [1], [0]), ("workers", [0], [-1]), ("patience", [0], [-1]),
                         ("seed", [0], [-1])]
BOUNDS = {"ocr": OCR_BOUNDS, "detector": DETECTOR_BOUNDS, "pipeline": PIPELINE_BOUNDS, "fusion": FUSION_BOUNDS,
          "tracker": TRACKER_BOUNDS, "detector_train": DETECTOR_TRAIN_BOUNDS}


@pytest.mark.parametrize("component, key, taken, refused",
                         [(c, *b) for c, bounds in BOUNDS.items() for b in bounds],
                         ids=[f"{c}.{b[0]}" for c, bounds in BOUNDS.items() for b in bounds])
def test_each_numeric_key_takes_the_values_at_its_bounds_and_refuses_those_past_them(component, key, taken, refused):
    assert_bounds(CLASSES[component], key, taken, refused, lambda v: f"config key '{key}': {v!r} is out of range")


def test_reread_growth_is_off_or_a_growth():
    assert_bounds(FusionConfig, "reread_growth", [0, 1.01], [0.5, 1],
                  lambda v: re.escape(f"fusion.reread_growth must be 0 (off) or over 1 (a plate grown), not {v}"))


@pytest.mark.parametrize("component", BOUNDS)
def test_every_numeric_key_has_its_bounds_tested(component):
    passes = DETECTOR_PASSES if component == "detector" else []
    assert numeric_keys(CLASSES[component]) == {b[0] for b in BOUNDS[component] + passes}


def test_every_video_container_the_config_takes_has_its_codec():
    """`video_container`'s choices (a Literal, for the loader to check) and the codecs written per container
    (`pipeline.media.VIDEO_CODECS`) are two lists: a choice added to one alone would be written as MPEG-4 Part 2
    whatever its container, or never be taken."""
    import typing

    from pipeline.media import VIDEO_CODECS

    choices = typing.get_args(typing.get_type_hints(PipelineConfig)["video_container"])
    assert choices == tuple(VIDEO_CODECS)
