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


@pytest.mark.parametrize("free, told", [(0, True), (10 << 20, False)])
def test_a_checkpoint_meeting_a_full_disk_is_an_error_naming_it_and_leaves_no_part(free, told, tmp_path, monkeypatch):
    """torch.save says a full disk only as an "unexpected pos" RuntimeError: with the disk full (almost nothing
    free) it is an OSError naming the checkpoint; with room left it is a fault of ours and keeps its traceback."""
    import collections
    import errno

    import ocr.checkpoint

    def full_save(state, path):
        path.write_bytes(b"PK\x03\x04 part of a zip")
        raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos 576 vs 534")

    usage = collections.namedtuple("usage", "total used free")
    monkeypatch.setattr(ocr.checkpoint.torch, "save", full_save)
    monkeypatch.setattr(ocr.checkpoint.shutil, "disk_usage", lambda p: usage(1 << 30, (1 << 30) - free, free))
    path = tmp_path / "last.pth"
    with pytest.raises(OSError if told else RuntimeError) as caught:
        save_checkpoint(path, CRNN(ModelConfig(alphabet="AB1", width_mult=0.125, hidden=8)), epoch=3)
    if told:
        assert (caught.value.errno, caught.value.strerror, caught.value.filename) == (
            errno.ENOSPC, "No space left on device", str(path))
    assert os.listdir(tmp_path) == []  # the part written is taken back: its space is free again
