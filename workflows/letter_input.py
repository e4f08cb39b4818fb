"""The letter a `letter` stage asks its activity for, built from the account's record and its
policy snapshot (workflows/letters.py). Pure; no personal data."""

from __future__ import annotations

from workflows.letters import LetterItem, LetterSpec
from workflows.stages import NotifyKind, Stage
from workflows.types import AccountRecord


def letter_spec(
    record: AccountRecord, stage: Stage, itemization: tuple[LetterItem, ...] | None = None
) -> LetterSpec | None:
    """The letter of a letter stage; None for other notices, and for a policy snapshot from
    before letters were rendered (no `letters` section: the notice goes to the backend's
    webhook as it did then). `itemization`: the balance's parts where the record has them."""
    letters = record.policy.letters
    if stage.kind is not NotifyKind.LETTER or letters is None:
        return None
    return LetterSpec(
        letters=letters,
        default_locale=record.policy.default_locale,
        product=record.product,
        due_date=record.due_date,
        itemization=itemization,
    )
