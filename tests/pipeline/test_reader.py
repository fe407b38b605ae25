"""pipeline.PlateReader: still images read from Python as run_pipeline.py reads them."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.errors import UserError
from detection.detections import Detections
from ocr.recognizer import PlateRead
from pipeline import ImageRead, PlateReader

ROOT = Path(__file__).resolve().parents[2]


class TwoPlates:
    """Two boxes on every image: a bright plate and a dim one."""

    def detect(self, image):
        boxes = np.array([[10, 10, 70, 30], [100, 10, 160, 30]], np.float32)
        return Detections(boxes, np.array([0.9, 0.8], np.float32))


class ByBrightness:
    """Reads a crop by its brightest level: 200 -> AB123CD (sure), 100 -> XY9 (short, unsure)."""

    def probs(self, crops):
        return np.array([[float(c.max())] for c in crops], np.float32)

    def rows(self, crop):
        return 1

    def decode(self, p):
        return PlateRead("AB123CD", 0.95, (0.95,) * 7) if p[0] > 150 else PlateRead("XY9", 0.3, (0.3,) * 3)


def scene() -> np.ndarray:
    img = np.zeros((60, 200, 3), np.uint8)
    img[10:30, 10:70] = 200
    img[10:30, 100:160] = 100
    return img


def test_reads_every_plate_and_keeps_the_floor(tmp_path):
    reads = PlateReader(TwoPlates(), ByBrightness())(scene())
    assert [(r.text, r.confidence) for r in reads] == [("AB123CD", 0.95), ("XY9", 0.3)]
    assert reads[0].box == (10.0, 10.0, 70.0, 30.0) and isinstance(reads[0], ImageRead)
    assert PlateReader(TwoPlates(), ByBrightness(), min_chars=4)(scene()) == reads[:1]
    assert PlateReader(TwoPlates(), ByBrightness(), min_conf=0.5)(scene()) == reads[:1]
    cv2.imwrite(str(tmp_path / "car.png"), scene())
    assert PlateReader(TwoPlates(), ByBrightness())(tmp_path / "car.png") == reads  # a path is read from disk
    with pytest.raises(UserError, match="image not found"):
        PlateReader(TwoPlates(), ByBrightness())(tmp_path / "nope.jpg")


def test_grey_and_bgra_arrays_are_read_and_other_arrays_are_one_error():
    """A grey (H x W or H x W x 1) or BGRA array reads as its BGR self; floats, 16-bit values and other shapes are a
    UserError saying what is wrong (floats in 0-1 used to find nothing, silently)."""
    import re

    read = PlateReader(TwoPlates(), ByBrightness())
    want = [("AB123CD", 0.95), ("XY9", 0.3)]
    grey = scene()[:, :, 0]
    for image in (grey, grey[:, :, None], cv2.cvtColor(scene(), cv2.COLOR_BGR2BGRA)):
        assert [(r.text, r.confidence) for r in read(image)] == want
    for bad, says in ((scene().astype(np.float32) / 255, "an image must hold 8-bit values (uint8, as cv2.imread gives), "
                       "not float32: convert it, e.g. (x * 255).astype(np.uint8) for floats in 0-1"),
                      (scene().astype(np.uint16) * 256, "an image must hold 8-bit values (uint8, as cv2.imread gives), "
                       "not uint16"),
                      (np.zeros((0, 0, 3), np.uint8), "an image must be an H x W (x 3) BGR image array (or a PIL "
                       "image), not an array of shape (0, 0, 3)"),
                      (5, "an image must be an H x W (x 3) BGR image array (or a PIL image), not a int")):
        with pytest.raises(UserError, match="^" + re.escape(says)):
            read(bad)


def test_a_pil_image_is_read_as_its_bgr_array():
    """`Image.open(...)`, as a Python program holds a photo, reads as cv2.imread's array of it (it was a TypeError)."""
    from PIL import Image

    rgb = Image.fromarray(cv2.cvtColor(scene(), cv2.COLOR_BGR2RGB))
    want = PlateReader(TwoPlates(), ByBrightness())(scene())
    assert PlateReader(TwoPlates(), ByBrightness())(rgb) == want and want


@pytest.mark.skipif(not (ROOT / "weights" / "detector.pt").is_file(), reason="no detector shipped")
def test_from_configs_reads_as_run_pipeline_does(tmp_path):
    from run_pipeline import main

    stills = ROOT / "samples" / "stills" / "images"
    assert main([str(stills), f"output_dir={tmp_path}", "progress=false"]) == 0
    cli = {x["source"]: [(r["text"], r["confidence"], tuple(r["box"])) for r in x["reads"]]
           for x in map(json.loads, (tmp_path / "images" / "reads.jsonl").read_text().splitlines())}
    reader = PlateReader.from_configs()
    api = {f.name: [(r.text, r.confidence, r.box) for r in reader(f)] for f in sorted(stills.glob("*.jpg"))}
    assert api == cli
    sure = sorted(text for reads in api.values() for text, conf, _ in reads if conf >= 0.5)  # weak reads vary by model
    assert sure == ["B68SPK", "B80HFI", "B84EEE", "DB48SCF", "PH73FAM", "SB014882"]


@pytest.mark.parametrize("given", ["configs", ROOT / "configs"])
def test_a_config_folder_given_for_the_overrides_is_said(given):
    from pipeline.vehicles import VehicleReader

    for cls in (PlateReader, VehicleReader):  # a string was one override per character: "unknown key 'c'"
        with pytest.raises(TypeError, match="overrides are a list of key=value strings, not '.*configs' "
                                            r"\(the config folder is config_dir=\)"):
            cls.from_configs(given)


def test_calls_from_several_threads_take_turns():
    """A web app's threads share one reader: the detector never runs in two of them at once."""
    import threading
    import time

    class Watched(TwoPlates):
        def __init__(self):
            self.running, self.most = 0, 0

        def detect(self, image):
            self.running += 1
            self.most = max(self.most, self.running)
            time.sleep(0.02)
            self.running -= 1
            return super().detect(image)

    detector = Watched()
    reader = PlateReader(detector, ByBrightness())
    results = []
    threads = [threading.Thread(target=lambda: results.append(reader(scene()))) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert detector.most == 1
    assert [[r.text for r in rs] for rs in results] == [["AB123CD", "XY9"]] * 6
