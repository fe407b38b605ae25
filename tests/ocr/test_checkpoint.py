"""Checkpoints: written whole into folders made for them, read back as saved, and refused when they could run code."""
import os

import pytest
import torch

from common.errors import UserError
from ocr.checkpoint import PREPROCESS, load_checkpoint, model_from_checkpoint, save_checkpoint
from ocr.model import CRNN, ModelConfig


def test_a_checkpoint_is_written_into_new_folders_and_read_back_as_saved(tmp_path):
    torch.manual_seed(0)
    model = CRNN(ModelConfig(alphabet="AB1", width_mult=0.125, hidden=8))
    path = tmp_path / "run" / "checkpoints" / "m.pth"
    save_checkpoint(path, model, epoch=3, patterns=["LLD"])
    assert os.listdir(path.parent) == ["m.pth"]  # no .tmp left beside it
    ckpt = load_checkpoint(path)
    assert ckpt["epoch"] == 3 and ckpt["patterns"] == ["LLD"] and ckpt["preprocess"] == PREPROCESS
    again = model_from_checkpoint(ckpt)
    assert again.cfg == model.cfg and not again.training
    assert all(torch.equal(a, b) for a, b in zip(again.state_dict().values(), model.state_dict().values()))


class Evil:
    """Unpickled, it creates the file `path` (its own test's: a run that let it through leaves no file to the next)."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


@pytest.mark.parametrize("zipped, says", [
    (True, "it holds more than weights (loading it could run code: refused)"),
    (False, "corrupt, or a pickle holding more than weights (loading it could run code: refused)"),  # old-style
])
def test_a_checkpoint_that_could_run_code_is_refused(zipped, says, tmp_path):
    path = tmp_path / "evil.pth"
    torch.save({"model_state_dict": Evil(tmp_path / "pwned"), "model_config": {}}, path,
               _use_new_zipfile_serialization=zipped)
    with pytest.raises(UserError) as err:
        load_checkpoint(path)
    assert str(err.value) == f"cannot load checkpoint {path}: {says}"  # no advice to load it unsafely
    assert not (tmp_path / "pwned").exists()
