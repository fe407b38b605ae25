"""Alphabets and the CTC codec: characters <-> class ids, blank is the last class."""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from common.errors import UserError

PRESETS: dict[str, str] = {
    "digits": "0123456789",
    "latin": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
}


# printed between plate groups, never read: dropped from labels; with the dashes a word processor or spreadsheet
# puts for a typed hyphen (en and em dash, minus sign) and the invisible spaces copied from web pages
SEPARATORS = " \t-.\u00b7\u2022\u2010\u2012\u2013\u2014\u2015\u2212\u200b\u200c\u200d\u2060\ufeff"
# The Cyrillic and Greek capitals that plates print (Russia, Ukraine, Bulgaria...; Greece uses only these 14), each
# the same shape as a Latin letter, which is what the reader sees: typed on such a keyboard, a label means the Latin one.
LOOK_ALIKES = dict(zip("АВЕКМНОРСТУХІΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEKMHOPCTYXIABEZHIKMNOPTYX"))


def plate_label(raw: str, keep: str = "") -> str:
    """A label as the reader writes it: upper case, without the separators printed between groups
    (`"ab-123 cd"` -> `"AB123CD"`), full-width characters as their ASCII forms, and the Cyrillic and Greek letters
    that plates print as their Latin look-alikes (`"А123ВС"` in Cyrillic -> `"A123BC"`). Characters in `keep` (the
    alphabet: one that reads separators, or Cyrillic letters) stay as they are."""
    text = unicodedata.normalize("NFKC", raw).strip().upper()
    return "".join(c if c in keep else LOOK_ALIKES.get(c, c) for c in text if c not in SEPARATORS or c in keep)


def resolve_alphabet(name_or_chars: str) -> str:
    """A preset name (`digits`, `latin`) or the literal characters of the alphabet."""
    chars = PRESETS.get(name_or_chars, name_or_chars)
    if len(set(chars)) != len(chars) or not chars:
        raise UserError(f"alphabet {name_or_chars!r}: characters must be unique and non-empty")
    return chars


@dataclass(frozen=True)
class Codec:
    """Maps text to class ids 0..n-1; the CTC blank is id n (the last class)."""

    chars: str

    @property
    def num_classes(self) -> int:
        return len(self.chars) + 1

    @property
    def blank(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> list[int]:
        """Ids of `text`; raises ValueError naming the first character outside the alphabet."""
        index = {c: i for i, c in enumerate(self.chars)}
        try:
            return [index[c] for c in text]
        except KeyError as exc:
            raise ValueError(f"character {exc.args[0]!r} is not in the alphabet {self.chars!r}") from None

    def decode(self, ids: list[int]) -> str:
        """Text of already-collapsed ids (no blanks)."""
        return "".join(self.chars[i] for i in ids)

    def invalid_chars(self, text: str) -> str:
        return "".join(sorted({c for c in text if c not in self.chars}))
