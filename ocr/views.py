"""Test-time views: a crop read as it is and trimmed or padded a little, the reads fused by their CTC likelihood.

A detector's box is a few pixels off either way, and a far plate's read can turn on those pixels. Each view is read;
every view's read is a candidate, scored by the sum over the views of its CTC log-likelihood there (the probability
of the string under all alignments: a view shifted by a pixel scores the same string alike), and the best wins. The
winner is returned as the view that read it most surely, so its confidence and posterior are that view's own.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from ocr.process import plate_rows

if TYPE_CHECKING:
    from ocr.recognizer import PlateRead


class Decoder(Protocol):
    """What `best_view` needs of a recognizer (`ocr.Recognizer`, or any injected one): its config, for the alphabet,
    and its CTC decoding of one posterior."""

    cfg: Any

    def decode(self, probs: np.ndarray) -> PlateRead: ...

# (share of the width added on each side, share of the height added top and bottom); negative trims.
VIEWS: tuple[tuple[float, float], ...] = ((0.0, 0.0), (-0.03, 0.0), (0.03, 0.0), (0.0, -0.06), (0.0, 0.06))


def view(crop: np.ndarray, dx: float, dy: float) -> np.ndarray:
    """`crop` with `dx` of its width added on each side (> 0, border replicated) or cut (< 0), and `dy` of its height
    likewise at top and bottom. A cut that would leave under 4 pixels is not made."""
    h, w = crop.shape[:2]
    px, py = int(round(abs(dx) * w)), int(round(abs(dy) * h))
    if dx < 0 and w - 2 * px >= 4:
        crop = crop[:, px:w - px]
    if dy < 0 and h - 2 * py >= 4:
        crop = crop[py:h - py]
    ax, ay = (px if dx > 0 else 0), (py if dy > 0 else 0)
    if ax or ay:
        crop = np.ascontiguousarray(np.pad(crop, ((ay, ay), (ax, ax)) + ((0, 0),) * (crop.ndim - 2), mode="edge"))
    return crop


def views_of(crop: np.ndarray, two_row_aspect: float = 0.0,
             views: tuple[tuple[float, float], ...] = VIEWS) -> list[np.ndarray]:
    """The views of `crop` read in its own layout: a view that would turn a one-row crop into a two-row one (or back)
    by its new shape is left out. The first view is the crop as it is when `views` starts with (0, 0)."""
    rows = plate_rows(crop.shape[0], crop.shape[1], two_row_aspect)
    out = [view(crop, dx, dy) for dx, dy in views]
    return [v for v in out if plate_rows(v.shape[0], v.shape[1], two_row_aspect) == rows] or [crop]


def ctc_log_likelihood(probs: np.ndarray, ids: list[int]) -> float:
    """log p(label `ids` | T x C posterior), summed over every CTC alignment; the blank is the last class."""
    T, C = probs.shape
    blank = C - 1
    if not ids:
        return float(np.log(np.clip(probs[:, blank], 1e-30, 1.0)).sum())
    ext = np.full(2 * len(ids) + 1, blank)
    ext[1::2] = ids
    S = len(ext)
    lp = np.log(np.clip(probs, 1e-30, 1.0))[:, ext]  # T x S
    skip = np.zeros(S, bool)  # s may be reached from s - 2: a label that differs from the label before it
    skip[3::2] = ext[3::2] != ext[1:-2:2]
    a = np.full(S, -np.inf)
    a[:2] = lp[0, :2]
    for t in range(1, T):
        prev1 = np.concatenate(([-np.inf], a[:-1]))
        prev2 = np.where(skip, np.concatenate(([-np.inf, -np.inf], a[:-2])), -np.inf)
        a = np.logaddexp(np.logaddexp(a, prev1), prev2) + lp[t]
    return float(np.logaddexp(a[-1], a[-2]))


def log_likelihoods(probs: np.ndarray, texts: list[str], chars: str) -> np.ndarray:
    """V x K: the CTC log-likelihood of each of `texts` (characters of `chars`) under each view's T x C posterior."""
    index = {c: i for i, c in enumerate(chars)}
    return np.array([[ctc_log_likelihood(p, [index[c] for c in t]) for t in texts] for p in probs])


def pick(probs: np.ndarray, texts: list[str], confidences: list[float], chars: str) -> int:
    """Which of V views (posteriors V x T x C, their reads `texts`) to keep: the read whose summed log-likelihood over
    every view is highest, and of the views that read it the surest one."""
    if len(texts) == 1:
        return 0
    cands = sorted(set(texts))
    best = cands[int(log_likelihoods(probs, cands, chars).sum(axis=0).argmax())]
    return max((i for i, t in enumerate(texts) if t == best), key=lambda i: confidences[i])


def best_view(recognizer: Decoder, probs: np.ndarray) -> tuple["PlateRead", np.ndarray]:
    """One crop's views as the recognizer read them (posteriors V x T x C, in the order of `views_of`): the kept
    view's read and posterior (`pick`); a single view is simply decoded."""
    if len(probs) == 1:
        return recognizer.decode(probs[0]), probs[0]
    reads = [recognizer.decode(p) for p in probs]
    i = pick(probs, [r.text for r in reads], [r.confidence for r in reads], recognizer.cfg.alphabet)
    return reads[i], probs[i]
