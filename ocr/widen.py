"""Net2Net widening: grow a narrower CRNN (e.g. the half-width variant) into a wider one that computes the
same function, so a seed-size model can start from a trained half-width one instead of from scratch.

Each new conv channel copies an old one (its filter and batch-norm); the layer that reads the copies splits
the old incoming weight between them in random fractions that sum to one (output unchanged, copies free to
diverge under training).
"""
from __future__ import annotations

from typing import cast

import numpy as np
import torch

from ocr.model import CRNN


def widen_into(src: CRNN, dst: CRNN, seed: int = 0) -> None:
    """Fill `dst` (same alphabet, image size and LSTM; conv widths >= `src`'s) so that it equals `src`."""
    s_conv, d_conv = _convs(src), _convs(dst)
    if len(s_conv) != len(d_conv) or any(d[0].out_channels < s[0].out_channels for s, d in zip(s_conv, d_conv)):
        raise ValueError("widening needs the same blocks with conv widths at least as large")
    rng = np.random.default_rng(seed)
    src_of = np.arange(3)  # input channels: RGB, not widened
    share = np.ones(3)
    with torch.no_grad():
        for (s, s_bn), (d, d_bn) in zip(s_conv, d_conv):
            out_src, out_share = _copies(s.out_channels, d.out_channels, rng)
            w = s.weight[out_src][:, src_of] * torch.as_tensor(share, dtype=s.weight.dtype)[None, :, None, None]
            d.weight.copy_(w)
            for name in ("weight", "bias", "running_mean", "running_var"):
                getattr(d_bn, name).copy_(getattr(s_bn, name)[out_src])
            if d_bn.num_batches_tracked is not None and s_bn.num_batches_tracked is not None:
                d_bn.num_batches_tracked.copy_(s_bn.num_batches_tracked)
            src_of, share = out_src, out_share
        # the LSTM reads the last map flattened as channel * rows + row
        rows = src.rnn.input_size // s_conv[-1][0].out_channels
        cols = (src_of[:, None] * rows + np.arange(rows)[None, :]).reshape(-1)
        scale = torch.as_tensor(np.repeat(share, rows), dtype=torch.float32)
        s_params = dict(src.rnn.named_parameters())
        for name, p in dst.rnn.named_parameters():
            if name.startswith("weight_ih_l0"):
                p.copy_(s_params[name][:, cols] * scale[None, :])
            else:
                p.copy_(s_params[name])
        dst.head.load_state_dict(src.head.state_dict())


def _convs(model: CRNN) -> list[tuple[torch.nn.Conv2d, torch.nn.BatchNorm2d]]:
    blocks = [cast(torch.nn.Sequential, block) for block in model.cnn]
    return [(cast(torch.nn.Conv2d, b[0]), cast(torch.nn.BatchNorm2d, b[1])) for b in blocks]


def _copies(n_old: int, n_new: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Which old channel each new one copies (every old one at least once), and each copy's share of it."""
    src = np.concatenate([np.arange(n_old), rng.integers(0, n_old, n_new - n_old)])
    share = np.empty(n_new)
    for j in range(n_old):
        idx = np.flatnonzero(src == j)
        share[idx] = rng.dirichlet(np.full(len(idx), 4.0)) if len(idx) > 1 else 1.0
    return src, share
