"""Test-time views: the views' shapes, the layout they keep, the CTC likelihood, and which read wins."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from ocr.decode import greedy_decode
from ocr.views import VIEWS, best_view, ctc_log_likelihood, pick, view, views_of


@pytest.mark.parametrize("ids", [[3, 3, 5], [1], [], [2, 4, 2, 2, 7], [0] * 6])
def test_ctc_log_likelihood_is_torchs_ctc_loss_negated(ids):
    rng = np.random.default_rng(len(ids))
    logits = rng.normal(size=(20, 11)) * 3
    probs = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    nll = torch.nn.functional.ctc_loss(torch.from_numpy(np.log(probs)).unsqueeze(1),
                                       torch.tensor([ids], dtype=torch.long).reshape(1, len(ids)),
                                       torch.tensor([20]), torch.tensor([len(ids)]), blank=10, reduction="sum")
    assert ctc_log_likelihood(probs, ids) == pytest.approx(-nll.item(), rel=1e-9, abs=1e-9)


def test_views_trim_and_pad_by_their_shares():
    crop = np.arange(50 * 100 * 3, dtype=np.uint8).reshape(50, 100, 3)
    assert [view(crop, dx, dy).shape[:2] for dx, dy in VIEWS] == [(50, 100), (50, 94), (50, 106), (44, 100), (56, 100)]
    wide = view(crop, 0.03, 0.0)
    np.testing.assert_array_equal(wide[:, :3], np.repeat(crop[:, :1], 3, axis=1))  # the border replicated
    np.testing.assert_array_equal(view(crop, -0.03, 0.0), crop[:, 3:97])
    assert view(np.zeros((5, 5, 3), np.uint8), -0.4, -0.4).shape == (5, 5, 3)  # too small to cut: left whole
    # a cut is made while it leaves 4 pixels or more: 8 - 2 x 2 = 4 is cut, 7 - 2 x 2 = 3 is not
    assert view(np.zeros((8, 8, 3), np.uint8), -0.25, 0.0).shape == (8, 4, 3)
    assert view(np.zeros((8, 8, 3), np.uint8), 0.0, -0.25).shape == (4, 8, 3)
    assert view(np.zeros((7, 7, 3), np.uint8), -0.25, -0.25).shape == (7, 7, 3)


def test_views_that_would_change_the_layout_are_left_out():
    crop = np.zeros((64, 100, 3), np.uint8)  # 1.56 x as wide as high: one row where two rows start below 1.5
    assert [v.shape[:2] for v in views_of(crop, 1.5)] == [(64, 100), (64, 106), (56, 100)]
    assert len(views_of(crop, 0.0)) == len(VIEWS)


def test_pick_keeps_the_likeliest_read_over_all_views_not_the_majority(posterior):
    # two views read B barely (0.5 against A's 0.4); one reads A surely, and gives B 0.05: A is likelier overall
    probs = np.stack([posterior([(0.9, 0.05)]), posterior([(0.4, 0.5)]), posterior([(0.4, 0.5)])])
    reads = [greedy_decode(p, "AB") for p in probs]
    assert [r.text for r in reads] == ["A", "B", "B"]
    assert pick(probs, [r.text for r in reads], [r.confidence for r in reads], "AB") == 0
    # the plain view reads A at 0.5 and gives B 0.4; the others read B: B wins, from its surest view
    probs = np.stack([posterior([(0.5, 0.4)]), posterior([(0.1, 0.8)]), posterior([(0.3, 0.6)])])
    reads = [greedy_decode(p, "AB") for p in probs]
    assert pick(probs, [r.text for r in reads], [r.confidence for r in reads], "AB") == 1
    assert pick(probs[:1], ["A"], [0.5], "AB") == 0  # one view: its own read


def test_best_view_returns_the_kept_views_read_and_posterior_and_decodes_a_single_view(width_recognizer):
    rec = width_recognizer()
    crop = np.zeros((40, 100, 3), np.uint8)
    read, probs = best_view(rec, rec.probs(views_of(crop)))
    assert read.text == "B" and read.confidence == pytest.approx(0.9)
    assert rec.seen == [(40, 100), (40, 94), (40, 106), (36, 100), (44, 100)]
    assert probs[0, 1] == pytest.approx(0.9)
    read, probs = best_view(rec, rec.probs([crop]))
    assert read.text == "A" and probs[0, 0] == pytest.approx(0.5)
