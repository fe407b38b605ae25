"""The CRNN: 6 conv blocks (64->128->256->512) to a 4x50 map, 2-layer BiLSTM, linear head, CTC."""
from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to rebuild the network; stored inside every checkpoint."""

    alphabet: str = "0123456789"  # literal characters; the CTC blank is appended as the last class
    img_h: int = 64
    img_w: int = 200
    width_mult: float = 1.0  # conv widths x this (0.5 = the fast half-width variant)
    hidden: int = 256  # LSTM hidden size per direction
    lstm_layers: int = 2
    dropout: float = 0.1  # between LSTM layers and before the head
    two_row_aspect: float = 0.0  # input layout: crops narrower than this x their height are read as two rows

    @property
    def num_classes(self) -> int:
        return len(self.alphabet) + 1


# (out_channels, pool kernel) for the six blocks: 64x200 -> 32x100 -> 16x50 -> 16x50 -> 8x50 -> 8x50 -> 4x50
_BLOCKS = ((64, (2, 2)), (128, (2, 2)), (256, None), (256, (2, 1)), (512, None), (512, (2, 1)))


def _block(c_in: int, c_out: int, pool: tuple[int, int] | None) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                               nn.ReLU(inplace=True)]
    if pool is not None:
        layers.append(nn.MaxPool2d(pool, pool))
    return nn.Sequential(*layers)


class CRNN(nn.Module):
    """Input B x 3 x 64 x 200 (normalised to [-1, 1]); output logits B x 50 x num_classes."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        blocks, c_in = [], 3
        for c_out, pool in _BLOCKS:
            c = max(8, int(round(c_out * cfg.width_mult)))
            blocks.append(_block(c_in, c, pool))
            c_in = c
        self.cnn = nn.Sequential(*blocks)
        with torch.no_grad():  # derive the LSTM input size from a dummy pass
            _, c, h, _ = self.cnn(torch.zeros(1, 3, cfg.img_h, cfg.img_w)).shape
        self.rnn = nn.LSTM(c * h, cfg.hidden, num_layers=cfg.lstm_layers, bidirectional=True,
                           batch_first=True, dropout=cfg.dropout if cfg.lstm_layers > 1 else 0.0)
        self.drop = nn.Dropout(cfg.dropout)
        self.head = nn.Linear(2 * cfg.hidden, cfg.num_classes)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The conv map as the LSTM's input sequence: B x W x C*H, one step per column (W = 50)."""
        f = self.cnn(x)  # B x C x H x W
        b, c, h, w = f.shape
        return f.permute(0, 3, 1, 2).reshape(b, w, c * h)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        seq, _ = self.rnn(self.features(x))  # B x W x 2*hidden
        return self.head(self.drop(seq))  # B x W x num_classes


def count_parameters(model: nn.Module, trainable: bool = False) -> int:
    """All of the model's parameters, or with `trainable` only those that learn (not frozen)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable)
