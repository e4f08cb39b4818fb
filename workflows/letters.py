"""Letters: a policy's `letters` section and what a letter stage hands its activity.

A `notify` stage of kind `letter` is rendered by us as a PDF (activities/letters/) and printed
and posted by the lender's mailroom (the console's mailroom page). CN credit-card measures
art. 69 list what a collection letter states: the balance, the reason and the basis, the
holder's rights, how to object with evidence, the lender's contact details. The fixed wording
of those is the renderer's per locale; what varies by lender lives here: its contact details,
how long the holder has to object, and the policy's own text, per locale.

Pure data with validation; no I/O, no personal data (the activity reads the customer's name
and postal address from Postgres).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.stages import Channel, NotifyKind, Stage

# The locales the renderer has wording for (activities/letters/wording/<locale>.yaml).
LETTER_LOCALES = ("zh-CN", "en")
LETTER_TEXT_MAX = 2000  # characters of the policy's own text per locale: about half a page
_LOCALE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LenderContact(_Model):
    """How the holder reaches the lender, as printed on every letter in one locale."""

    name: str = Field(min_length=1, max_length=120)
    address: str = Field(min_length=1, max_length=200, description="Where written objections go.")
    phone: str = Field(min_length=1, max_length=40)
    email: str | None = Field(default=None, max_length=120)
    hours: str | None = Field(default=None, max_length=80, description="When the phone answers.")


class LetterPolicy(_Model):
    """A policy's `letters` section (docs/letters.md)."""

    objection_days: int = Field(
        default=15,
        ge=7,
        le=90,
        description="Days from the letter's date within which the holder may object with "
        "evidence; the letter prints the date.",
    )
    lender: dict[str, LenderContact] = Field(
        min_length=1, description="locale -> the lender's contact details."
    )
    texts: dict[str, str] = Field(min_length=1, description="locale -> the policy's own text.")

    @model_validator(mode="after")
    def _same_locales(self) -> LetterPolicy:
        if set(self.lender) != set(self.texts):
            raise ValueError(
                "letters: lender and texts must have the same locales "
                f"(lender: {', '.join(sorted(self.lender))}; "
                f"texts: {', '.join(sorted(self.texts))})"
            )
        for locale, text in self.texts.items():
            if locale not in LETTER_LOCALES:
                raise ValueError(
                    f"letters: no letter wording for locale {locale!r} "
                    f"(there is for {', '.join(LETTER_LOCALES)})"
                )
            if not text.strip():
                raise ValueError(f"letters.texts.{locale}: empty")
            if len(text) > LETTER_TEXT_MAX:
                raise ValueError(
                    f"letters.texts.{locale}: {len(text)} characters, at most {LETTER_TEXT_MAX}"
                )
            if any(ord(c) < 32 and c != "\n" for c in text):
                raise ValueError(f"letters.texts.{locale}: control characters (only line breaks)")
        return self


def letters_problem(
    stages: Sequence[Stage], letters: LetterPolicy | None, default_locale: str
) -> str | None:
    """What is wrong with a policy file's letters, or None: a letter stage needs the section,
    and the section needs the default locale (a customer's locale falls back to it). Checked
    when a file is loaded (overdue.template_lint), never on a workflow's snapshot."""
    has_letter = any(s.channel is Channel.NOTIFY and s.kind is NotifyKind.LETTER for s in stages)
    if letters is None:
        return "a letter stage needs a 'letters' section (docs/letters.md)" if has_letter else None
    if default_locale not in letters.texts:
        return f"no text for the default locale {default_locale!r}"
    return None


class LetterItem(_Model):
    """One line of the balance's itemization, as the workflow record has it."""

    kind: str = Field(pattern=r"^[a-z_]{1,32}$", description="principal, interest, fees, ...")
    amount_minor: int = Field(ge=0)


class LetterSpec(_Model):
    """What a letter stage's activity needs beyond the notice's amount: the policy's letter
    section and the account's facts the letter states. No personal data."""

    letters: LetterPolicy
    default_locale: str = Field(pattern=_LOCALE)
    product: str
    due_date: date
    itemization: tuple[LetterItem, ...] | None = Field(
        default=None, description="The balance's parts; None: the record has none."
    )
