import dataclasses

import pytest
import torch

from ocr.checkpoint import save_checkpoint
from ocr.model import CRNN, ModelConfig
from ocr.widen import widen_into

LATIN = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _trained_looking(width: float) -> CRNN:
    """A small CRNN with non-trivial batch-norm statistics, as a trained one has."""
    torch.manual_seed(0)
    model = CRNN(ModelConfig(alphabet=LATIN, width_mult=width, hidden=16))
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.uniform_(-0.5, 0.5)
            m.running_var.uniform_(0.5, 2.0)
            m.weight.data.uniform_(0.5, 1.5)
            m.bias.data.uniform_(-0.2, 0.2)
            m.num_batches_tracked.fill_(1234)
    return model.eval()


@pytest.mark.parametrize("wider", [0.25, 0.2, 0.125])  # twice as wide, an uneven growth, and as wide (a copy)
def test_widened_model_computes_the_same_function(wider):
    src = _trained_looking(0.125)
    dst = CRNN(dataclasses.replace(src.cfg, width_mult=wider)).eval()
    widen_into(src, dst)
    assert dst.cnn[-1][0].out_channels >= src.cnn[-1][0].out_channels
    assert all(b[1].num_batches_tracked.item() == 1234 for b in dst.cnn)  # the BN's count goes with its statistics
    x = torch.randn(3, 3, 64, 200)
    with torch.no_grad():
        assert torch.allclose(src(x), dst(x), atol=1e-4)


def test_copies_of_a_channel_diverge_under_training():
    src = _trained_looking(0.125)
    dst = CRNN(dataclasses.replace(src.cfg, width_mult=0.25)).train()
    widen_into(src, dst)
    dst(torch.randn(2, 3, 64, 200)).logsumexp(-1).sum().backward()
    w, g = dst.cnn[0][0].weight, dst.cnn[0][0].weight.grad
    twin = next(k for k in range(8) if torch.equal(w[k], w[8]))  # channels 8.. copy old ones (0..7)
    assert not torch.allclose(g[twin], g[8])


def test_narrower_model_is_refused():
    with pytest.raises(ValueError, match="at least as large"):
        widen_into(_trained_looking(0.25), _trained_looking(0.125))


def test_init_from_a_narrower_checkpoint_widens_it(tiny_cfg, tmp_path):
    from ocr.train import build_model

    src = _trained_looking(0.125)
    path = tmp_path / "narrow.pth"
    save_checkpoint(path, src, epoch=1, best_seq_acc=0.0, patterns=[])
    cfg = dataclasses.replace(tiny_cfg, alphabet="latin", width_mult=0.25, init_from=str(path))
    model = build_model(cfg).eval()
    assert model.cnn[0][0].out_channels == 16
    x = torch.randn(2, 3, 64, 200)
    with torch.no_grad():
        assert torch.allclose(src(x), model(x), atol=1e-4)
