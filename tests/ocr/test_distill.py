import dataclasses

import pytest
import torch

from common.errors import UserError
from ocr.decode import greedy_decode, softmax
from ocr.distill import distill_loss, load_teacher
from ocr.train import train

CHARS = "0123456789"


def spelling(text: str, frames: int = 12, strength: float = 8.0) -> torch.Tensor:
    """Logits (1 x frames x 11) whose greedy read is `text`: each character on two frames, blanks between."""
    logits = torch.zeros(1, frames, len(CHARS) + 1)
    logits[0, :, -1] = strength
    for i, ch in enumerate(text):
        logits[0, 3 * i:3 * i + 2, -1] = 0
        logits[0, 3 * i:3 * i + 2, CHARS.index(ch)] = strength
    return logits


def test_a_student_held_to_a_teacher_that_reads_right_learns_its_read():
    teacher = spelling("3141")
    student = torch.zeros_like(teacher, requires_grad=True)
    opt = torch.optim.SGD([student], lr=1.0)
    first = None
    for _ in range(60):
        loss = distill_loss(student, teacher, ["3141"], torch.tensor([4]), CHARS)
        first = loss.item() if first is None else first
        opt.zero_grad()
        loss.backward()
        opt.step()
    assert loss.item() < 0.1 * first
    assert greedy_decode(softmax(student.detach().numpy()[0]), CHARS).text == "3141"


def test_samples_the_teacher_misreads_are_left_out():
    teacher = torch.cat([spelling("3141"), spelling("2718")])
    student = torch.zeros_like(teacher, requires_grad=True)
    both = distill_loss(student, teacher, ["3141", "2718"], torch.tensor([4, 4]), CHARS)
    one = distill_loss(student, teacher, ["3141", "2719"], torch.tensor([4, 4]), CHARS)  # the second misread
    assert one.item() == pytest.approx(both.item() / 2)
    one.backward()
    assert student.grad[1].abs().max() == 0 and student.grad[0].abs().max() > 0
    assert distill_loss(teacher, teacher, ["3141", "2718"], torch.tensor([4, 4]), CHARS).item() == pytest.approx(0)


def test_the_loss_is_per_character_of_the_label_as_ctc_s_mean():
    teacher, student = spelling("3"), torch.zeros(1, 12, len(CHARS) + 1)
    per_char = distill_loss(student, teacher, ["3"], torch.tensor([1]), CHARS).item()
    assert per_char > 0
    assert distill_loss(student, teacher, ["3"], torch.tensor([4]), CHARS).item() == pytest.approx(per_char / 4)
    assert distill_loss(student, teacher, ["3"], torch.tensor([0]), CHARS).item() == pytest.approx(per_char)  # >= 1


def test_a_teacher_of_another_alphabet_is_refused(tiny_cfg, tiny_ckpt):
    with pytest.raises(UserError, match=r"distill_from .*tiny.pth: its model reads 36 characters .* the trained one 10"):
        load_teacher(str(tiny_ckpt), tiny_cfg.model_config(), torch.device("cpu"))


def test_the_teacher_is_frozen_in_eval_mode(tiny_ckpt):
    from ocr.checkpoint import load_checkpoint, model_from_checkpoint

    student = model_from_checkpoint(load_checkpoint(tiny_ckpt)).cfg
    teacher = load_teacher(str(tiny_ckpt), student, torch.device("cpu"))
    assert not teacher.training and not any(p.requires_grad for p in teacher.parameters())


def test_a_fine_tune_with_a_teacher_runs_and_resumes(tiny_cfg, tmp_path):
    train(tiny_cfg)
    first = tiny_cfg.out_dir + "/checkpoints/best_model.pth"
    cfg = dataclasses.replace(tiny_cfg, init_from=first, distill_from=first, distill_weight=2.0,
                              out_dir=str(tmp_path / "ft"))
    assert len(train(cfg)["train_loss"]) == 1
    history = train(dataclasses.replace(cfg, epochs=2, resume=str(tmp_path / "ft/checkpoints/last.pth")))
    assert len(history["train_loss"]) == 2
