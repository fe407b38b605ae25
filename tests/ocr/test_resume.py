"""Carrying on a stopped run: only a run's own last.pth, which keeps its config and history, can be resumed (the runs
themselves are resumed in test_train.py)."""
import pytest
import torch

from common.errors import UserError
from ocr.checkpoint import save_checkpoint
from ocr.model import CRNN, ModelConfig
from ocr.resume import resume_config


@pytest.mark.parametrize("kept", [{}, {"config": {"epochs": 3}}, {"history": {"train_loss": [1.0]}}])
def test_a_checkpoint_without_its_runs_config_and_history_is_not_resumed(kept, tmp_path):
    torch.manual_seed(0)
    path = tmp_path / "best_model.pth"
    save_checkpoint(path, CRNN(ModelConfig(width_mult=0.125, hidden=8)), epoch=1, **kept)
    with pytest.raises(UserError, match=f"^{path} is not a run's checkpoints/last.pth \\(no config or history\\): "
                                        "resume needs last.pth$"):
        resume_config([f"resume={path}"])
    assert resume_config(["epochs=3"]) is None  # no resume=: the config given is used


def test_a_stopped_run_says_the_epoch_saved_or_that_nothing_was(tmp_path):
    from ocr.resume import interrupted

    nothing = "interrupted before a first epoch ended: nothing saved; run the same command again"
    assert interrupted(None) == nothing  # stopped before its config was read
    assert interrupted(tmp_path) == nothing  # before its first checkpoint
    last = tmp_path / "checkpoints" / "last.pth"
    save_checkpoint(last, CRNN(ModelConfig(width_mult=0.125, hidden=8)), epoch=4)
    assert interrupted(tmp_path) == f"interrupted: epoch 4 is saved; resume with resume={last}"
    last.write_bytes(b"damaged")  # the resume will say what is wrong with it
    assert interrupted(tmp_path) == f"interrupted: resume with resume={last}"


def test_a_resumed_run_goes_on_where_its_checkpoint_lies_unless_told_where(tmp_path):
    from common.config import config_to_dict
    from ocr.config import OCRConfig

    def run_at(path):
        save_checkpoint(path, CRNN(ModelConfig(width_mult=0.125, hidden=8)), epoch=1, history={"train_loss": [1.0]},
                        config=config_to_dict(OCRConfig(out_dir="runs/where_it_began", epochs=5)))
        return path

    moved = run_at(tmp_path / "copied" / "checkpoints" / "last.pth")
    cfg = resume_config([f"resume={moved}", "epochs=9"])
    assert (cfg.out_dir, cfg.epochs, cfg.resume) == (str(tmp_path / "copied"), 9, str(moved))
    assert resume_config([f"resume={moved}", "out_dir=elsewhere"]).out_dir == "elsewhere"
    loose = run_at(tmp_path / "last.pth")  # not in a run's checkpoints/ folder: the run's own out_dir
    assert resume_config([f"resume={loose}"]).out_dir == "runs/where_it_began"


@pytest.mark.parametrize("saved", [False, True])
def test_a_run_that_meets_a_full_disk_says_what_is_saved_in_one_line(saved, tmp_path, monkeypatch, capsys):
    import errno

    import ocr.train

    last = tmp_path / "checkpoints" / "last.pth"
    if saved:
        save_checkpoint(last, CRNN(ModelConfig(width_mult=0.125, hidden=8)), epoch=2)

    def full(cfg):
        raise OSError(errno.ENOSPC, "No space left on device", str(last))

    monkeypatch.setattr(ocr.train, "train", full)
    assert ocr.train.main(["--config", "configs/ocr_digits.yaml", f"out_dir={tmp_path}"]) == 2
    then = (f"interrupted: epoch 2 is saved; resume with resume={last}" if saved else
            "interrupted before a first epoch ended: nothing saved; run the same command again")
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {last}: No space left on device; {then}"]


def test_a_run_that_cannot_write_its_folder_keeps_the_ordinary_error_line(tmp_path, monkeypatch, capsys):
    import errno

    import ocr.train

    def refused(cfg):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "checkpoints"))

    monkeypatch.setattr(ocr.train, "train", refused)
    assert ocr.train.main(["--config", "configs/ocr_digits.yaml", f"out_dir={tmp_path}"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [f"error: {tmp_path / 'checkpoints'}: Permission denied"]
