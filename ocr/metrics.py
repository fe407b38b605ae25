"""Recognition metrics: edit distance, character and sequence accuracy, confusions."""
from __future__ import annotations

import math
from collections import Counter

from ocr.process import fold_o0


def edit_distance(a: str, b: str) -> int:
    """Levenshtein distance between two strings."""
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]


def edit_budget(a: str, b: str, max_edits: int) -> int:
    """The edits two texts may differ by and still be one plate misread, not two plates: `max_edits`, and at most
    a third of the shorter one's characters."""
    return min(max_edits, min(len(a), len(b)) // 3)


def near_text(a: str, b: str, max_edits: int) -> bool:
    """Whether two different texts are within `edit_budget` edits of each other."""
    return a != b and edit_distance(a, b) <= edit_budget(a, b, max_edits)


def _runs(n: int, k: int) -> list[tuple[int, int]]:
    """(start, end) of `k` + 1 contiguous runs that together cover a text of `n` characters."""
    cuts = [round(i * n / (k + 1)) for i in range(k + 2)]
    return list(zip(cuts, cuts[1:]))


class EditIndex:
    """`candidates(text)`: the positions in `texts` of every text within `k` edits of `text` (and some farther), without
    comparing it with each (a hotlist of 100,000 plates). A text split into k + 1 runs keeps one of them whole in any
    text k edits away, shifted by at most k characters, so the runs are indexed and a text looks up its windows."""

    def __init__(self, texts: list[str], k: int) -> None:
        self.k = k
        self._runs: dict[tuple[int, int, str], list[int]] = {}
        for n, t in enumerate(texts):
            for i, (a, b) in enumerate(_runs(len(t), k)):
                self._runs.setdefault((len(t), i, t[a:b]), []).append(n)

    def candidates(self, text: str) -> list[int]:
        """In the order of `texts`: what `edit_distance` is then to be measured for."""
        found: set[int] = set()
        k = self.k
        for size in range(max(0, len(text) - k), len(text) + k + 1):
            for i, (a, b) in enumerate(_runs(size, k)):
                for at in range(max(0, a - k), min(a + k, len(text) - (b - a)) + 1):
                    found.update(self._runs.get((size, i, text[at:at + b - a]), ()))
        return sorted(found)


def char_accuracy(gt: str, pred: str) -> float:
    """1 - normalised edit distance, floored at 0."""
    if not gt and not pred:
        return 1.0
    return max(0.0, 1.0 - edit_distance(gt, pred) / max(len(gt), len(pred)))


def summarize(gts: list[str], preds: list[str]) -> dict[str, float]:
    """`n`, sequence accuracy, O/0-folded sequence accuracy and character accuracy (fractions)."""
    n = len(gts)
    if n == 0:
        return {"n": 0, "seq_acc": 0.0, "seq_acc_o0": 0.0, "char_acc": 0.0}
    return {"n": n,
            "seq_acc": sum(g == p for g, p in zip(gts, preds)) / n,
            "seq_acc_o0": sum(fold_o0(g) == fold_o0(p) for g, p in zip(gts, preds)) / n,
            "char_acc": sum(char_accuracy(g, p) for g, p in zip(gts, preds)) / n}


def wilson_interval(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """The Wilson score interval of a share k / n (95 % with z = 1.96): where the accuracy on plates like the test
    set's may lie, given only n of them. (0, 1) when n is 0."""
    if n == 0:
        return 0.0, 1.0
    p, zz = k / n, z * z / n
    mid, half = (p + zz / 2) / (1 + zz), z * math.sqrt(p * (1 - p) / n + zz / (4 * n)) / (1 + zz)
    return max(0.0, mid - half), min(1.0, mid + half)


def confusions(gts: list[str], preds: list[str]) -> Counter:
    """(gt char, predicted char) substitutions for equal-length reads."""
    c: Counter = Counter()
    for g, p in zip(gts, preds):
        if len(g) == len(p):
            c.update((a, b) for a, b in zip(g, p) if a != b)
    return c
