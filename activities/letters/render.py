"""A letter laid out as a PDF with fpdf2: the locale's fixed wording (wording/<locale>.yaml)
filled with the account's facts, the customer's name and address, and the policy's own text.

What CN credit-card measures art. 69 ask a collection letter to state, in this order: the
reason and basis (the contract, the due date, days past due), the balance and its parts, the
holder's rights, how to object with evidence (channels and a dated deadline), and the
lender's contact details. Pure: no I/O but reading the wording and the font files.

fpdf2 embeds the subset of the font the letter uses (a few hundred glyphs of Noto Sans CJK's
tens of thousands), so a letter is tens of kilobytes and prints the same everywhere.
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from fontTools.ttLib import TTCollection
from fpdf import FPDF

from activities.letters.content import (
    Fonts,
    LetterContent,
    Rendered,
    format_date,
    money,
    wording,
)

_FAMILY = "letter"
_TEXT, _SMALL, _HEADING, _TITLE = 10.0, 8.0, 11.0, 15.0
_LINE = 5.0  # mm per line of body text


@functools.cache
def face_number(path: Path, face: str) -> int:
    """The index of `face` in a font collection; 0 for a single font file."""
    if path.suffix.lower() not in (".ttc", ".otc"):
        return 0
    collection = TTCollection(str(path), lazy=True)
    for index, font in enumerate(collection.fonts):
        if font["name"].getDebugName(1) == face:
            return index
    raise ValueError(f"font collection {path} has no face {face!r}")


class _Pdf(FPDF):
    footer_text = ""

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font(_FAMILY, "", _SMALL)
        self.set_text_color(110)
        self.cell(0, 5, self.footer_text.format(page=self.page_no()), align="C")
        self.set_text_color(0)


def render(content: LetterContent, fonts: Fonts) -> Rendered:
    """The letter as PDF bytes, their SHA-256 and the page count."""
    words = wording(content.locale)
    pdf = _Pdf(format="A4", unit="mm")
    pdf.set_margins(22, 16, 22)
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_font(_FAMILY, "", fonts.regular, collection_font_number=_number(fonts.regular, fonts))
    pdf.add_font(_FAMILY, "B", fonts.bold, collection_font_number=_number(fonts.bold, fonts))
    pdf.set_title(str(words["title"]))
    pdf.set_creation_date(_midnight(content.letter_date))
    pdf.footer_text = str(words["footer"]).format(letter_ref=content.letter_ref, page="{page}")
    pdf.add_page()
    values = _values(content, words)
    _letterhead(pdf, content, words, values)
    _body(pdf, content, words, values)
    data = bytes(pdf.output())
    return Rendered(pdf=data, sha256=hashlib.sha256(data).digest(), pages=pdf.page_no())


def _number(path: Path, fonts: Fonts) -> int:
    return face_number(path, fonts.face)


def _midnight(day: date) -> datetime:
    """The PDF's creation date: the letter's date, so one letter renders to the same bytes."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def _values(content: LetterContent, words: Mapping[str, Any]) -> dict[str, Any]:
    lender = content.lender
    email_part = str(words["objection_email"]).format(email=lender.email) if lender.email else ""
    products: Mapping[str, str] = words.get("products", {})
    return {
        "date": format_date(content.letter_date, content.locale),
        "deadline": format_date(
            content.letter_date + timedelta(days=content.objection_days), content.locale
        ),
        "objection_days": content.objection_days,
        "account_id": content.account_id,
        "product": products.get(content.product, content.product),
        "letter_ref": content.letter_ref,
        "name": content.name,
        "lender": lender.name,
        "due_date": format_date(content.due_date, content.locale),
        "days_past_due": content.days_past_due,
        "address": lender.address,
        "phone": lender.phone,
        "email": lender.email or "",
        "email_part": email_part,
        "hours": lender.hours or "",
    }


def _letterhead(
    pdf: FPDF, content: LetterContent, words: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    lender = content.lender
    pdf.set_font(_FAMILY, "B", 13)
    pdf.cell(0, 7, lender.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FAMILY, "", _SMALL)
    pdf.set_text_color(80)
    pdf.multi_cell(0, 4.4, f"{lender.address}\n{lender.phone}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_text_color(0)
    pdf.ln(6)
    pdf.set_font(_FAMILY, "", _TEXT)
    for line in (content.name, *content.address):
        pdf.cell(0, _LINE, line, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    pdf.cell(0, _LINE, str(words["date"]).format(**values), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(_FAMILY, "", _SMALL)
    pdf.multi_cell(0, 4.6, str(words["reference"]).format(**values), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(5)
    pdf.set_font(_FAMILY, "B", _TITLE)
    pdf.cell(0, 10, str(words["title"]), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)


def _body(
    pdf: FPDF, content: LetterContent, words: Mapping[str, Any], values: Mapping[str, Any]
) -> None:
    _paragraph(pdf, str(words["salutation"]).format(**values))
    _heading(pdf, str(words["reason_heading"]))
    _paragraph(pdf, str(words["reason"]).format(**values))
    _heading(pdf, str(words["balance_heading"]))
    _balance(pdf, content, words)
    _heading(pdf, str(words["own_heading"]))
    for part in content.own_text.strip().split("\n"):
        if part.strip():
            _paragraph(pdf, part.strip())
    _heading(pdf, str(words["rights_heading"]))
    for right in words["rights"]:
        _paragraph(pdf, f"•  {right}", indent=3, after=0.8)
    _heading(pdf, str(words["objection_heading"]))
    _paragraph(pdf, str(words["objection"]).format(**values))
    _heading(pdf, str(words["contact_heading"]))
    for key, present in (
        ("contact_address", True),
        ("contact_phone", True),
        ("contact_hours", bool(content.lender.hours)),
        ("contact_email", bool(content.lender.email)),
    ):
        if present:
            _paragraph(pdf, str(words[key]).format(**values), after=0.5)
    pdf.ln(4)
    _paragraph(pdf, str(words["closing"]))
    pdf.set_font(_FAMILY, "B", _TEXT)
    pdf.cell(0, _LINE, str(words["signature"]).format(**values), new_x="LMARGIN", new_y="NEXT")


def _balance(pdf: FPDF, content: LetterContent, words: Mapping[str, Any]) -> None:
    """The balance (always, with its currency) and, where the record has them, its parts."""
    names: Mapping[str, str] = words["items"]
    rows = [
        (names.get(item.kind, item.kind), money(item.amount_minor, content.currency), False)
        for item in content.itemization or ()
    ]
    rows.append((str(words["balance_total"]), money(content.balance_minor, content.currency), True))
    for label, amount, total in rows:
        pdf.set_font(_FAMILY, "B" if total else "", _TEXT)
        pdf.set_x(pdf.l_margin + 3)
        pdf.cell(70, 6, label, border="B" if not total else "T")
        pdf.cell(
            50,
            6,
            amount,
            border="B" if not total else "T",
            align="R",
            new_x="LMARGIN",
            new_y="NEXT",
        )
    if not content.itemization:
        pdf.set_font(_FAMILY, "", _SMALL)
        pdf.ln(1)
        _paragraph(pdf, str(words["itemization_missing"]), size=_SMALL)


def _heading(pdf: FPDF, text: str) -> None:
    pdf.ln(1.5)
    pdf.set_font(_FAMILY, "B", _HEADING)
    pdf.multi_cell(0, 6, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(0.5)


def _paragraph(
    pdf: FPDF, text: str, *, indent: float = 0, after: float = 1.5, size: float = _TEXT
) -> None:
    pdf.set_font(_FAMILY, "", size)
    pdf.set_x(pdf.l_margin + indent)
    pdf.multi_cell(0, _LINE, text, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(after)
