"""Pure voting over a track's readings: whole strings by confidence weight, then per position for the
winning length, with plate-format patterns as a prior."""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from ocr.decode import matches
from pipeline.types import Candidate, Reading

MIN_WEIGHT = 0.05  # a read with ~0 confidence still counts a little


@dataclass(frozen=True)
class Vote:
    """A track's vote: the winning text, its confidences and the runners-up."""
    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    alternatives: tuple[Candidate, ...]  # top whole-string candidates, best first
    share: float  # weight share of the winning whole string


def weight(r: Reading, patterns: tuple[str, ...], off_pattern: float) -> float:
    """A read's vote weight: its confidence (floored), less when it fits none of the `patterns`."""
    w = max(r.confidence, MIN_WEIGHT)
    if patterns and not any(matches(r.text, p) for p in patterns):
        w *= off_pattern
    return w


def vote(readings: list[Reading], patterns: tuple[str, ...] = (), off_pattern: float = 0.3, top: int = 3,
         width_power: float = 0.0) -> Vote:
    """Fuse readings (empty texts ignored). Ties between strings go to the one with the single most confident
    read, then to the one read first. With `width_power`, each read's weight is also scaled by its plate's width
    over the widest read's, to that power: the nearer views of a plate count more."""
    reads = [r for r in readings if r.text]
    if not reads:
        return Vote("", 0.0, (), (), 0.0)
    widest = max(r.box[2] - r.box[0] for r in reads)
    ws = {id(r): weight(r, patterns, off_pattern) * (
        max(r.box[2] - r.box[0], 1e-6) / max(widest, 1e-6)) ** width_power for r in reads}
    votes: dict[str, float] = defaultdict(float)
    count: dict[str, int] = defaultdict(int)
    best: dict[str, float] = defaultdict(float)
    first: dict[str, int] = {}
    for i, r in enumerate(reads):
        w = ws[id(r)]
        votes[r.text] += w
        count[r.text] += 1
        best[r.text] = max(best[r.text], r.confidence)
        first.setdefault(r.text, i)
    ranked = sorted(votes, key=lambda t: (-round(votes[t], 9), -best[t], first[t]))
    total = sum(votes.values())
    length = len(ranked[0])
    same = [r for r in reads if len(r.text) == length]
    chars, confs = [], []
    for p in range(length):  # positional vote among equal-length reads
        score: dict[str, float] = defaultdict(float)
        sure: dict[str, float] = defaultdict(float)  # the surest single read of each character here
        for r in same:
            cc = r.char_confidences[p] if p < len(r.char_confidences) else r.confidence
            score[r.text[p]] += ws[id(r)] * max(cc, MIN_WEIGHT)
            sure[r.text[p]] = max(sure[r.text[p]], cc)
        # highest score; a tie keeps the whole-string winner's character, then the lowest character
        ch = max(score, key=lambda c: (round(score[c], 9), c == ranked[0][p], -ord(c)))
        chars.append(ch)
        confs.append(score[ch] / sum(score.values()) * sure[ch])  # agreement x certainty
    text = "".join(chars)
    length_share = sum(ws[id(r)] for r in same) / total
    conf = length_share  # one read alone keeps its own confidence; agreeing unsure reads stay unsure
    for c in confs:
        conf *= c
    alts = tuple(Candidate(t, round(votes[t], 4), count[t]) for t in ranked[:top])
    return Vote(text, conf, tuple(confs), alts, votes[ranked[0]] / total)
