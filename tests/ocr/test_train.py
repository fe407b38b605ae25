import dataclasses
import json

import torch
from torch.utils.data import DataLoader

from ocr.alphabet import Codec
from ocr.checkpoint import load_checkpoint
from ocr.data import build_dataset, collate
from ocr.model import CRNN
from ocr.train import ctc_loss_fn, train


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


def test_checkpoint_every(tiny_cfg, tmp_path):
    train(dataclasses.replace(tiny_cfg, epochs=2, checkpoint_every=2))
    assert (tmp_path / "run" / "checkpoints" / "checkpoint_epoch_2.pth").is_file()
    assert not (tmp_path / "run" / "checkpoints" / "checkpoint_epoch_1.pth").exists()
