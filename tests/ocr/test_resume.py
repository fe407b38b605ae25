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
