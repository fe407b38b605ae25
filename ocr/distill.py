"""Keeping what a model reads while it is fine-tuned: a frozen teacher (usually the checkpoint the run started from)
whose per-frame outputs the model is held to on the samples the teacher reads right (learning without forgetting,
per CTC frame). Samples the teacher misreads are left to the CTC loss alone, so new skills are still learnt."""
from __future__ import annotations

import torch
from torch import nn

from common.errors import UserError
from ocr.checkpoint import load_checkpoint, model_from_checkpoint
from ocr.decode import greedy_decode
from ocr.model import CRNN, ModelConfig


def load_teacher(path: str, student: ModelConfig, device: torch.device) -> CRNN:
    """The frozen teacher, in eval mode on `device`; it must read the same alphabet from the same input size."""
    teacher = model_from_checkpoint(load_checkpoint(path))
    t = teacher.cfg
    if (t.alphabet, t.img_h, t.img_w) != (student.alphabet, student.img_h, student.img_w):
        raise UserError(f"distill_from {path}: its model reads {len(t.alphabet)} characters from {t.img_h}x{t.img_w} "
                        f"crops, the trained one {len(student.alphabet)} from {student.img_h}x{student.img_w}: "
                        "a teacher must read the same alphabet from the same input size")
    teacher.requires_grad_(False)
    return teacher.to(device).to(memory_format=torch.channels_last).eval()


def distill_loss(student: torch.Tensor, teacher: torch.Tensor, texts: list[str], lengths: torch.Tensor,
                 chars: str) -> torch.Tensor:
    """KL(teacher || student) summed over a sample's frames and divided by its label's length (the CTC loss's
    'mean' scale), averaged over the batch, counting only the samples whose label the teacher reads exactly."""
    reads = [greedy_decode(p, chars).text for p in teacher.float().softmax(2).cpu().numpy()]
    right = torch.tensor([r == t for r, t in zip(reads, texts)], device=student.device)
    kl = nn.functional.kl_div(student.float().log_softmax(2), teacher.float().log_softmax(2), log_target=True,
                              reduction="none").sum(dim=(1, 2))
    return (kl * right / lengths.to(student.device).clamp(min=1)).mean()
