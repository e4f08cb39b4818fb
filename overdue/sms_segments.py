"""How many SMS segments a body costs: GSM-7 when every character fits, else UCS-2.

GSM 03.38: a single message carries 160 septets, a concatenated one 153 per segment (the
user-data header takes the rest); characters of the extension table take two septets (an
escape and the character) and are never split across segments. UCS-2: 70 UTF-16 code units,
67 per segment when concatenated; a surrogate pair (an emoji) is never split either.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Encoding = Literal["GSM-7", "UCS-2"]

# The GSM 03.38 default alphabet (basic character set), in table order, without the escape.
_GSM_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
# The extension table: each costs an escape septet plus its own.
_GSM_EXTENSION = frozenset("\f^{}\\[~]|€")

_GSM_SINGLE, _GSM_MULTI = 160, 153
_UCS2_SINGLE, _UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class Segments:
    encoding: Encoding
    segments: int
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)


def is_gsm7(text: str) -> bool:
    return all(ch in _GSM_BASIC or ch in _GSM_EXTENSION for ch in text)


def count_segments(text: str) -> Segments:
    """Segments `text` is billed as; an empty text is 0 segments (providers refuse it)."""
    if is_gsm7(text):
        sizes = [2 if ch in _GSM_EXTENSION else 1 for ch in text]
        return Segments("GSM-7", _pack(sizes, _GSM_SINGLE, _GSM_MULTI), sum(sizes))
    sizes = [2 if ord(ch) > 0xFFFF else 1 for ch in text]
    return Segments("UCS-2", _pack(sizes, _UCS2_SINGLE, _UCS2_MULTI), sum(sizes))


def _pack(sizes: list[int], single: int, per_segment: int) -> int:
    total = sum(sizes)
    if total == 0:
        return 0
    if total <= single:
        return 1
    # Fill segments greedily; a character that does not fit whole starts the next one.
    segments, used = 1, 0
    for size in sizes:
        if used + size > per_segment:
            segments += 1
            used = 0
        used += size
    return segments
