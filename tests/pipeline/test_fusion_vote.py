import pytest

from pipeline.fusion_vote import Vote, vote, weight
from pipeline.types import Reading


def r(text: str, conf: float, chars: tuple[float, ...] | None = None, i: int = 0) -> Reading:
    return Reading(i, i / 10, text, conf, chars if chars is not None else (conf,) * len(text), (0, 0, 10, 5))


@pytest.mark.parametrize("reads, text", [
    ([r("B21GSB", 0.9), r("B21GSB", 0.8), r("B2IGSB", 0.95)], "B21GSB"),      # a wrong frame is outvoted
    ([r("AB123", 0.6), r("AB128", 0.6)], "AB123"),                            # tie: first read wins...
    ([r("AB128", 0.5), r("AB123", 0.6)], "AB123"),                            # ...unless one read is surer
    ([r("", 0.0), r("XY99", 0.2)], "XY99"),                                   # empty reads are ignored
    ([], ""),
])
def test_whole_string_vote(reads, text):
    assert vote(reads).text == text


def test_positional_vote_beats_every_single_read():
    # no single read is right, but each position is right in most equal-length reads
    reads = [r("CJ07ABX", 0.5), r("CJ07ARC", 0.5), r("CU07ABC", 0.5), r("CJ0?ABC".replace("?", "1"), 0.4)]
    v = vote(reads)
    assert v.text == "CJ07ABC"
    assert [a.text for a in v.alternatives] == ["CJ07ABX", "CJ07ARC", "CU07ABC"]
    assert v.alternatives[0].votes == 0.5 and v.alternatives[0].reads == 1


def test_per_character_confidence_weights_positions():
    reads = [r("AB1", 0.9, (0.9, 0.9, 0.1)), r("AB7", 0.5, (0.9, 0.9, 0.95))]
    v = vote(reads)
    assert v.text == "AB7"
    assert v.char_confidences[0] == pytest.approx(0.9)  # full agreement x the surest read of that character
    assert v.char_confidences[2] == pytest.approx(0.5 * 0.95 / (0.5 * 0.95 + 0.9 * 0.1) * 0.95)


def test_pattern_prior():
    reads = [r("ABC1234", 0.6), r("ABC1Z34", 0.5)]
    assert vote(reads).text == "ABC1234"
    assert vote(reads, patterns=("LLLDLDD",)).text == "ABC1Z34"


def test_confidence_and_share():
    v = vote([r("AA11", 1.0), r("AA11", 1.0), r("AA1", 1.0, (1.0, 1.0, 1.0))])
    assert v.text == "AA11" and v.share == pytest.approx(2 / 3)
    assert v.confidence == pytest.approx(2 / 3)  # length share x per-character agreement (all 1.0)
    assert v.alternatives[1].text == "AA1"


def test_agreeing_unsure_reads_stay_unsure():
    # three far, unsure reads that agree are not a confident result; one read keeps its own confidence
    assert vote([r("B301MA", 0.05)] * 3).confidence == pytest.approx(0.05 ** 6)
    one = vote([r("CJ07ABC", 0.9, (0.99, 0.98, 1.0, 0.97, 0.99, 0.98, 0.99))])
    assert one.confidence == pytest.approx(0.99 * 0.98 * 0.97 * 0.99 * 0.98 * 0.99)


def test_a_read_of_no_confidence_still_counts_a_little_and_an_off_pattern_read_less():
    assert weight(r("AB123", 0.0), (), 0.3) == pytest.approx(0.05)
    assert weight(r("AB123", 0.8), ("LLDDD",), 0.3) == pytest.approx(0.8)
    assert weight(r("AB123", 0.8), ("LLLDD",), 0.3) == pytest.approx(0.24)
    v = vote([r("ABC1234", 0.6), r("ABC1Z34", 0.5)], patterns=("LLLDLDD",))
    assert [(a.text, a.votes) for a in v.alternatives] == [("ABC1Z34", 0.5), ("ABC1234", 0.18)]


def test_nothing_read_is_an_empty_vote():
    assert vote([r("", 0.0)]) == Vote("", 0.0, (), (), 0.0)


def test_a_read_without_character_confidences_lends_its_own_to_each_character():
    v = vote([r("AB1", 0.8, ())])
    assert v.text == "AB1"
    assert v.char_confidences == pytest.approx((0.8, 0.8, 0.8))


def test_alternatives_votes_are_rounded_to_four_places():
    assert vote([r("AB1", 0.123456)]).alternatives[0].votes == 0.1235


def test_weights_equal_but_for_float_error_are_a_tie():
    # 0.1 + 0.2 != 0.3 in floats: the tie goes to the string with the surer read, here the longer one
    assert vote([r("AB1", 0.1), r("AB1", 0.2), r("AB12", 0.3)]).text == "AB12"
    # the same at one position: the tie keeps the whole-string winner's character (AY, read first)
    reads = [r("AY", 1.0, (1.0, 0.3)), r("AX", 1.0, (1.0, 0.1)), r("BX", 1.0, (1.0, 0.2))]
    assert vote(reads).text == "AY"


def test_a_vote_cannot_be_changed():
    with pytest.raises(AttributeError):
        vote([r("AB1", 0.9)]).text = "X"  # type: ignore[misc]


def test_with_width_power_the_nearer_views_count_more():
    """An approaching plate: three far reads agree on a misread, two near ones read it right."""
    def at(text: str, width: float) -> Reading:
        return Reading(0, 0.0, text, 0.8, (0.8,) * len(text), (50, 30, 50 + width, 30 + width / 2))

    reads = [at("ATHEISL", 90), at("ATHEISL", 95), at("ATHEISL", 100), at("ATHEIST", 180), at("ATHEIST", 200)]
    assert vote(reads).text == "ATHEISL"  # widths aside, three reads outvote two
    v = vote(reads, width_power=1)
    assert v.text == "ATHEIST"
    # the widest read weighs as it would unscaled: the votes stay comparable with confidences
    assert [(a.text, a.votes) for a in v.alternatives] == [("ATHEIST", 1.52), ("ATHEISL", 1.14)]
    assert v.share == pytest.approx((0.8 * 0.9 + 0.8) / (0.8 * (0.45 + 0.475 + 0.5) + 0.8 * 0.9 + 0.8))
    assert vote(reads, width_power=2).share == pytest.approx((0.81 + 1) / (0.2025 + 0.225625 + 0.25 + 0.81 + 1))
