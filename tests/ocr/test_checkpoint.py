"""Checkpoints: written whole into folders made for them, read back as saved, refused when they could run code, and
a full disk under one (or an export) said naming it."""
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


def full_disk(monkeypatch):
    """Files written as on a full disk: a few bytes go down, then the system says no (naming no file)."""
    import errno
    import pathlib

    def write_bytes(self, data):
        with open(self, "wb") as f:
            f.write(bytes(data)[:10])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_bytes", write_bytes)


def test_a_checkpoint_meeting_a_full_disk_is_an_error_naming_it_and_the_one_before_stays_whole(tmp_path,
                                                                                              monkeypatch):
    """torch.save onto a full disk says only "unexpected pos ..." (a RuntimeError): saved in memory first, the write
    that fails is an OSError naming the checkpoint; the part is removed and the earlier checkpoint kept."""
    import errno

    path = tmp_path / "last.pth"
    save_checkpoint(path, CRNN(ModelConfig(alphabet="AB1", width_mult=0.125, hidden=8)), epoch=3)
    full_disk(monkeypatch)
    with pytest.raises(OSError) as caught:
        save_checkpoint(path, CRNN(ModelConfig(alphabet="AB1", width_mult=0.125, hidden=8)), epoch=4)
    assert (caught.value.errno, caught.value.strerror, caught.value.filename) == (
        errno.ENOSPC, "No space left on device", str(path))
    assert os.listdir(tmp_path) == ["last.pth"] and load_checkpoint(path)["epoch"] == 3


@pytest.mark.parametrize("fmt, name", [("torchscript", "m.pt"), ("onnx", "m.onnx"), ("pth", "m.pth")])
def test_an_export_onto_a_full_disk_is_one_error_line_naming_it(fmt, name, tmp_path, monkeypatch, capsys):
    """TorchScript straight onto a full disk aborted the process (a C++ error from torch.jit.save)."""
    from ocr.export import main as export_main

    weights = tmp_path / "w.pth"
    save_checkpoint(weights, CRNN(ModelConfig(alphabet="AB1", width_mult=0.125, hidden=8)), epoch=1)
    full_disk(monkeypatch)
    if fmt == "onnx":  # onnx writes with its own open(): the disk fills at its write
        import onnx

        def full(proto, path):
            raise OSError(28, "No space left on device")

        monkeypatch.setattr(onnx, "save", full)
    assert export_main(["--weights", str(weights), "--format", fmt, "--out", str(tmp_path / name)]) == 2
    assert capsys.readouterr().err.strip().splitlines()[-1] == f"error: {tmp_path / name}: No space left on device"
    assert sorted(os.listdir(tmp_path)) == ["w.pth"]
