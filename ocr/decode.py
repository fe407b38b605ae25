"""CTC decoding: greedy and pattern-constrained prefix beam search, with per-character confidences.

A read's per-character confidence is the highest probability the character reached over the frames it was
emitted on; its sequence confidence is the product of those (0 for an empty read).
Patterns use `D` for a digit, `L` for a letter, `*` for any character; other characters match themselves.
"""
from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from common.errors import UserError


@dataclass(frozen=True)
class Decoded:
    """A decoded read: its text, sequence confidence and one confidence per character."""
    text: str
    confidence: float
    char_confidences: tuple[float, ...]


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis, numerically stable."""
    z = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


def greedy_decode(probs: np.ndarray, chars: str) -> Decoded:
    """Best class per frame, repeats merged, blanks (last class) removed. probs: T x C."""
    blank = probs.shape[1] - 1
    best = probs.argmax(axis=1)
    text, confs, t = [], [], 0
    for cls, run in itertools.groupby(best.tolist()):
        n = len(list(run))
        if cls != blank:
            text.append(chars[cls])
            confs.append(float(probs[t:t + n, cls].max()))
        t += n
    return Decoded("".join(text), float(np.prod(confs)) if confs else 0.0, tuple(confs))


def _char_ok(ch: str, token: str) -> bool:
    if token == "*":
        return True
    if token == "D":
        return ch.isdigit()
    if token == "L":
        return ch.isalpha()
    return ch == token


def check_patterns(patterns: tuple[str, ...], chars: str) -> None:
    """Raise a one-line error for a pattern no read could fit: each token is D (digit), L (letter), * (any) or a
    character of the alphabet (a lower-case `lllddd` would silently fall back to unconstrained reads), and a D or
    an L needs the alphabet to hold a digit or a letter (a letters' pattern with the digits model)."""
    for p in patterns:
        bad = sorted({t for t in p if t not in "DL*" and t not in chars})
        if not p:
            raise UserError("plate pattern '' is empty")
        if bad:
            raise UserError(f"plate pattern {p!r} has {', '.join(map(repr, bad))}: a pattern is made of D (digit), "
                            f"L (letter), * (any) and the alphabet's characters")
        for token, kind in (("L", "letters"), ("D", "digits")):
            if token in p and not any(_char_ok(c, token) for c in chars):
                raise UserError(f"plate pattern {p!r} asks for {kind} ({token}), and the OCR model's alphabet "
                                f"{chars!r} has none: no read could fit it (a model of another alphabet, or "
                                f"another pattern)")


def matches(text: str, pattern: str) -> bool:
    """Whether `text` fits `pattern` exactly."""
    return len(text) == len(pattern) and all(_char_ok(c, p) for c, p in zip(text, pattern))


def _prefix_ok(text: str, patterns: tuple[str, ...]) -> bool:
    return any(len(text) <= len(p) and all(_char_ok(c, t) for c, t in zip(text, p)) for p in patterns)


def _logsumexp(a: float, b: float) -> float:
    if a == -math.inf:
        return b
    if b == -math.inf:
        return a
    m = max(a, b)
    return m + math.log(math.exp(a - m) + math.exp(b - m))


def beam_decode(probs: np.ndarray, chars: str, patterns: tuple[str, ...] = (), beam_width: int = 10,
                prune: float = 1e-3) -> Decoded:
    """CTC prefix beam search; with `patterns`, only prefixes of some pattern survive and the result
    fully matches one when any beam does (otherwise the greedy read is returned)."""
    T, C = probs.shape
    blank = C - 1
    logp = np.log(np.clip(probs, 1e-12, 1.0))
    # beam: prefix(tuple of ids) -> (log p ending in blank, log p ending in non-blank)
    beams: dict[tuple[int, ...], tuple[float, float]] = {(): (0.0, -math.inf)}
    for t in range(T):
        candidates = [c for c in range(C - 1) if probs[t, c] >= prune]
        nxt: dict[tuple[int, ...], list[float]] = {}

        def add(prefix: tuple[int, ...], pb: float, pnb: float) -> None:
            cur = nxt.setdefault(prefix, [-math.inf, -math.inf])
            cur[0], cur[1] = _logsumexp(cur[0], pb), _logsumexp(cur[1], pnb)

        for prefix, (pb, pnb) in beams.items():
            total = _logsumexp(pb, pnb)
            add(prefix, total + logp[t, blank], -math.inf)
            if prefix:
                add(prefix, -math.inf, pnb + logp[t, prefix[-1]])  # repeat collapses
            for c in candidates:
                new = prefix + (c,)
                if patterns and not _prefix_ok("".join(chars[i] for i in new), patterns):
                    continue
                p_in = pb if prefix and c == prefix[-1] else total
                add(new, -math.inf, p_in + logp[t, c])
        ranked = sorted(nxt.items(), key=lambda kv: _logsumexp(*kv[1]), reverse=True)
        beams = {k: (v[0], v[1]) for k, v in ranked[:beam_width]}
    finals = sorted(beams.items(), key=lambda kv: _logsumexp(*kv[1]), reverse=True)
    if patterns:
        finals = [kv for kv in finals if any(matches("".join(chars[i] for i in kv[0]), p) for p in patterns)]
        if not finals:
            return greedy_decode(probs, chars)
    ids = list(finals[0][0])
    return Decoded("".join(chars[i] for i in ids), *_align_confidences(probs, ids))


def _align_confidences(probs: np.ndarray, ids: list[int]) -> tuple[float, tuple[float, ...]]:
    """Per-character confidence for a chosen label: best frame probability inside its Viterbi segment."""
    if not ids:
        return 0.0, ()
    T, C = probs.shape
    blank = C - 1
    ext = [blank]
    for i in ids:
        ext += [i, blank]
    S = len(ext)
    lp = np.log(np.clip(probs, 1e-12, 1.0))
    score = np.full((T, S), -np.inf)
    back = np.zeros((T, S), dtype=np.int64)
    score[0, 0] = lp[0, ext[0]]
    if S > 1:
        score[0, 1] = lp[0, ext[1]]
    for t in range(1, T):
        for s in range(S):
            opts = [(score[t - 1, s], s)]
            if s >= 1:
                opts.append((score[t - 1, s - 1], s - 1))
            if s >= 2 and ext[s] != blank and ext[s] != ext[s - 2]:
                opts.append((score[t - 1, s - 2], s - 2))
            best, arg = max(opts)
            score[t, s], back[t, s] = best + lp[t, ext[s]], arg
    s = S - 1 if S == 1 or score[T - 1, S - 1] >= score[T - 1, S - 2] else S - 2
    confs = [0.0] * len(ids)
    for t in range(T - 1, -1, -1):
        if s % 2 == 1:
            k = s // 2
            confs[k] = max(confs[k], float(probs[t, ext[s]]))
        s = back[t, s] if t > 0 else s
    return float(np.prod(confs)), tuple(confs)
