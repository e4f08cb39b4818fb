"""What a letter prints, as plain data, and the wording and formats of each locale: the light
half of the letters package (activities/letters/render.py lays it out with fpdf2, whose import
takes seconds, so only rendering a letter pays for it).

The wording is wording/<locale>.yaml: the fixed text of CN credit-card measures art. 69's
fields (the reason and basis, the balance, the holder's rights, how to object with evidence,
the lender's contact details), with placeholders the renderer fills.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from workflows.currencies import minor_unit_exponent
from workflows.letters import LETTER_LOCALES, LenderContact, LetterItem

_WORDING = Path(__file__).parent / "wording"
_MONTHS = (
    "January February March April May June July August September October November December"
).split()


@dataclass(frozen=True)
class Fonts:
    """The font files a letter embeds, and the face to take from a collection (.ttc)."""

    regular: Path
    bold: Path
    face: str


@dataclass(frozen=True)
class LetterContent:
    """Everything printed on one letter. Personal data (the name, the address): never log."""

    locale: str
    letter_ref: str
    account_id: str
    product: str
    due_date: date
    days_past_due: int
    letter_date: date
    balance_minor: int
    currency: str
    itemization: tuple[LetterItem, ...] | None
    own_text: str
    objection_days: int
    lender: LenderContact
    name: str
    address: tuple[str, ...]


@dataclass(frozen=True)
class Rendered:
    pdf: bytes
    sha256: bytes
    pages: int


def money(amount_minor: int, currency: str) -> str:
    """1234.5 CNY -> '1,234.50 CNY' (the currency's own minor unit)."""
    exponent = minor_unit_exponent(currency)
    major, minor = divmod(amount_minor, 10**exponent)
    text = f"{major:,}" + (f".{minor:0{exponent}d}" if exponent else "")
    return f"{text} {currency}"


@functools.cache
def wording(locale: str) -> Mapping[str, Any]:
    if locale not in LETTER_LOCALES:
        raise ValueError(f"no letter wording for {locale!r} ({', '.join(LETTER_LOCALES)})")
    loaded: Mapping[str, Any] = yaml.safe_load((_WORDING / f"{locale}.yaml").read_text("utf-8"))
    return loaded


def format_date(day: date, locale: str) -> str:
    return str(wording(locale)["date_format"]).format(
        year=day.year, month=day.month, day=day.day, month_name=_MONTHS[day.month - 1]
    )
