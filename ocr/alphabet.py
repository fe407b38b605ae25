"""Alphabets and the CTC codec: characters <-> class ids, blank is the last class."""
from __future__ import annotations

from dataclasses import dataclass

from common.errors import UserError

PRESETS: dict[str, str] = {
    "digits": "0123456789",
    "latin": "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ",
}


SEPARATORS = " \t-.\u00b7\u2022"  # printed between plate groups, never read: dropped from labels


def plate_label(raw: str, keep: str = "") -> str:
    """A label as the reader writes it: upper case, without the separators printed between groups
    (`"ab-123 cd"` -> `"AB123CD"`); separators in `keep` (an alphabet that reads them) stay."""
    return "".join(c for c in raw.strip().upper() if c not in SEPARATORS or c in keep)


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
