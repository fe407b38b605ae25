import pytest

from common.errors import UserError
from ocr.alphabet import Codec, plate_label, resolve_alphabet


def test_presets_and_blank():
    digits = Codec(resolve_alphabet("digits"))
    latin = Codec(resolve_alphabet("latin"))
    assert (digits.num_classes, digits.blank) == (11, 10)
    assert (latin.num_classes, latin.blank) == (37, 36)


@pytest.mark.parametrize("text", ["00004741816", "AB123CD", "ZZ00", ""])
def test_round_trip(text):
    codec = Codec(resolve_alphabet("latin"))
    assert codec.decode(codec.encode(text)) == text


def test_outside_alphabet():
    codec = Codec("0123456789")
    with pytest.raises(ValueError, match="character 'A' is not in the alphabet"):
        codec.encode("12A")
    assert codec.invalid_chars("1A-B") == "-AB"


def test_duplicate_alphabet():
    with pytest.raises(UserError, match="must be unique"):
        resolve_alphabet("AAB")


@pytest.mark.parametrize("raw, keep, want", [
    (" ab-123 cd ", "", "AB123CD"), ("B 21.GSB", "", "B21GSB"), ("KMH\u00b7306", "", "KMH306"),
    ("AB-12", "AB12-", "AB-12"), ("12#A", "", "12#A"), ("", "", ""),
    ("AB \u2013 123", "", "AB123"), ("AB\u2014123\u2212CD", "", "AB123CD"),  # a typed hyphen as a spreadsheet keeps it
    ("AB\u2011123", "", "AB123"), ("\ufeffAB\u200b123", "", "AB123"),  # a web page's non-breaking and invisible marks
    ("AB_123/4", "", "AB_123/4")])  # no separator a plate prints: left for the alphabet to refuse
def test_plate_label_drops_separators_only(raw, keep, want):
    assert plate_label(raw, keep) == want


@pytest.mark.parametrize("raw, keep, want", [
    ("\uff21\uff22\uff11\uff12\uff13", "", "AB123"),  # full width, as a Japanese or Chinese keyboard types it
    ("а123вс 77", "", "A123BC77"), ("АВЕКМНОРСТУХІ", "", "ABEKMHOPCTYXI"),  # Cyrillic, lower and upper case
    ("ΗΡΧ-1234", "", "HPX1234"), ("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "", "ABEZHIKMNOPTYX"),  # Greek plates' 14 letters
    ("АВ123", "0123456789АВ", "АВ123"),  # an alphabet of Cyrillic letters keeps them
    ("ДЖ1", "", "ДЖ1"),  # a letter with no Latin twin stays, for the alphabet check to name
])
def test_plate_label_reads_look_alikes_as_the_latin_letters_the_reader_sees(raw, keep, want):
    assert plate_label(raw, keep) == want
