import itertools

import numpy as np
import pytest

from common.errors import UserError
from ocr.decode import beam_decode, check_patterns, greedy_decode, matches, softmax

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


@pytest.mark.parametrize("patterns, chars, message", [
    (("LLLDDD",), DIG, "plate pattern 'LLLDDD' asks for letters (L), and the OCR model's alphabet '0123456789' has "
                       "none: no read could fit it"),
    (("DDDDDDD", "LLDDD"), DIG, "plate pattern 'LLDDD' asks for letters (L)"),
    (("LLLDDD",), "ABCDEFGH", "plate pattern 'LLLDDD' asks for digits (D), and the OCR model's alphabet 'ABCDEFGH'"),
])
def test_patterns_asking_for_characters_the_alphabet_lacks_are_refused(patterns, chars, message):
    with pytest.raises(UserError) as exc:
        check_patterns(patterns, chars)
    assert str(exc.value).startswith(message)


def test_patterns_of_tokens_and_alphabet_characters_pass():
    check_patterns(("DDDDDDDDDDD", "D*D"), DIG)
    check_patterns(("LLL", "L*L"), "ABC")
    check_patterns(("LLLDDDD", "LLLDLDD", "B**DDD", "***"), "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ")


def _collapse(path: tuple[int, ...], blank: int) -> tuple[int, ...]:
    return tuple(c for c, _ in itertools.groupby(path) if c != blank)


def _brute_force(probs: np.ndarray, pattern: str | None, chars: str) -> tuple[str, tuple[float, ...]]:
    """The likeliest label (every path summed), and its characters' confidences along its likeliest path."""
    T, C = probs.shape
    totals: dict[tuple[int, ...], float] = {}
    best_path: dict[tuple[int, ...], tuple[float, tuple[int, ...]]] = {}
    for path in itertools.product(range(C), repeat=T):
        label = _collapse(path, C - 1)
        p = float(np.prod(probs[np.arange(T), path]))
        totals[label] = totals.get(label, 0.0) + p
        if p > best_path.get(label, (-1.0, ()))[0]:
            best_path[label] = (p, path)
    fits = [lab for lab in totals if pattern is None or matches("".join(chars[i] for i in lab), pattern)]
    label = max(fits, key=totals.__getitem__)
    path = best_path[label][1]
    confs, k = [], -1
    for t, c in enumerate(path):
        if c != C - 1 and (t == 0 or path[t - 1] != c):
            k += 1
            confs.append(0.0)
        if c != C - 1:
            confs[k] = max(confs[k], float(probs[t, c]))
    return "".join(chars[i] for i in label), tuple(confs)


@pytest.mark.parametrize("seed", range(12))
def test_beam_finds_the_likeliest_label_of_all_paths_and_its_confidences(seed):
    """A beam wide enough to keep every prefix reads the label whose paths sum highest (checked against every path),
    each character's confidence its best frame on that label's likeliest path."""
    chars = "A1"
    rng = np.random.default_rng(seed)
    probs = rng.dirichlet(np.full(3, 0.7), size=6)
    text, confs = _brute_force(probs, None, chars)
    d = beam_decode(probs, chars, beam_width=10_000, prune=0.0)
    assert d.text == text
    assert d.char_confidences == pytest.approx(confs)
    assert d.confidence == pytest.approx(float(np.prod(confs)) if confs else 0.0)
    fit_text, fit_confs = _brute_force(probs, "LD", chars)
    d = beam_decode(probs, chars, patterns=("LD",), beam_width=10_000, prune=0.0)
    assert (d.text, d.char_confidences) == (fit_text, pytest.approx(fit_confs))


def test_beam_sums_the_paths_of_a_label_where_the_best_single_path_reads_another():
    """'A' has paths AA, A_ and _A (0.64 in all) against __ (0.36): the beam reads A, the best path nothing."""
    probs = np.array([[0.4, 0.6], [0.4, 0.6]])
    assert greedy_decode(probs, "A").text == ""
    d = beam_decode(probs, "A")
    assert d.text == "A"
    assert d.char_confidences == pytest.approx((0.4,))


def test_softmax_is_stable_for_large_logits():
    out = softmax(np.array([[1000.0, 0.0, -1000.0], [5.0, 5.0, 5.0]]))
    assert np.allclose(out, [[1.0, 0.0, 0.0], [1 / 3, 1 / 3, 1 / 3]])


def test_a_read_cannot_be_changed():
    d = greedy_decode(frames("1_2", DIG), DIG)
    with pytest.raises(AttributeError):
        d.text = "99"  # type: ignore[misc]


def test_an_empty_read_has_no_confidence():
    probs = frames("___", DIG)
    for d in (greedy_decode(probs, DIG), beam_decode(probs, DIG)):
        assert (d.text, d.confidence, d.char_confidences) == ("", 0.0, ())
