import numpy as np
import pytest

from common.errors import UserError
from ocr.decode import beam_decode, check_patterns, greedy_decode, matches

DIG = "0123456789"


def frames(seq: str, chars: str, p: float = 0.9) -> np.ndarray:
    """One frame per symbol of `seq` ('_' = blank), each with probability p on that symbol."""
    C = len(chars) + 1
    out = np.full((len(seq), C), (1 - p) / (C - 1), np.float64)
    for t, s in enumerate(seq):
        out[t, C - 1 if s == "_" else chars.index(s)] = p
    return out


@pytest.mark.parametrize("seq, text", [
    ("11_1_2", "112"),       # a blank separates a repeated character
    ("1122", "12"),          # repeats without blank merge
    ("___", ""),
    ("_0_0_0_", "000"),
    ("9__9", "99"),
])
def test_greedy(seq, text):
    assert greedy_decode(frames(seq, DIG), DIG).text == text


def test_greedy_confidences():
    probs = frames("1_2", DIG, 0.9)
    probs[2] = probs[2] * 0 + 0.02
    probs[2, 2] = 0.8
    d = greedy_decode(probs, DIG)
    assert d.text == "12"
    assert d.char_confidences == pytest.approx((0.9, 0.8))
    assert d.confidence == pytest.approx(0.72)


def _ambiguous() -> tuple[np.ndarray, str]:
    chars = "0123456789ABI"
    probs = frames("A_B_1", chars, 0.9)
    probs[4] = 0.0
    probs[4, chars.index("1")], probs[4, chars.index("I")], probs[4, -1] = 0.55, 0.4, 0.05
    return probs, chars


def test_beam_unconstrained_matches_greedy():
    probs, chars = _ambiguous()
    assert beam_decode(probs, chars).text == greedy_decode(probs, chars).text == "AB1"


def test_beam_obeys_pattern():
    probs, chars = _ambiguous()
    d = beam_decode(probs, chars, patterns=("LLL",))
    assert d.text == "ABI"
    assert matches(d.text, "LLL")
    assert d.char_confidences == pytest.approx((0.9, 0.9, 0.4))


def test_beam_pattern_for_seed_plates():
    text = "00004741816"
    seq = "_".join(text)
    d = beam_decode(frames(seq, DIG), DIG, patterns=("DDDDDDDDDDD",))
    assert d.text == text


def test_beam_falls_back_when_nothing_matches():
    probs, chars = _ambiguous()
    assert beam_decode(probs, chars, patterns=("DDDDDDD",)).text == "AB1"


@pytest.mark.parametrize("text, pattern, ok", [
    ("ABC1234", "LLLDDDD", True), ("ABC1D34", "LLLDLDD", True), ("ABC1234", "LLLDLDD", False),
    ("AB12", "LL*2", True), ("AB12", "LLD", False),
])
def test_matches(text, pattern, ok):
    assert matches(text, pattern) is ok


@pytest.mark.parametrize("patterns, message", [
    (("lllddd",), "plate pattern 'lllddd' has 'd', 'l': a pattern is made of D (digit), L (letter), * (any)"),
    (("AB-123",), "plate pattern 'AB-123' has '-'"),
    (("LLLDDD", ""), "plate pattern '' is empty"),
])
def test_patterns_no_read_could_fit_are_refused(patterns, message):
    with pytest.raises(UserError) as exc:
        check_patterns(patterns, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert str(exc.value).startswith(message)


def test_patterns_of_tokens_and_alphabet_characters_pass():
    check_patterns(("LLLDDDD", "LLLDLDD", "B**DDD", "***"), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")
