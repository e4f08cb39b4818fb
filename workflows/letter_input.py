"""The letter a `letter` stage asks its activity for, built from the account's record and its
policy snapshot (workflows/letters.py). Pure; no personal data."""

from __future__ import annotations

from workflows.forbearance_types import ItemizationState
from workflows.letters import LetterItem, LetterSpec
from workflows.stages import NotifyKind, Stage
from workflows.types import AccountRecord


def letter_spec(record: AccountRecord, stage: Stage) -> LetterSpec | None:
    """The letter of a letter stage; None for other notices, and for a policy snapshot from
    before letters were rendered (no `letters` section: the notice goes to the backend's
    webhook as it did then). With the balance's parts where the record has them."""
    letters = record.policy.letters
    if stage.kind is not NotifyKind.LETTER or letters is None:
        return None
    return LetterSpec(
        letters=letters,
        default_locale=record.policy.default_locale,
        product=record.product,
        due_date=record.due_date,
        itemization=balance_items(record.itemization, record.balance_minor),
    )


def balance_items(
    state: ItemizationState | None, balance_minor: int
) -> tuple[LetterItem, ...] | None:
    """The latest itemization the backend reported, as a letter's (or a page's) lines:
    principal, interest, fees (summed) and what was paid, the payments since it was reported
    included, so the lines add up to the balance now. None without one, or when a bill
    reported since without one made the balance larger than it explains."""
    if state is None or balance_minor > state.amount_minor:
        return None
    parts = state.itemization
    paid = parts.payments_minor + (state.amount_minor - balance_minor)
    lines = [
        LetterItem(kind="principal", amount_minor=parts.principal_minor),
        LetterItem(kind="interest", amount_minor=parts.interest_minor),
        LetterItem(kind="fees", amount_minor=sum(f.amount_minor for f in parts.fees)),
        LetterItem(kind="payments", amount_minor=paid),
    ]
    return tuple(line for line in lines if line.amount_minor or line.kind == "principal")
