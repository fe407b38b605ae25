"""`rotate`: a camera mounted upside down or on its side, its frames and images turned before anything reads them."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.config import ConfigError
from ocr.process import turn
from pipeline.settings import load_configs
from pipeline.sources import turned
from pipeline.types import Frame, SourceEvent
from run_pipeline import main

ROOT = Path(__file__).resolve().parents[2]
STILL = ROOT / "samples" / "stills" / "images" / "train_dayride_type1_003_t00098.jpg"  # DB48SCF and B84EEE


@pytest.mark.parametrize("degrees, shape, corner", [
    (0, (2, 3), [0, 0]), (90, (3, 2), [0, 1]), (180, (2, 3), [1, 2]), (270, (3, 2), [2, 0])])
def test_an_image_is_turned_clockwise(degrees, shape, corner):
    img = np.zeros((2, 3), np.uint8)
    img[0, 0] = 9  # the top-left pixel: top-right after a quarter turn clockwise, bottom-left after three
    got = turn(img, degrees)
    assert got.shape == shape and np.argwhere(got == 9).tolist() == [corner]


def test_a_sources_frames_are_turned_and_its_events_passed_on():
    img = np.arange(6, dtype=np.uint8).reshape(2, 3)
    lost = SourceEvent("lost", 1.0, "read failed")
    items = [Frame(img, 0, 0.0, "cam"), lost, Frame(img, 1, 0.04, "cam")]
    got = list(turned(items, 90))
    assert got[1] is lost and [(f.index, f.time_s, f.source) for f in (got[0], got[2])] == [(0, 0.0, "cam"),
                                                                                             (1, 0.04, "cam")]
    assert all(np.array_equal(f.image, [[3, 0], [4, 1], [5, 2]]) for f in (got[0], got[2]))
    assert list(turned(items, 0)) == items


def test_rotate_is_a_quarter_turn_or_one_line():
    assert load_configs(ROOT / "configs", ["rotate=270"]).pipeline.rotate == 270
    with pytest.raises(ConfigError) as exc:
        load_configs(ROOT / "configs", ["rotate=45"])
    assert str(exc.value) == "config key 'rotate': 45 is not one of 0, 90, 180, 270"


@pytest.mark.skipif(not (ROOT / "weights" / "detector.pt").is_file(), reason="no detector shipped")
def test_a_camera_mounted_upside_down_is_read_with_rotate(tmp_path):
    """Upside down, the plates are found but read as nonsense; turned back, read as they are."""
    photos = tmp_path / "upside"
    photos.mkdir()
    cv2.imwrite(str(photos / "car.jpg"), cv2.rotate(cv2.imread(str(STILL)), cv2.ROTATE_180))

    def read(*overrides: str) -> dict:
        assert main([str(photos), f"output_dir={tmp_path / 'out'}", *overrides]) == 0
        (line,) = (tmp_path / "out" / "upside" / "reads.jsonl").read_text().splitlines()
        return json.loads(line)

    assert not {"DB48SCF", "B84EEE"} & {r["text"] for r in read()["reads"]}
    line = read("rotate=180")
    assert sorted(r["text"] for r in line["reads"]) == ["B84EEE", "DB48SCF"] and line["rotate"] == 180


def turned_frames(how: int = cv2.ROTATE_180, n: int = 8, still: Path = STILL) -> list[np.ndarray]:
    """A parked scene filmed by a camera mounted askew: the still turned, a few grey levels apart frame to frame."""
    img = cv2.rotate(cv2.imread(str(still)), how)
    return [cv2.add(img, np.full_like(img, 4 * (i % 2))) for i in range(n)]


@pytest.mark.skipif(not (ROOT / "weights" / "detector.pt").is_file(), reason="no detector shipped")
def test_a_video_filmed_on_its_side_is_read_with_rotate(tmp_path):
    frames = turned_frames(cv2.ROTATE_90_COUNTERCLOCKWISE)  # the camera on its side
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(tmp_path / "gate.avi"), cv2.VideoWriter.fourcc(*"MJPG"), 5.0, (w, h))
    for f in frames:
        writer.write(f)
    writer.release()
    assert main([str(tmp_path / "gate.avi"), "rotate=90", f"output_dir={tmp_path / 'out'}", "motion_gate=false"]) == 0
    events = [json.loads(x) for x in (tmp_path / "out" / "gate" / "events.jsonl").read_text().splitlines()]
    assert sorted(e["text"] for e in events) == ["B84EEE", "DB48SCF"]
    video = cv2.VideoCapture(str(tmp_path / "out" / "gate" / "annotated.mp4"))
    ok, first = video.read()
    assert ok and first.shape[:2] == (w, h)  # the frames as turned


@pytest.mark.skipif(not (ROOT / "weights" / "detector.pt").is_file(), reason="no detector shipped")
def test_frames_given_from_python_are_turned_with_rotate():
    from pipeline.vehicles import VehicleReader

    with VehicleReader.from_configs(["rotate=180", "motion_gate=false"]) as reader:
        for i, f in enumerate(turned_frames()):
            reader.add(f, i / 5)
        events = reader.finish()
    assert sorted(e.text for e in events) == ["B84EEE", "DB48SCF"]


@pytest.mark.skipif(not (ROOT / "weights" / "detector.pt").is_file(), reason="no detector shipped")
def test_the_python_readers_take_rotate_from_the_configs_and_rgb_arrays_when_told():
    """`PlateReader` and `VehicleReader` as a Pi camera's frames come: upside down, and in picamera2's RGBA."""
    from pipeline import PlateReader
    from pipeline.vehicles import VehicleReader

    still = STILL.with_name("train_dayride_type1_002_t00389.jpg")  # B68SPK and B80HFI: colours swapped, AB8SPK
    frames = [cv2.cvtColor(f, cv2.COLOR_BGR2RGBA) for f in turned_frames(still=still)]
    reader = PlateReader.from_configs(["rotate=180"], rgb=True)
    assert {"B68SPK", "B80HFI"} <= {r.text for r in reader(frames[0])}
    with VehicleReader.from_configs(["rotate=180", "motion_gate=false"], rgb=True) as vehicles:
        for i, f in enumerate(frames):
            vehicles.add(f, i / 5)
        events = vehicles.finish()
    assert {"B68SPK", "B80HFI"} <= {e.text for e in events}
