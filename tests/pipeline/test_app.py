"""pipeline/app.py's small helpers: the annotated video's frame rate and the model files checked before a run."""
from pathlib import Path
from types import SimpleNamespace

import pytest

from pipeline.app import check_models, video_rate
from pipeline.settings import load_configs

CONFIGS = Path(__file__).resolve().parents[2] / "configs"


@pytest.mark.parametrize("source, fps, rate", [
    (SimpleNamespace(fps=30.0, stride=1), 12.5, 12.5),  # asked
    (SimpleNamespace(fps=30.0, stride=1), 0.5, 0.5),  # a time-lapse rate, under one frame a second
    (SimpleNamespace(fps=30.0, stride=3), 0.0, 10.0),  # a file read every third frame
    (SimpleNamespace(fps=None, stride=2), 0.0, 12.5),  # a camera that gives no rate: 25
    (SimpleNamespace(fps=20.0), 0.0, 20.0),  # a source without a stride
])
def test_the_annotated_videos_rate_is_asked_or_the_sources_over_its_stride(source, fps, rate):
    assert video_rate(source, fps) == rate


def test_model_files_are_checked_once_for_the_settings_sources_share(monkeypatch):
    seen = []
    monkeypatch.setattr("ocr.recognizer.check_model_file", lambda path: seen.append(("ocr", path)))
    monkeypatch.setattr("detection.detector.check_weights", lambda cfg: seen.append(("detector", cfg.weights)))
    cfgs = load_configs(CONFIGS, [])
    check_models(cfgs)  # the detector too, by default
    assert seen == [("ocr", "weights/ocr_latin.pth"), ("detector", "weights/detector.pt")]
    seen.clear()
    check_models(cfgs, detect=False)
    assert seen == [("ocr", "weights/ocr_latin.pth")]
    checked: set = set()
    seen.clear()
    for _ in range(2):
        check_models(cfgs, checked=checked)  # two sources with the same settings
    check_models(load_configs(CONFIGS, ["ocr_ensemble=[b.pth]"]), checked=checked)
    assert seen == [("ocr", "weights/ocr_latin.pth"), ("detector", "weights/detector.pt"),
                    ("ocr", "weights/ocr_latin.pth"), ("ocr", "b.pth"), ("detector", "weights/detector.pt")]


@pytest.mark.parametrize("overrides, drawn", [
    ([], None), (["roi=[[0, 0], [1, 0], [1, 1]]"], "roi"), (["line=[[0.5, 0], [0.5, 1]]"], "line"),
    (["roi=[[0, 0], [1, 0], [1, 1]]", "line=[[0.5, 0], [0.5, 1]]"], "both")])
def test_zones_are_made_when_a_roi_or_a_line_is_drawn(overrides, drawn):
    from pipeline.app import zones_of

    zones = zones_of(load_configs(CONFIGS, overrides).pipeline)
    assert (zones is None) == (drawn is None)
    if zones is not None:
        assert (zones.roi is not None, zones.line is not None) == (drawn in ("roi", "both"), drawn in ("line", "both"))


@pytest.mark.parametrize("patterns, given", [(("LLLDDDD", "LLLDLDD"), ("LLLDDDD", "LLLDLDD")), ((), None)])
def test_the_recognizer_is_given_the_fusions_plate_formats(monkeypatch, patterns, given):
    from pipeline.app import _recognizer

    asked = {}
    monkeypatch.setattr("ocr.ensemble.load_recognizer", lambda weights, below, **kw: asked.update(kw, weights=weights))
    _recognizer(load_configs(CONFIGS, []).pipeline, patterns)
    assert asked["weights"] == ["weights/ocr_latin.pth"] and asked["patterns"] == given


@pytest.mark.parametrize("overrides, counts", [(["roi=[[0, 0], [1, 0], [1, 1]]"], False),
                                               (["line=[[0.5, 0], [0.5, 1]]"], True)])
def test_a_video_counts_crossings_only_where_a_line_is_drawn(overrides, counts):
    from detection.region import RegionDetector
    from pipeline.app import video_stages

    detector = SimpleNamespace(detect=lambda frame: None)
    recognizer = SimpleNamespace(decode=lambda m: None)
    found, _, _, zones, fuser = video_stages(load_configs(CONFIGS, overrides), "clip", detector, recognizer)
    assert zones is not None and (fuser.direction is not None) == counts
    assert isinstance(found, RegionDetector) != counts  # a roi: the detector runs on its bounding box alone
