from pathlib import Path

import numpy as np
import pytest
import torch

from common.digest import sha256
from common.errors import UserError
from detection import DetectorConfig, Detections, PlateDetector
from detection.detector import check_weights, to_detections
from detection.weights import read_manifest, record, verify

ROOT = Path(__file__).resolve().parents[2]


class FakeBoxes:
    def __init__(self, xyxy, conf):
        self.xyxy, self.conf = torch.tensor(xyxy, dtype=torch.float32), torch.tensor(conf, dtype=torch.float32)

    def __len__(self):
        return len(self.conf)


class FakeResult:
    def __init__(self, xyxy, conf):
        self.boxes = FakeBoxes(xyxy, conf)


class FakeYOLO:
    def __init__(self):
        self.calls = []

    def predict(self, frames, **kw):
        self.calls.append((len(frames), kw))
        return [FakeResult([[10.5, 20.25, 110.0, 50.0]], [0.875]) if i % 2 == 0 else FakeResult([], [])
                for i in range(len(frames))]


def test_maps_results_exactly():
    det = to_detections(FakeResult([[1.5, 2.5, 30.0, 12.0], [100, 200, 180, 230]], [0.5, 0.25]))
    assert det.xyxy.dtype == np.float32 and det.xyxy.tolist() == [[1.5, 2.5, 30.0, 12.0], [100, 200, 180, 230]]
    assert det.conf.tolist() == [0.5, 0.25] and len(to_detections(FakeResult([], []))) == 0


def test_batched_call_and_thresholds_from_config():
    fake = FakeYOLO()
    det = PlateDetector(DetectorConfig(conf=0.4, iou=0.6, imgsz=960, device="cpu"), model=fake)
    frames = [np.zeros((720, 1280, 3), np.uint8)] * 3
    out = det(frames)
    assert [len(d) for d in out] == [1, 0, 1] and all(isinstance(d, Detections) for d in out)
    n, kw = fake.calls[0]
    assert n == 3 and (kw["conf"], kw["iou"], kw["imgsz"], kw["device"]) == (0.4, 0.6, 960, "cpu")
    assert det.detect(frames[0]).xyxy.tolist() == [[10.5, 20.25, 110.0, 50.0]]
    assert det([]) == []


def test_unlisted_or_changed_weights_are_refused(tmp_path):
    pt = tmp_path / "detector.pt"
    pt.write_bytes(b"pretend pickle")
    manifest = tmp_path / "MANIFEST.sha256"
    manifest.write_text("")
    with pytest.raises(UserError, match="is not in MANIFEST.sha256"):
        verify(pt, manifest)
    manifest.write_text(f"{'0' * 64}  detector.pt\n")
    with pytest.raises(UserError, match="SHA-256 does not match"):
        verify(pt, manifest)
    manifest.write_text(f"{sha256(pt)}  detector.pt\n")
    verify(pt, manifest)


def test_onnx_needs_no_listing_but_a_listed_one_must_match(tmp_path):
    onnx = tmp_path / "detector.onnx"
    onnx.write_bytes(b"pretend graph")
    verify(onnx, required=False)  # an unlisted ONNX graph cannot run code: allowed
    record(onnx)
    assert read_manifest(tmp_path / "MANIFEST.sha256") == {"detector.onnx": sha256(onnx)}
    verify(onnx, required=False)
    onnx.write_bytes(b"changed graph")
    with pytest.raises(UserError, match="SHA-256 does not match"):
        verify(onnx, required=False)


def test_missing_weights():
    with pytest.raises(UserError, match="detector weights not found: nope.pt"):
        PlateDetector(DetectorConfig(weights="nope.pt"))


def test_files_checked_before_loading_name_the_bad_one(tmp_path):
    """The pipeline checks the detector's files once before its sources start (pipeline.app.check_models): the
    greyscale detector's too, and on the CPU the .onnx beside a .pt, which is the file that runs there."""
    good, bad = tmp_path / "good.onnx", tmp_path / "bad.onnx"
    good.write_bytes((ROOT / "weights" / "detector.onnx").read_bytes())
    bad.write_bytes(b"not a graph")
    check_weights(DetectorConfig(weights=str(good), gray_weights="", device="cpu"))
    with pytest.raises(UserError, match="bad.onnx is not an ONNX model"):
        check_weights(DetectorConfig(weights=str(good), gray_weights=str(bad), device="cpu"))
    pt = tmp_path / "bad.pt"
    pt.write_bytes(b"x")  # unlisted, but on the CPU its .onnx sibling is what would load
    with pytest.raises(UserError, match="bad.onnx is not an ONNX model"):
        check_weights(DetectorConfig(weights=str(pt), gray_weights="", device="cpu"))
    with pytest.raises(UserError, match="bad.pt is not in MANIFEST.sha256"):
        check_weights(DetectorConfig(weights=str(pt), gray_weights="", device="cpu", onnx_on_cpu=False))


def test_onnx_sibling_is_used_on_the_cpu_only(tmp_path):
    pt, onnx = tmp_path / "detector.pt", tmp_path / "detector.onnx"
    pt.write_bytes(b"x")
    assert PlateDetector._pick(DetectorConfig(weights=str(pt)), "cpu") == pt  # no export yet
    onnx.write_bytes(b"x")
    assert PlateDetector._pick(DetectorConfig(weights=str(pt)), "cpu") == onnx
    assert PlateDetector._pick(DetectorConfig(weights=str(pt)), "cuda:0") == pt
    assert PlateDetector._pick(DetectorConfig(weights=str(pt), onnx_on_cpu=False), "cpu") == pt


def test_partial_boxes_inside_a_plate_are_dropped():
    from detection.detections import Detections

    d = Detections(np.array([[300, 425, 414, 472], [200, 425, 400, 475], [600, 100, 700, 130], [380, 430, 480, 470]],
                            np.float32), np.array([0.38, 0.92, 0.5, 0.6], np.float32))
    kept = d.drop_contained(0.6)
    # the left part of the big plate (fully inside) goes; a box only 20 % inside stays; order is kept
    assert kept.xyxy.tolist() == [[200, 425, 400, 475], [600, 100, 700, 130], [380, 430, 480, 470]]
    assert kept.conf.tolist() == pytest.approx([0.92, 0.5, 0.6])
    assert len(d.drop_contained(1.0)) == 4


def test_a_loose_box_around_a_more_confident_plate_is_dropped():
    """A less confident box that holds a plate's box (the plate with its bumper) reads the same plate again."""
    from detection.detections import Detections

    d = Detections(np.array([[578, 590, 853, 661], [328, 571, 865, 668], [104, 409, 198, 437]], np.float32),
                   np.array([0.9, 0.4, 0.7], np.float32))
    assert d.drop_contained(0.6).xyxy.tolist() == [[578, 590, 853, 661], [104, 409, 198, 437]]
    loose_first = Detections(d.xyxy, np.array([0.4, 0.9, 0.7], np.float32))  # the loose box more confident
    assert loose_first.drop_contained(0.6).xyxy.tolist() == [[328, 571, 865, 668], [104, 409, 198, 437]]


def test_a_pair_drops_the_box_more_than_max_overlap_inside_the_other_and_keeps_one_just_at_it():
    from detection.detections import Detections

    def kept(*boxes):
        d = Detections(np.array([b for b, _ in boxes], np.float32), np.array([c for _, c in boxes], np.float32))
        return d.drop_contained(0.6).xyxy.tolist()

    plate = ([0, 0, 100, 10], 0.9)
    assert kept(plate, ([10, 0, 60, 10], 0.5)) == [plate[0]]  # two boxes, one wholly inside the surer one
    assert kept(plate, ([70, 0, 120, 10], 0.5)) == [plate[0], [70, 0, 120, 10]]  # 0.6 of it inside: kept
    assert kept(plate, ([69, 0, 119, 10], 0.5)) == [plate[0]]  # 0.62 of it inside
    assert kept(plate, ([40, 0, 240, 10], 0.5)) == [plate[0], [40, 0, 240, 10]]  # it holds 0.6 of the plate: kept
    assert kept(plate, ([39, 0, 239, 10], 0.5)) == [plate[0]]  # 0.61 of the plate


@pytest.mark.skipif(not (ROOT / "weights" / "detector.onnx").is_file(), reason="no shipped ONNX detector")
def test_onnx_session_stops_spinning_after_runs_and_detects_the_same():
    import cv2

    from detection.ultra import yolo_class

    cfg = DetectorConfig(weights=str(ROOT / "weights" / "detector.onnx"), device="cpu")
    det = PlateDetector(cfg)
    sess = det.model.predictor.model.backend.session
    assert sess.get_session_options().get_session_config_entry("session.force_spinning_stop") == "1"
    frame = cv2.imread(str(ROOT / "samples" / "stills" / "images" / "train_dayride_type1_003_t00098.jpg"))
    plain = PlateDetector(cfg, model=yolo_class()(cfg.weights, task="detect"))  # ultralytics' own session
    a, b = det.detect(frame), plain.detect(frame)
    assert len(a.xyxy) >= 2 and np.allclose(a.xyxy, b.xyxy, atol=1e-3) and np.allclose(a.conf, b.conf, atol=1e-5)


@pytest.mark.skipif(not (ROOT / "weights" / "detector.onnx").is_file(), reason="no shipped ONNX detector")
def test_loading_and_running_a_detector_keeps_torchs_thread_count():
    """ultralytics sets torch's threads to cpu_count - 1 whenever it picks a CPU device: one thread on two cores,
    which left the pipeline's PyTorch OCR running on one core. Its own calls keep its count; ours comes back."""
    import torch

    from detection.ultra import yolo_class

    yolo_class()  # ultralytics imported with its offline switches set
    from ultralytics.utils import NUM_THREADS

    before = torch.get_num_threads()
    wanted = 3 if NUM_THREADS != 3 else 2  # a count ultralytics would not set
    torch.set_num_threads(wanted)
    try:
        det = PlateDetector(DetectorConfig(weights=str(ROOT / "weights" / "detector.onnx"), device="cpu"))
        assert torch.get_num_threads() == wanted
        det.detect(np.zeros((96, 160, 3), np.uint8))
        assert torch.get_num_threads() == wanted
    finally:
        torch.set_num_threads(before)


def test_monochrome_frames_go_to_the_gray_detector():
    import cv2

    from detection.detector import is_monochrome

    colour = np.dstack([np.full((72, 128), v, np.uint8) for v in (40, 90, 160)])
    grey = cv2.cvtColor(cv2.cvtColor(colour, cv2.COLOR_BGR2GRAY), cv2.COLOR_GRAY2BGR)
    ok, buf = cv2.imencode(".jpg", grey)
    assert is_monochrome(grey) and is_monochrome(cv2.imdecode(buf, cv2.IMREAD_COLOR)) and not is_monochrome(colour)
    decoded = grey.astype(np.int16) + np.array([-3, 0, 2], np.int16)  # grey video as a decoder returns it
    assert is_monochrome(np.clip(decoded, 0, 255).astype(np.uint8))
    rng = np.random.default_rng(0)
    dusk = np.clip(rng.normal(60, 25, (72, 128, 3)), 0, 255).astype(np.uint8)  # dark, but colour
    assert not is_monochrome(dusk)

    class Fake:  # an ultralytics model: one box per frame, x1 = its tag
        def __init__(self, tag):
            self.tag, self.calls = tag, []

        def predict(self, frames, **kw):
            self.calls.append(len(frames))
            return [FakeResult([[self.tag, 0.0, self.tag + 10, 5.0]], [0.9]) for _ in frames]

    cfg = DetectorConfig(device="cpu")
    main, mono = Fake(1.0), Fake(2.0)
    det = PlateDetector(cfg, model=main, gray=PlateDetector(cfg, model=mono))
    got = det([colour, grey, colour, grey, grey])
    assert [float(d.xyxy[0, 0]) for d in got] == [1.0, 2.0, 1.0, 2.0, 2.0]
    assert main.calls == [2] and mono.calls == [3]  # one batched call each
    assert [float(d.xyxy[0, 0]) for d in PlateDetector(cfg, model=main)([grey])] == [1.0]  # no gray detector


def test_a_long_list_of_images_reaches_the_model_batch_at_a_time_and_comes_back_in_order():
    class Tagged:  # an ultralytics model: each frame's one box at x1 = its first pixel's value
        def __init__(self):
            self.calls = []

        def predict(self, frames, **kw):
            self.calls.append(len(frames))
            return [FakeResult([[float(f[0, 0, 0]), 0.0, 50.0, 5.0]], [0.9]) for f in frames]

    frames = [np.full((16, 16, 3), i, np.uint8) for i in range(37)]  # a high-resolution photo's tiles
    model = Tagged()
    got = PlateDetector(DetectorConfig(device="cpu", batch=16), model=model)(frames)
    assert model.calls == [16, 16, 5] and [float(d.xyxy[0, 0]) for d in got] == list(range(37))
    one = Tagged()
    PlateDetector(DetectorConfig(device="cpu", batch=37), model=one)(frames)
    assert one.calls == [37]


def test_monochrome_is_told_by_every_channel_pair_and_a_decoder_s_offset_of_8_levels_at_most():
    from detection.detector import is_monochrome

    rng = np.random.default_rng(1)
    grey = rng.integers(40, 200, (72, 128), dtype=np.uint8)
    assert is_monochrome(grey) and is_monochrome(np.dstack([grey] * 3 + [np.full_like(grey, 255)]))  # 2-D; BGRA
    for k in range(3):  # one channel of its own: colour, whichever it is
        bgr = np.dstack([grey] * 3).astype(np.int16)
        bgr[..., k] += rng.integers(-20, 20, grey.shape)
        assert not is_monochrome(np.clip(bgr, 0, 255).astype(np.uint8))
    for offset, mono in ((8, True), (9, False), (-8, True), (-9, False)):
        shifted = np.dstack([grey, grey, np.clip(grey.astype(np.int16) + offset, 0, 255).astype(np.uint8)])
        assert is_monochrome(shifted) == mono


def test_no_boxes_half_only_on_cuda_and_an_injected_model_loads_no_second_detector():
    class NoBoxes:
        boxes = None

    assert len(to_detections(NoBoxes())) == 0
    fake = FakeYOLO()
    det = PlateDetector(DetectorConfig(device="cpu", half=True, max_det=7), model=fake)
    det.detect(np.zeros((64, 64, 3), np.uint8))
    assert (fake.calls[0][1]["half"], fake.calls[0][1]["max_det"]) == (False, 7)
    cfg = DetectorConfig(device="cpu", gray_weights=str(ROOT / "weights" / "detector_gray.pt"))
    assert PlateDetector(cfg, model=FakeYOLO()).gray is None  # a model given in Python: its own, alone


def test_the_gray_detector_is_loaded_only_when_it_is_another_file_and_a_bad_pt_is_one_line(tmp_path):
    gray = str(ROOT / "weights" / "detector_gray.pt")
    same = PlateDetector(DetectorConfig(device="cpu", weights=gray, gray_weights=gray))
    assert same.gray is None and same.weights.name == "detector_gray.onnx"  # one model for every frame
    both = PlateDetector(DetectorConfig(device="cpu", gray_weights=gray))
    assert (both.weights.name, both.gray.weights.name) == ("detector.onnx", "detector_gray.onnx")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a model")
    with pytest.raises(UserError) as exc:
        PlateDetector(DetectorConfig(device="cpu", weights=str(bad), gray_weights="", verify_sha256=False))
    assert str(exc.value).startswith(f"cannot load detector {bad}: ") and "\n" not in str(exc.value)
