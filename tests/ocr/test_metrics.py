import pytest

from ocr.metrics import char_accuracy, confusions, edit_budget, edit_distance, near_text, summarize, wilson_interval


@pytest.mark.parametrize("a, b, d", [
    ("", "", 0), ("", "ABC", 3), ("ABC", "", 3), ("AB123", "AB123", 0), ("AB", "BA", 2),
    ("KITTEN", "SITTING", 3), ("AB123", "AB1234", 1), ("AB123", "B123", 1), ("AB123", "AB128", 1),
])
def test_edit_distance(a, b, d):
    assert edit_distance(a, b) == d == edit_distance(b, a)


@pytest.mark.parametrize("a, b, budget", [("AB123", "AB128", 1), ("B04RXL", "B04RYC", 2), ("AB", "AB1", 0)])
def test_edit_budget_is_a_third_of_the_shorter_text_at_most(a, b, budget):
    assert edit_budget(a, b, 2) == budget
    assert edit_budget(a, b, 0) == 0


@pytest.mark.parametrize("a, b, near", [
    ("B04RXL", "B04RYC", True),   # 2 edits of 6
    ("B04RXL", "B04RXL", False),  # the same text is not a near one
    ("B04RXL", "B9ARYC", False),  # 4 edits
    ("AB12", "AB13", True),       # 1 edit of 4
    ("AB12", "AC15", False),      # 2 edits of 4: over a third
])
def test_near_text(a, b, near):
    assert near_text(a, b, 2) is near


@pytest.mark.parametrize("gt, pred, acc", [
    ("", "", 1.0), ("AB12", "", 0.0), ("AB12", "AB12", 1.0), ("AB12", "AB13", 0.75), ("AB", "ABCDEF", 1 / 3),
    ("AB", "XYZWVU", 0.0),
])
def test_char_accuracy(gt, pred, acc):
    assert char_accuracy(gt, pred) == pytest.approx(acc)


def test_summarize():
    s = summarize(["AB10", "AB10", "XY99", "CD12"], ["AB10", "ABI0", "XY99", "CDl2"])
    assert s == {"n": 4, "seq_acc": 0.5, "seq_acc_o0": 0.5, "char_acc": pytest.approx((1 + 0.75 + 1 + 0.75) / 4)}
    assert summarize(["AO10"], ["A010"])["seq_acc_o0"] == 1.0
    assert summarize(["AO10"], ["A010"])["seq_acc"] == 0.0
    assert summarize([], []) == {"n": 0, "seq_acc": 0.0, "seq_acc_o0": 0.0, "char_acc": 0.0}


def test_wilson_interval():
    assert wilson_interval(0, 0) == (0.0, 1.0)
    lo, hi = wilson_interval(27, 29)
    assert (round(lo, 3), round(hi, 3)) == (0.780, 0.981)
    assert wilson_interval(10, 10)[1] == 1.0 and wilson_interval(0, 10)[0] == 0.0


def test_confusions_count_substitutions_of_equal_length_reads():
    c = confusions(["AB10", "JDV500", "XY"], ["A810", "JOV500", "XYZ"])
    assert c == {("B", "8"): 1, ("D", "O"): 1}


@pytest.mark.parametrize("k", [1, 2, 3])
def test_the_edit_index_finds_every_text_within_k_edits(k):
    """Against every pair: texts of a small alphabet and near lengths, so that many are a few edits apart."""
    import random

    from ocr.metrics import EditIndex, edit_distance

    rng = random.Random(k)
    texts = ["".join(rng.choice("AB01") for _ in range(rng.randint(0, 8))) for _ in range(300)]
    index = EditIndex(texts, k)
    for _ in range(300):
        q = "".join(rng.choice("AB01") for _ in range(rng.randint(0, 9)))
        found = index.candidates(q)
        assert found == sorted(found)
        assert {n for n, t in enumerate(texts) if edit_distance(t, q) <= k} <= set(found), q


def test_the_edit_index_gives_few_candidates():
    """A text far from every listed one has none to measure; a near one, only its own."""
    from ocr.metrics import EditIndex

    index = EditIndex(["AB123CD", "KMH306", "XY9876"], 1)
    assert index.candidates("ZZZZZZZ") == [] and index.candidates("AB123CX") == [0]
    assert index.candidates("KMH3068") == [1] and EditIndex(["AB123CD"], 2).candidates("QQ1QQQQ") == []
