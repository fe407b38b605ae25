import csv
import dataclasses
import logging
import shutil
import socket
from pathlib import Path

import cv2
import numpy as np
import pytest

from common.digest import sha256
from detection import DetectorConfig, PlateDetector
from detection.train import main as train_main
from detection.weights import read_manifest


@pytest.fixture
def tiny_set(tmp_path):
    rng = np.random.default_rng(0)
    (tmp_path / "set" / "images").mkdir(parents=True)
    with (tmp_path / "set" / "labels.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["image", "plate_text", "x1", "y1", "x2", "y2"])
        for i in range(4):
            img = rng.integers(0, 120, (96, 128, 3), dtype=np.uint8)
            x, y = int(rng.integers(5, 60)), int(rng.integers(5, 60))
            img[y:y + 15, x:x + 45] = 240
            cv2.imwrite(str(tmp_path / "set" / "images" / f"{i}.jpg"), img)
            w.writerow([f"{i}.jpg", "", x, y, x + 45, y + 15])
    return tmp_path / "set"


def test_trains_from_yaml_offline(tiny_set, tmp_path, monkeypatch, capsys):
    pytest.importorskip("polars", reason="ultralytics' trainer saves its results with polars (a dependency of its own)")

    def no_network(*args, **kwargs):
        raise AssertionError(f"network access attempted: {args}")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "w" / "detector.pt"
    configs = Path(__file__).resolve().parents[2] / "configs"
    argv = ["--config", str(configs / "detector_train.yaml"), f"model={configs / 'models' / 'plate_yolo11.yaml'}",
            f"train=[{tiny_set}]", f"val=[{tiny_set}]", "split_file=", "unboxed=[]", "epochs=1", "imgsz=64", "batch=2",
            "workers=0", "device=cpu", f"out_dir={tmp_path / 'runs'}", f"weights_out={out}",
            f"dataset_dir={tmp_path / 'yolo'}"]
    assert train_main(argv) == 0
    logged = capsys.readouterr().out  # stdout is no terminal here, as under nohup: ultralytics' bars as lines
    assert "\r" not in logged and "\033[K" not in logged
    bars = [ln for ln in logged.splitlines() if "Caching images" in ln]  # its dataset's bars, drawn on stdout
    assert bars and all("100%" in ln for ln in bars), logged
    assert out.is_file() and (tmp_path / "w" / "detector.yaml").is_file()
    assert read_manifest(tmp_path / "w" / "MANIFEST.sha256") == {"detector.pt": sha256(out)}
    det = PlateDetector(DetectorConfig(weights=str(out), imgsz=64, device="cpu", conf=0.0))
    res = det([np.zeros((96, 128, 3), np.uint8)] * 2)
    assert len(res) == 2 and all(r.xyxy.shape[1] == 4 for r in res)
    capsys.readouterr()
    assert train_main(argv) == 2  # the same run again would overwrite this one's weights: refused
    assert "already holds a training run: continue it with resume=" in capsys.readouterr().err
    last = tmp_path / "runs" / "train" / "weights" / "last.pt"
    assert train_main(["--config", argv[1], f"resume={last}"]) == 2  # finished: nothing to resume (no download try)
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith(f"error: {last}: the run has finished"), err


def test_unknown_publish_choice_is_refused(tmp_path, capsys):
    assert train_main(["publish=worst", f"out_dir={tmp_path}"]) == 2


def test_a_negative_seed_is_refused_when_the_config_loads(tmp_path, capsys):
    assert train_main(["seed=-5", f"out_dir={tmp_path}"]) == 2  # was ultralytics' ValueError after the dataset build
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said == "error: config key 'seed': -5 is out of range (at least 0)"


@pytest.mark.parametrize("model, says", [
    ("yolo11n.pt", "model: 'yolo11n.pt' is not an architecture YAML (the detector is trained from scratch"),
    ("nope.yaml", "model architecture YAML not found: nope.yaml (neither a file nor one of ultralytics' own names"),
    ("configs/nope.yaml", "model architecture YAML not found: configs/nope.yaml"),
    ("configs/detector.yaml", "model configs/detector.yaml: not an architecture YAML (no backbone and head"),
])
def test_a_model_that_is_no_architecture_is_refused_before_the_dataset_is_built(model, says, tmp_path, capsys):
    assert train_main([f"model={model}", f"out_dir={tmp_path}/runs", f"dataset_dir={tmp_path}/ds",
                       "train=[nope]"]) == 2  # the dataset (a missing folder) would fail later
    assert capsys.readouterr().err.strip().splitlines()[-1].startswith(f"error: {says}")


def test_architectures_of_ours_and_of_ultralytics_are_taken():
    from detection.train import architecture

    assert architecture("configs/models/plate_yolo11.yaml").endswith("configs/models/plate_yolo11.yaml")
    assert architecture("yolo11n.yaml") == "yolo11n.yaml"  # ultralytics' own, scaled: nothing downloaded


def test_same_named_images_of_two_folders_both_reach_the_dataset(tiny_set, tmp_path):
    import shutil

    from detection.train import build_dataset
    from detection.train_config import DetectorTrainConfig

    twin = tmp_path / "twin"
    shutil.copytree(tiny_set, twin)  # same file names, another folder (scenes and scenes2 both have scene_000000.jpg)
    cfg = DetectorTrainConfig(train=(str(tiny_set), str(twin)), val=(str(tiny_set),), dataset_dir=str(tmp_path / "yolo"))
    build_dataset(cfg)
    assert len(list((tmp_path / "yolo" / "images" / "train").iterdir())) == 8
    assert len(list((tmp_path / "yolo" / "labels" / "train").iterdir())) == 8


def test_unboxed_plates_become_textless_boxes_and_stray_rows_are_left_out(tiny_set, tmp_path):
    from common.errors import UserError
    from detection.train import build_dataset
    from detection.yolo_labels import read_yolo_folder
    from detection.train_config import DetectorTrainConfig

    unboxed = tmp_path / "unboxed.csv"
    unboxed.write_text("image,x1,y1,x2,y2\n2.jpg,70,70,100,80\n")
    cfg = DetectorTrainConfig(train=(str(tiny_set),), val=(str(tiny_set),), dataset_dir=str(tmp_path / "yolo"),
                              unboxed=(str(unboxed),))
    build_dataset(cfg)
    boxes = read_yolo_folder(tmp_path / "yolo", ("train",))
    assert [len(boxes[f"images/train/set__{i}.jpg"]) for i in range(4)] == [1, 1, 2, 1]
    added = [b for b in boxes["images/train/set__2.jpg"] if abs(b.x1 - 70) < 0.5]
    assert len(added) == 1 and abs(added[0].x2 - 100) < 0.5 and abs(added[0].y2 - 80) < 0.5
    unboxed.write_text("image,x1,y1,x2,y2\n2.jpg,70,70,100,80\nnot_there.jpg,1,1,9,9\n")
    build_dataset(cfg)  # a row for an image of another data set: not used
    assert read_yolo_folder(tmp_path / "yolo", ("train",)) == boxes
    unboxed.unlink()
    with pytest.raises(UserError, match="unboxed.csv"):
        build_dataset(cfg)


@pytest.mark.parametrize("saved", [True, False])
def test_a_stopped_run_says_how_to_resume_it(saved, tmp_path, monkeypatch, capsys):
    """Ctrl-C (or SIGTERM) during training ends with status 130 and the line to resume by, not a traceback."""
    import detection.train as detection_train

    last = tmp_path / "runs" / "try" / "weights" / "last.pt"

    def stopped(cfg):
        if saved:  # ultralytics writes last.pt at the end of each epoch
            last.parent.mkdir(parents=True)
            last.write_bytes(b"")
        raise KeyboardInterrupt

    monkeypatch.setattr(detection_train, "train", stopped)
    assert train_main([f"out_dir={tmp_path / 'runs'}", "name=try"]) == 130
    said = capsys.readouterr().err.strip().splitlines()[-1]
    assert said == (f"interrupted: resume with resume={last}" if saved else
                    "interrupted before a first epoch ended: nothing saved; run the same command again")


@pytest.mark.parametrize("saved", [True, False])
def test_a_run_that_meets_a_full_disk_says_where_and_how_to_resume_in_one_line(saved, tmp_path, monkeypatch, capsys):
    """Ultralytics' own write onto a full disk names no file: the line names the run's weights folder."""
    import errno

    import detection.train as detection_train

    weights = tmp_path / "runs" / "try" / "weights"

    def full(cfg):
        if saved:
            weights.mkdir(parents=True)
            (weights / "last.pt").write_bytes(b"")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(detection_train, "train", full)
    assert train_main([f"out_dir={tmp_path / 'runs'}", "name=try"]) == 2
    then = (f"interrupted: resume with resume={weights / 'last.pt'}" if saved else
            "interrupted before a first epoch ended: nothing saved; run the same command again")
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {weights}: No space left on device; {then}"]


def test_a_resume_takes_the_runs_own_config_and_publishes_where_it_was_to(tiny_set, tmp_path):
    """`resume=` alone used the default config, so a run begun with weights_out=mine.pt published over the shipped
    weights/detector.pt when it ended. The run keeps its config in its folder; the resume reads it."""
    import yaml

    from common.config import config_to_dict
    from detection.train import RUN_CONFIG, run_config
    from detection.train_config import DetectorTrainConfig

    run = tmp_path / "runs" / "mine"
    (run / "weights").mkdir(parents=True)
    began = DetectorTrainConfig(train=(str(tiny_set),), val=(str(tiny_set),), weights_out=str(tmp_path / "mine.pt"),
                                epochs=7, dataset_dir=str(tmp_path / "yolo"))
    (run / RUN_CONFIG).write_text("# commit lines\n" + yaml.safe_dump(config_to_dict(began)))
    last = run / "weights" / "last.pt"
    last.write_bytes(b"")  # ultralytics' checkpoint (not read here)
    cfg = run_config([f"resume={last}", "batch=4"])
    assert cfg == dataclasses.replace(began, resume=str(last), batch=4)
    assert run_config(["batch=4"]) is None  # not a resume
    old = tmp_path / "old" / "weights" / "last.pt"
    old.parent.mkdir(parents=True)
    old.write_bytes(b"")
    assert run_config([f"resume={old}"]) is None  # a run that keeps no config
    (run / "weights" / "args.yaml").write_text("")
    assert run_config([f"resume={run / 'weights' / 'args.yaml'}"]) is None  # not a last.pt (configs/models/x.yaml
    # lies two folders below configs/detector_train.yaml, the shipped config)


def test_a_resumed_run_makes_its_dataset_again_when_it_is_gone(tiny_set, tmp_path):
    import yaml

    from common.config import config_to_dict
    from common.errors import UserError
    from detection.train import RUN_CONFIG, build_dataset, remake_dataset
    from detection.train_config import DetectorTrainConfig

    began = DetectorTrainConfig(train=(str(tiny_set),), val=(str(tiny_set),), dataset_dir=str(tmp_path / "yolo"))
    data = build_dataset(began)
    made = sorted(p.name for p in (tmp_path / "yolo").rglob("*"))
    run = tmp_path / "runs" / "train"
    run.mkdir(parents=True)
    gone = tmp_path / "elsewhere" / "dataset.yaml"
    with pytest.raises(UserError, match=f"^last.pt: the run's dataset {gone} is gone or broken and the run keeps no "
                                        f"{RUN_CONFIG} to make it from"):
        remake_dataset(run, str(gone), "last.pt")
    (run / RUN_CONFIG).write_text(yaml.safe_dump(config_to_dict(began)))
    shutil.rmtree(tmp_path / "yolo")  # a fresh machine: data_gen/ is not in git
    remake_dataset(run, str(data), "last.pt")
    assert sorted(p.name for p in (tmp_path / "yolo").rglob("*")) == made
    before = data.stat().st_mtime_ns
    remake_dataset(run, str(data), "last.pt")  # whole: left as it is
    assert data.stat().st_mtime_ns == before
    next((tmp_path / "yolo" / "images" / "train").iterdir()).unlink()  # a link broken...
    (tmp_path / "yolo" / "images" / "train" / "0_gone.jpg").symlink_to(tmp_path / "nowhere.jpg")
    remake_dataset(run, str(data), "last.pt")  # ...made again
    assert sorted(p.name for p in (tmp_path / "yolo").rglob("*")) == made


def test_a_run_begun_on_a_gpu_resumes_on_this_cpu(tiny_set, tmp_path, monkeypatch):
    """Ultralytics resumes on the device a run was begun on; a run begun on a GPU (device 0) could not go on on a
    machine without one (its ValueError). The resume now runs on this machine's device (the run's config says auto)."""
    pytest.importorskip("polars", reason="ultralytics' trainer saves its results with polars (a dependency of its own)")
    import torch
    from ultralytics.engine.trainer import BaseTrainer

    def stop_after_saving(self, *args, **kwargs):  # stopped once its first epoch is saved
        saved(self, *args, **kwargs)
        raise KeyboardInterrupt

    saved = BaseTrainer.save_model
    monkeypatch.setattr(BaseTrainer, "save_model", stop_after_saving)
    monkeypatch.chdir(tmp_path)
    configs = Path(__file__).resolve().parents[2] / "configs"
    out = tmp_path / "w" / "detector.pt"
    assert train_main(["--config", str(configs / "detector_train.yaml"),
                       f"model={configs / 'models' / 'plate_yolo11.yaml'}", f"train=[{tiny_set}]", f"val=[{tiny_set}]",
                       "split_file=", "unboxed=[]", "epochs=2", "imgsz=64", "batch=2", "workers=0",
                       f"out_dir={tmp_path / 'runs'}", f"weights_out={out}", f"dataset_dir={tmp_path / 'yolo'}"]) == 130
    monkeypatch.setattr(BaseTrainer, "save_model", saved)
    last = tmp_path / "runs" / "train" / "weights" / "last.pt"
    ckpt = torch.load(last, weights_only=False)  # our own file, made above
    assert ckpt["epoch"] == 0 and not out.exists()
    ckpt["train_args"]["device"] = ckpt["ema"].args.device = "0"  # as if begun on a GPU (its args travel twice)
    torch.save(ckpt, last)
    said = []  # ultralytics' own log: the run goes on from its saved epoch, not from scratch
    handler = logging.Handler()
    handler.emit = lambda record: said.append(record.getMessage())
    ultra = logging.getLogger("ultralytics")
    level = ultra.level
    ultra.addHandler(handler)
    ultra.setLevel(logging.INFO)
    try:
        assert train_main([f"resume={last}"]) == 0
    finally:
        ultra.removeHandler(handler)
        ultra.setLevel(level)
    assert any(line.startswith("Resuming training") and line.endswith("from epoch 2 to 2 total epochs")
               for line in said)
    assert out.is_file()  # its second epoch trained here, published where the run was to


class FakeYOLO:
    """Ultralytics' YOLO as `train` drives it: records the arguments of each run and saves best.pt and last.pt;
    `on_trainer` puts the run's folder on its trainer instead of its results (as some ultralytics versions do)."""
    runs: list = []
    on_trainer = False

    def __init__(self, arch: str) -> None:
        self.arch, self.ckpt = arch, None

    def train(self, **args):
        from types import SimpleNamespace

        FakeYOLO.runs.append(args)
        save = Path(args["project"]) / args["name"]
        (save / "weights").mkdir(parents=True, exist_ok=True)
        for name in ("best", "last"):
            (save / "weights" / f"{name}.pt").write_bytes(name.encode())
        self.trainer = SimpleNamespace(save_dir=str(save))
        return None if FakeYOLO.on_trainer else SimpleNamespace(save_dir=str(save))


@pytest.mark.parametrize("hours, publish, on_trainer", [(0.5, "last", False), (0.0, "best", True)])
def test_train_asks_ultralytics_for_our_run_and_publishes_its_choice(tiny_set, tmp_path, monkeypatch, hours, publish,
                                                                     on_trainer):
    """A new run: trained from the architecture YAML (pretrained off, AMP off on the CPU, plots off unless extra says),
    within `hours` when set; the run's best.pt or last.pt (`publish`) copied to `weights_out` in a new folder, its
    config beside it; ultralytics' AMP check (it would load downloaded weights) always passes."""
    import ultralytics.engine.trainer as trainer

    import detection.train as dtrain
    from detection.train_config import DetectorTrainConfig

    monkeypatch.setattr(dtrain, "yolo_class", lambda: FakeYOLO)
    monkeypatch.setattr(FakeYOLO, "runs", [])
    monkeypatch.setattr(FakeYOLO, "on_trainer", on_trainer)
    monkeypatch.setattr(trainer, "check_amp", trainer.check_amp)  # put back after the test
    out = tmp_path / "new" / "dir" / "mine.pt"
    cfg = DetectorTrainConfig(train=(str(tiny_set),), val=(str(tiny_set),), split_file=(), unboxed=(),
                              weights_out=str(out), out_dir=str(tmp_path / "runs"), dataset_dir=str(tmp_path / "yolo"),
                              device="cpu", hours=hours, publish=publish, epochs=3, imgsz=64,
                              extra={"plots": True, "lr0": "1e-4", "name": "1e5"})  # YAML 1.1 leaves 1e-4 text
    assert dtrain.train(cfg) == out and out.read_bytes() == publish.encode()
    assert out.with_suffix(".yaml").is_file()
    assert read_manifest(out.parent / "MANIFEST.sha256") == {"mine.pt": sha256(out)}
    [args] = FakeYOLO.runs
    assert args["epochs"] == 3 and args["imgsz"] == 64 and args["device"] == "cpu" and args["data"] == str(
        tmp_path / "yolo" / "dataset.yaml")
    assert (args["pretrained"], args["amp"], args["plots"]) == (False, False, True)
    assert (args["lr0"], args["name"]) == (1e-4, "1e5")  # a number where ultralytics takes one, text where text
    assert args.get("time") == (hours or None)
    assert trainer.check_amp(None) is True


def test_an_architecture_path_is_found_from_any_folder(tmp_path, monkeypatch):
    from detection.train import architecture

    monkeypatch.chdir(tmp_path)
    root = Path(__file__).resolve().parents[2]
    assert architecture("configs/models/plate_yolo11.yaml") == str(root / "configs" / "models" / "plate_yolo11.yaml")


def test_held_out_frames_go_to_val_only_and_only_training_frames_are_made_grey(tiny_set, tmp_path, logged):
    """A folder with frames in `split_file`: those go to val and the rest to train; a folder with none goes whole to
    the splits it is listed under. `gray_share` greys training frames only. Rows of `unboxed` for images in none of
    the folders are said in one warning."""
    from detection.train import build_dataset
    from detection.train_config import DetectorTrainConfig

    twin = tmp_path / "twin"
    shutil.copytree(tiny_set, twin)
    (tmp_path / "held.csv").write_text("dataset,image\nset,1.jpg\n")
    (tmp_path / "unboxed.csv").write_text("image,x1,y1,x2,y2\n2.jpg,70,70,100,80\nnot_there.jpg,1,1,9,9\n")
    cfg = DetectorTrainConfig(train=(str(tiny_set),), val=(str(tiny_set), str(twin)),
                              split_file=str(tmp_path / "held.csv"), gray_share=1.0,
                              unboxed=(str(tmp_path / "unboxed.csv"),), dataset_dir=str(tmp_path / "yolo"))
    said, _ = logged(lambda: build_dataset(cfg), "WARNING")
    images = {split: sorted((tmp_path / "yolo" / "images" / split).iterdir()) for split in ("train", "val")}
    assert [p.name for p in images["train"]] == ["set__0.jpg", "set__2.jpg", "set__3.jpg"]
    assert [p.name for p in images["val"]] == ["set__1.jpg"] + [f"twin__{i}.jpg" for i in range(4)]
    assert not any(p.is_symlink() for p in images["train"]) and all(p.is_symlink() for p in images["val"])
    grey = cv2.imread(str(images["train"][0]))
    assert (grey[:, :, 0] == grey[:, :, 2]).all()
    assert said == [("WARNING", f"{tmp_path / 'unboxed.csv'}: 1 of its images are in none of the train or val folders "
                                f"(first: not_there.jpg); their boxes are not used")]
