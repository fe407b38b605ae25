import dataclasses
import json
from pathlib import Path

import pytest
import torch
import yaml
from torch.utils.data import DataLoader

from common.errors import UserError
from ocr.alphabet import Codec
from ocr.checkpoint import load_checkpoint
from ocr.data import build_dataset, collate
from ocr.model import CRNN
from ocr.resume import resume_config
from ocr.train import ctc_loss_fn, train

ROOT = Path(__file__).resolve().parents[2]


def test_few_steps_lower_the_loss(tiny_cfg):
    torch.manual_seed(0)
    model = CRNN(tiny_cfg.model_config())
    ds = build_dataset(tiny_cfg.val, Codec("0123456789"), 64, 200,
                       mixed=False)
    images, targets, lengths, _ = next(iter(DataLoader(ds, batch_size=16, collate_fn=collate)))
    opt = torch.optim.Adam(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = ctc_loss_fn(model(images), targets, lengths, 10)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def test_run_files_and_resume(tiny_cfg, tmp_path):
    out = tmp_path / "run"
    train(tiny_cfg)
    for f in ("config.yaml", "checkpoints/best_model.pth", "checkpoints/last.pth", "logs/training_history.json",
              "training_curves.png"):
        assert (out / f).is_file(), f
    assert (out / "config.yaml").read_text().startswith("# code: ")  # which code the stored config means
    best = load_checkpoint(out / "checkpoints" / "best_model.pth")
    assert {"epoch", "model_state_dict", "optimizer_state_dict", "best_seq_acc", "config"} <= set(best)
    assert best["model_config"]["alphabet"] == "0123456789"

    resumed = dataclasses.replace(tiny_cfg, epochs=2, resume=str(out / "checkpoints" / "last.pth"))
    history = train(resumed)
    assert len(history["train_loss"]) == 2
    last = load_checkpoint(out / "checkpoints" / "last.pth")
    assert last["epoch"] == 2
    steps = [s["step"].item() for s in last["optimizer_state_dict"]["state"].values()]
    assert set(steps) == {8.0}  # 2 epochs x 32 samples / batch 8: the optimizer state carried over
    assert json.loads((out / "logs" / "training_history.json").read_text())["lr"] == [1e-3, 1e-3]
    stored = (out / "config.yaml").read_text()
    assert stored.count("# code: ") == 1 and yaml.safe_load(stored)["epochs"] == 2  # same code: one line


def test_a_new_run_never_overwrites_a_finished_one(tiny_cfg, tmp_path):
    train(tiny_cfg)
    before = (tmp_path / "run" / "checkpoints" / "last.pth").read_bytes()
    with pytest.raises(UserError, match=r"already holds a training run: continue it with resume=.*last.pth"):
        train(dataclasses.replace(tiny_cfg, seed=1))
    assert (tmp_path / "run" / "checkpoints" / "last.pth").read_bytes() == before


def test_checkpoint_every(tiny_cfg, tmp_path):
    train(dataclasses.replace(tiny_cfg, epochs=2, checkpoint_every=2))
    assert (tmp_path / "run" / "checkpoints" / "checkpoint_epoch_2.pth").is_file()
    assert not (tmp_path / "run" / "checkpoints" / "checkpoint_epoch_1.pth").exists()


def test_fine_tune_to_new_alphabet_reinitialises_the_head(tiny_cfg, tiny_ckpt):
    from ocr.train import build_model

    src = load_checkpoint(tiny_ckpt)["model_state_dict"]
    model = build_model(dataclasses.replace(tiny_cfg, init_from=str(tiny_ckpt)))  # latin (37) -> digits (11)
    own = model.state_dict()
    assert own["head.weight"].shape == (11, 32) and src["head.weight"].shape == (37, 32)
    assert torch.equal(own["cnn.0.0.weight"], src["cnn.0.0.weight"])
    assert torch.equal(own["rnn.weight_ih_l0"], src["rnn.weight_ih_l0"])


def test_persistent_non_finite_loss_stops_with_a_message(tiny_cfg):
    import pytest

    from common.errors import UserError
    from ocr.train import train_one_epoch

    model = CRNN(tiny_cfg.model_config())
    n = 4
    batch = (torch.zeros(n, 3, 64, 200), torch.zeros(n * 60, dtype=torch.long), torch.full((n,), 60), ["0" * 60] * n)
    opt = torch.optim.Adam(model.parameters())
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    from contextlib import nullcontext
    cfg = dataclasses.replace(tiny_cfg, max_bad_batches=3)
    with pytest.raises(UserError, match="loss was not finite for 3 batches in a row at epoch 1"):
        train_one_epoch(model, [batch] * 5, opt, scaler, torch.device("cpu"), nullcontext(), cfg, 1)
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(UserError):
        train_one_epoch(model, [batch] * 5, opt, scaler, torch.device("cpu"), nullcontext(), cfg, 1)
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # bad batches never step


def test_ema_weights_are_validated_saved_and_resumed(tiny_cfg, tmp_path):
    """With ema_decay the best model holds the averaged weights (not the last step's); resume restores the average."""
    out = tmp_path / "run"
    cfg = dataclasses.replace(tiny_cfg, ema_decay=0.9)
    train(cfg)
    last, best = load_checkpoint(out / "checkpoints" / "last.pth"), load_checkpoint(out / "checkpoints" / "best_model.pth")
    ema = last["ema_state_dict"]
    assert ema["n_averaged"].item() == 4  # 32 samples / batch 8: one update per step
    w = "head.weight"
    assert torch.equal(best["model_state_dict"][w], ema[f"module.{w}"])
    assert not torch.equal(last["model_state_dict"][w], ema[f"module.{w}"])
    train(dataclasses.replace(cfg, epochs=2, resume=str(out / "checkpoints" / "last.pth")))
    assert load_checkpoint(out / "checkpoints" / "last.pth")["ema_state_dict"]["n_averaged"].item() == 8
    from ocr.export import main as export_main

    slim = tmp_path / "ema.pth"  # `ocr/export.py --ema`: the last epoch's average, slimmed
    assert export_main(["--weights", str(out / "checkpoints" / "last.pth"), "--ema", "--format", "pth",
                        "--out", str(slim)]) == 0
    last = load_checkpoint(out / "checkpoints" / "last.pth")
    assert torch.equal(load_checkpoint(slim)["model_state_dict"][w], last["ema_state_dict"][f"module.{w}"])
    assert export_main(["--weights", str(slim), "--ema", "--format", "pth", "--out", str(tmp_path / "x.pth")]) == 2


def test_cli_resume_uses_the_runs_own_config_and_folder(tiny_cfg, tmp_path):
    """`resume=` continues the run as it was started (its samples per epoch, its folder), whatever --config says;
    other overrides apply on top."""
    from common.config import config_to_dict
    from ocr.train import main

    train(dataclasses.replace(tiny_cfg, samples_per_epoch=16))  # a run started with an override
    other = tmp_path / "other.yaml"  # a config that differs from the run's
    other.write_text(yaml.safe_dump({**config_to_dict(tiny_cfg), "out_dir": str(tmp_path / "elsewhere")}))
    last = tmp_path / "run" / "checkpoints" / "last.pth"
    assert main(["--config", str(other), f"resume={last}", "epochs=2"]) == 0
    assert not (tmp_path / "elsewhere").exists()
    state = load_checkpoint(last)
    assert state["epoch"] == 2 and state["config"]["samples_per_epoch"] == 16
    steps = [s["step"].item() for s in state["optimizer_state_dict"]["state"].values()]
    assert set(steps) == {4.0}  # 2 epochs x 16 samples / batch 8
    assert main([f"resume={tmp_path / 'run' / 'checkpoints' / 'best_model.pth'}"]) == 2  # not a last.pth: one error line


def test_cli_ctrl_c_says_how_to_resume(tiny_cfg, tmp_path, monkeypatch, capsys):
    """Ctrl-C during a run ends it with status 130 and the `resume=` line, not a traceback; the epochs finished
    are in last.pth."""
    import inspect

    import ocr.train as ocr_train
    from common.config import config_to_dict

    def stop_in_epoch_2(*args, **kwargs):
        if inspect.signature(real).bind(*args, **kwargs).arguments["epoch"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    real = ocr_train.train_one_epoch
    monkeypatch.setattr(ocr_train, "train_one_epoch", stop_in_epoch_2)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({**config_to_dict(tiny_cfg), "epochs": 3}))
    assert ocr_train.main(["--config", str(cfg)]) == 130
    last = tmp_path / "run" / "checkpoints" / "last.pth"
    assert capsys.readouterr().out.splitlines()[-1] == f"interrupted: epoch 1 is saved; resume with resume={last}"
    assert load_checkpoint(last)["epoch"] == 1


def test_a_run_stopped_in_its_first_epoch_says_nothing_was_saved(tiny_cfg, tmp_path, monkeypatch, capsys):
    import ocr.train as ocr_train
    from common.config import config_to_dict

    def stop(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ocr_train, "train_one_epoch", stop)
    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump(config_to_dict(tiny_cfg)))
    assert ocr_train.main(["--config", str(cfg)]) == 130
    assert capsys.readouterr().out.splitlines()[-1] == ("interrupted before a first epoch ended: nothing saved; run "
                                                        "the same command again")
    assert not (tmp_path / "run" / "checkpoints" / "last.pth").exists()


def test_a_stop_sent_to_the_whole_process_group_ends_with_the_resume_line(tiny_cfg, tmp_path):
    """SIGTERM to the process group (`timeout`, a service manager's or a job scheduler's stop) reaches the data
    workers too: they used to die of it and torch raised a traceback in place of the resume line."""
    import os
    import signal
    import subprocess
    import sys
    import time

    from common.config import config_to_dict
    from common.paths import ROOT

    cfg = tmp_path / "tiny.yaml"
    cfg.write_text(yaml.safe_dump({**config_to_dict(tiny_cfg), "epochs": 100, "num_workers": 2,
                                   "samples_per_epoch": 256}))
    last = tmp_path / "run" / "checkpoints" / "last.pth"
    run = subprocess.Popen([sys.executable, str(ROOT / "ocr" / "train.py"), "--config", str(cfg)], cwd=tmp_path,
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while not last.exists() and run.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1.0)  # into the next epoch, its workers at work
        os.killpg(run.pid, signal.SIGTERM)
        out, _ = run.communicate(timeout=60)
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
    assert run.returncode == 130, out[-2000:]
    assert "Traceback" not in out and f"resume with resume={last}" in out.splitlines()[-1], out[-2000:]


def test_cli_resume_goes_on_in_the_folder_the_checkpoint_lies_in(tiny_cfg, tmp_path):
    """A run folder copied (or moved, or mounted elsewhere) continues where it is now; the original is untouched."""
    import shutil

    from ocr.train import main

    train(tiny_cfg)
    shutil.copytree(tmp_path / "run", tmp_path / "copy")
    assert main([f"resume={tmp_path / 'copy' / 'checkpoints' / 'last.pth'}", "epochs=2"]) == 0
    assert load_checkpoint(tmp_path / "copy" / "checkpoints" / "last.pth")["epoch"] == 2
    assert load_checkpoint(tmp_path / "run" / "checkpoints" / "last.pth")["epoch"] == 1
    assert len(json.loads((tmp_path / "run" / "logs" / "training_history.json").read_text())["train_loss"]) == 1


def test_a_run_whose_output_goes_to_a_file_logs_its_progress_as_lines(tiny_cfg, capsys):
    """`nohup python ocr/train.py ... > train.log`: tqdm redrew each bar ten times a second with carriage returns, so
    the log was one line megabytes long; now, where stderr is no terminal, a bar is a line at its start, one a minute
    and one at its end."""
    train(dataclasses.replace(tiny_cfg, epochs=2))
    err = capsys.readouterr().err
    assert "\r" not in err
    lines = err.splitlines()
    assert [ln.split(":")[0] for ln in lines] == ["Training"] * 2 + ["Validation"] * 2 + ["Training"] * 2 + [
        "Validation"] * 2, lines
    assert [ln.split("|")[0].split()[-1] for ln in lines] == ["0%", "100%"] * 4
    assert all("█" in ln and "loss=" in ln for ln in lines[1::4])


def test_a_finished_run_is_refused_with_the_override_that_carries_it_on(tiny_cfg, capsys):
    from ocr.resume import check_unfinished
    from ocr.train import main

    train(tiny_cfg)  # 1 epoch of 1
    last = Path(tiny_cfg.out_dir) / "checkpoints" / "last.pth"
    capsys.readouterr()  # the run's own progress bars
    assert main([f"resume={last}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {last}: the run has trained all its 1 epochs; to train on, resume with epochs=11 or more"]
    stopped = dataclasses.replace(tiny_cfg, epochs=175, resume="runs/x/checkpoints/last.pth")
    with pytest.raises(UserError, match=r"^runs/x/checkpoints/last.pth: the run stopped early at epoch 149 \(validation "
                                        r"loss not lower for 15 epochs, early_stop_patience=15\); to train on, resume "
                                        r"with early_stop_patience=20 or more$"):
        check_unfinished({"epoch": 149, "stale_epochs": 15}, stopped)
    check_unfinished({"epoch": 149, "stale_epochs": 14}, stopped)  # not yet stopped: goes on
    lowered = dataclasses.replace(stopped, epochs=3)  # resume=... epochs=3 on a run of 20 epochs
    with pytest.raises(UserError, match=r"^runs/x/checkpoints/last.pth: the run has trained 20 epochs, more than "
                                        r"epochs=3; to train on, resume with epochs=30 or more$"):
        check_unfinished({"epoch": 20, "stale_epochs": 0}, lowered)


def test_resume_is_never_looked_for_under_the_project(tiny_cfg, tmp_path, monkeypatch):
    """Shipped paths fall back to the project root (common.paths.find); a run to resume is the user's own, from
    where they are: weights/ocr_latin.pth exists under the project, not here."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError, match="checkpoint not found: weights/ocr_latin.pth"):
        resume_config(["resume=weights/ocr_latin.pth"])
    with pytest.raises(UserError, match="checkpoint not found: weights/ocr_latin.pth"):  # train() itself, too
        train(dataclasses.replace(tiny_cfg, resume="weights/ocr_latin.pth"))


def test_freeze_cnn_keeps_the_first_blocks_and_their_bn_statistics(tiny_cfg, tmp_path):
    train(tiny_cfg)
    first = tiny_cfg.out_dir + "/checkpoints/last.pth"
    cfg = dataclasses.replace(tiny_cfg, init_from=first, freeze_cnn=4, out_dir=str(tmp_path / "ft"))
    train(cfg)
    resumed = resume_config([f"resume={tmp_path / 'ft/checkpoints/last.pth'}", "epochs=2"])  # as `resume=` runs it
    assert resumed is not None and resumed.freeze_cnn == 4
    train(resumed)
    before = load_checkpoint(first)["model_state_dict"]
    after = load_checkpoint(tmp_path / "ft/checkpoints/last.pth")["model_state_dict"]
    for key in before:
        block = int(key.split(".")[1]) if key.startswith("cnn.") else 99
        # blocks 0-3: weights and BN statistics as they were; blocks 4-5, the LSTM and the head learnt
        assert torch.equal(before[key], after[key]) == (block < 4), key


def test_freeze_cnn_without_a_model_to_keep_is_refused(tiny_cfg):
    with pytest.raises(UserError, match=r"freeze_cnn=6 keeps trained conv blocks: give their model as init_from="):
        train(dataclasses.replace(tiny_cfg, freeze_cnn=6))


def test_a_training_start_that_fails_is_refused_before_the_runs_folder_is_made(tiny_cfg, monkeypatch):
    """int8 (for reading plates) and nonsense are refused as the config loads; fp16 without CUDA before the run's
    folder is made (it was left behind, its checkpoints folder empty, by the error once the model was built)."""
    from common.config import ConfigError, config_from_dict
    from ocr.config import OCRConfig

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    with pytest.raises(UserError, match=r"^precision=fp16 needs CUDA; use bf16 or fp32 on the CPU"):
        train(dataclasses.replace(tiny_cfg, precision="fp16"))
    assert not Path(tiny_cfg.out_dir).exists()
    for bad, says in ((dict(train=("/nonexistent",)), "dataset folder not found: /nonexistent"),
                      (dict(distill_from="/nonexistent.pth"), "checkpoint not found: /nonexistent.pth")):
        with pytest.raises(UserError, match=f"^{says}"):  # failed starts: no run folder left behind either
            train(dataclasses.replace(tiny_cfg, **bad))
        assert not Path(tiny_cfg.out_dir).exists()
    for bad in ("int8", "fp8"):
        with pytest.raises(ConfigError, match=rf"config key 'precision': '{bad}' is not one of auto, fp32, bf16, fp16"):
            config_from_dict(OCRConfig, {"precision": bad}, "configs/ocr_digits.yaml")


@pytest.mark.parametrize("patterns, says", [
    (("LLLDDD",), "plate pattern 'LLLDDD' asks for letters (L), and the OCR model's alphabet '0123456789' has none"),
    (("ddddddddddd",), "plate pattern 'ddddddddddd' has 'd': a pattern is made of D (digit)"),
])
def test_patterns_no_read_could_fit_are_refused_before_training(tiny_cfg, patterns, says):
    """Its checkpoints would carry them, and every load of the trained model be refused after the hours it took."""
    with pytest.raises(UserError) as exc:
        train(dataclasses.replace(tiny_cfg, patterns=patterns))
    assert str(exc.value).startswith(says)
    assert not (Path(tiny_cfg.out_dir) / "checkpoints").exists()


@pytest.mark.skipif(not (ROOT / "weights" / "ocr_latin.pth").is_file(), reason="weights/ocr_latin.pth not shipped")
def test_the_fine_tune_recipe_runs_with_nothing_but_the_users_plates(tmp_path, monkeypatch):
    """configs/ocr_finetune.yaml, as the README gives it: a user's my_plates/{train,val} in the working folder and
    nothing outside the repository (no ../shared, no drawn sets); it starts from the shipped model, whose reads its
    moving average, exported as the README says, still gives after a few steps."""
    import shutil

    from ocr import Recognizer
    from ocr.export import main as export
    from ocr.process import read_bgr
    from ocr.train import main

    plates = sorted((ROOT / "samples" / "plates").glob("*.jpg"))
    for side, files in (("train", plates[:5]), ("val", plates[5:])):
        (tmp_path / "my_plates" / side).mkdir(parents=True)
        for f in files:
            shutil.copy(f, tmp_path / "my_plates" / side / f.name)  # labelled by their names
    from common.config import load_config
    from ocr.config import OCRConfig

    cfg = load_config(OCRConfig, ROOT / "configs" / "ocr_finetune.yaml")
    assert {s["path"] for s in cfg.train + cfg.val if "path" in s} == {"my_plates/train", "my_plates/val"}
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "configs/ocr_finetune.yaml", "epochs=1", "samples_per_epoch=16", "batch_size=8",
                 "num_workers=0"]) == 0
    assert (tmp_path / "runs" / "my_ocr" / "checkpoints" / "last.pth").is_file()
    assert export(["--weights", "runs/my_ocr/checkpoints/last.pth", "--ema", "--format", "pth", "--out",
                   "my_ocr.pth"]) == 0
    crops = [read_bgr(f) for f in plates]
    mine = [r.text for r in Recognizer.from_checkpoint(tmp_path / "my_ocr.pth", backend="torch")(crops)]
    shipped = [r.text for r in Recognizer.from_checkpoint(ROOT / "weights" / "ocr_latin.pth", backend="torch")(crops)]
    assert sum(a == b for a, b in zip(mine, shipped)) >= 7, (mine, shipped)


def test_a_folders_path_alone_is_a_data_source_augmented_heavily_in_training(tiny_cfg, digits_dir, monkeypatch):
    """`train=[my_plates]` (as the detector's `train=`) was refused: `expected a mapping`. A path alone is that folder:
    in `train` augmented heavily (real plates, as the guide has them), in `val` as it is."""
    from common.config import apply_overrides
    import ocr.data
    import ocr.train as ocr_train

    cfg = apply_overrides(tiny_cfg, [f"train=[{digits_dir}]", f"val=[{digits_dir}, {{path: {digits_dir}}}]"])
    assert cfg.train == (str(digits_dir),) and cfg.val[0] == str(digits_dir)
    built = []

    def spy(*args, **kw):
        built.append(ocr.data.build_dataset(*args, **kw))
        return built[-1]

    monkeypatch.setattr(ocr_train, "build_dataset", spy)
    train(cfg)
    (tr,), (va, va2) = built[0].sources, built[1].sources
    assert (tr.level, va.level, va2.level) == ("heavy", "none", "none")
    assert tr.size == va.size == va2.size == len(ocr.data.read_labels(digits_dir)) > 0
    assert yaml.safe_load((Path(cfg.out_dir) / "config.yaml").read_text())["train"] == [str(digits_dir)]


def test_a_run_begun_without_fp16_scaling_resumes_with_it(tiny_cfg, monkeypatch):
    """A run begun on the CPU (no gradient scaler: its state is empty) resumed on a GPU, where fp16 autocast needs
    one: torch refuses an empty scaler state, and the resume ended in a RuntimeError traceback. (The GPU's scaling
    stood in for on the CPU: the scaler enabled, the loss kept in fp32.)"""
    from contextlib import nullcontext

    import ocr.train as ocr_train

    train(tiny_cfg)
    last = Path(tiny_cfg.out_dir) / "checkpoints" / "last.pth"
    assert load_checkpoint(last)["scaler_state_dict"] == {}
    monkeypatch.setattr(ocr_train, "autocast_for", lambda device_type, precision: (nullcontext(), True))
    train(dataclasses.replace(tiny_cfg, resume=str(last), epochs=2))
    state = load_checkpoint(last)
    assert state["epoch"] == 2 and state["scaler_state_dict"]["scale"] > 0


def test_a_fine_tune_resumes_on_a_machine_without_the_model_it_began_from(tiny_cfg, tiny_ckpt):
    """A resumed run loads its own weights: the `init_from` checkpoint it was begun from (a scratch file, or left on
    another machine) is not needed, and was refused as not found."""
    train(dataclasses.replace(tiny_cfg, init_from=str(tiny_ckpt)))
    tiny_ckpt.unlink()
    last = Path(tiny_cfg.out_dir) / "checkpoints" / "last.pth"
    train(dataclasses.replace(tiny_cfg, init_from=str(tiny_ckpt), resume=str(last), epochs=2))
    assert load_checkpoint(last)["epoch"] == 2


def test_a_process_whose_data_worker_is_left_over_still_ends():
    """Python's exit stops a data worker still running (an iterator never cleaned up) with SIGTERM and waits for it:
    the workers' SIGTERM handling must end them, or the process never ends (as it did, and so the test suite, while
    the workers ignored SIGTERM)."""
    import subprocess
    import sys

    from common.paths import ROOT

    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from torch.utils.data import DataLoader\n"
            "from ocr.train import end_on_stop\n"
            "KEPT = iter(DataLoader(list(range(100)), batch_size=1, num_workers=1, worker_init_fn=end_on_stop))\n"
            "next(KEPT)\n")
    run = subprocess.run([sys.executable, "-c", code, str(ROOT)], capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]


def test_a_plateau_lowers_the_learning_rate_and_a_longer_one_ends_the_run(tiny_cfg, monkeypatch, logged):
    """Validation loss not lower for more than plateau_patience epochs halves the learning rate (the guide's logged
    line); not lower by 1e-4 for early_stop_patience epochs ends the run; each better sequence accuracy (strictly)
    saves the best model. The validation figures are given, so the loop's decisions are exact."""
    import ocr.train as ocr_train

    figures = iter([(2.0, 0.1), (1.0, 0.3), (1.0 - 5e-5, 0.2), (1.0 - 1.5e-4, 0.3), (0.99985, 0.5), (0.99985, 0.4),
                    (0.99985, 0.6), (0.5, 0.9)])  # epoch 3 is not lower by 1e-4, epoch 4 is

    def given(*_args):
        loss, acc = next(figures)
        return {"val_loss": loss, "n": 8, "seq_acc": acc, "seq_acc_o0": acc, "char_acc": acc}

    monkeypatch.setattr(ocr_train, "evaluate", given)
    lines, history = logged(lambda: train(dataclasses.replace(tiny_cfg, epochs=10, lr=1e-3, plateau_patience=1,
                                                              plateau_factor=0.5, min_lr=0.0, early_stop_patience=3)),
                            "DEBUG")
    said = [message.strip() for _, message in lines]
    assert history["val_seq_acc"] == [0.1, 0.3, 0.2, 0.3, 0.5, 0.4, 0.6]  # stopped after epoch 7: 3 epochs no lower
    assert history["lr"] == pytest.approx([1e-3] * 6 + [5e-4])
    assert [s for s in said if "Reducing learning rate" in s] == ["📉 Reducing learning rate: 1.00e-03 -> 5.00e-04"]
    assert said.count("✅ New best model saved!") == 4  # epochs 1, 2, 5 and 7
    assert "⏹️  Early stopping: val loss has not improved for 3 epochs" in said
    run = Path(tiny_cfg.out_dir) / "checkpoints"
    best, last = load_checkpoint(run / "best_model.pth"), load_checkpoint(run / "last.pth")
    assert (best["epoch"], best["best_seq_acc"]) == (7, 0.6)
    assert (last["epoch"], last["stale_epochs"], last["best_val_loss"]) == (7, 3, 0.99985)


def test_a_non_finite_batch_between_good_ones_is_skipped_and_the_epoch_loss_is_the_good_ones_mean(tiny_cfg):
    """Non-finite batches end the run only when max_bad_batches come in a row; the epoch's loss is the per-sample
    mean over the batches that stepped (a learning rate of 0 keeps each batch's loss what it was before)."""
    from contextlib import nullcontext

    from ocr.train import train_one_epoch

    torch.manual_seed(0)
    model = CRNN(tiny_cfg.model_config())

    def batch(n: int, text: str):
        return (torch.rand(n, 3, 64, 200), torch.tensor([int(c) for c in text] * n), torch.full((n,), len(text)),
                [text] * n)

    bad, a, b = batch(2, "0" * 60), batch(2, "1"), batch(5, "12")  # 60 characters cannot fit 50 frames: inf
    model.train()
    with torch.no_grad():
        loss_a, loss_b = (ctc_loss_fn(model(x[0]), x[1], x[2], 10).item() for x in (a, b))
    opt = torch.optim.Adam(model.parameters(), lr=0.0)
    scaler = torch.amp.GradScaler("cpu", enabled=False)
    cfg = dataclasses.replace(tiny_cfg, max_bad_batches=2)
    mean = train_one_epoch(model, [bad, a, bad, b, bad], opt, scaler, torch.device("cpu"), nullcontext(), cfg, 1)
    assert mean == pytest.approx((2 * loss_a + 5 * loss_b) / 7, rel=1e-5)
