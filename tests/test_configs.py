"""Every YAML shipped in configs/ loads into its component's config class, and every key is commented."""
import dataclasses
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
    run = load_config(OCRConfig, CONFIGS / "ocr_digits.yaml")
    assert {f.name for f in dataclasses.fields(OCRConfig) if getattr(default, f.name) != getattr(run, f.name)} == set(
        OCR_RUN_KEYS)
