"""After the pre-send check withheld a contact (overdue/store/contact_gate.py): nothing was
sent, because something the decision did not know was reported meanwhile. The workflow waits
for that event's signal (which reaches it before the activity's answer, so the wait is a bound
for the unexpected, not a delay) and the loop then decides again from its current state.

- a payment (every history so far): see `_after_payment`; a payment that never arrives marks
  the stage unchecked, so its next attempt goes without the check;
- a cease-contact request, a dispute or a consent withdrawal (the error's `reason`): the stage
  is never marked unchecked. A late signal only means the next attempt is checked, and
  withheld, again.

Errors from before the gate checked more than payments carry no `reason`: they take the
payment path exactly as before, so recorded histories replay unchanged.
"""

from __future__ import annotations

import contextlib
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows import consent_rules
    from workflows.types import AccountRecord

# How long to wait for the event an activity withheld a contact for.
WITHHELD_WAIT = timedelta(minutes=1)


async def decide_again(
    record: AccountRecord, stage_id: str, cause: ApplicationError, known: int
) -> None:
    """`known`: how many payments the workflow had when it started the attempt."""
    reason = withheld_reason(cause)
    if reason is None:
        await _after_payment(record, stage_id, known)
    else:
        await _after_event(record, stage_id, reason, _channel(cause))


def withheld_reason(cause: ApplicationError) -> str | None:
    """Why the gate withheld the contact when it was not a payment: `contact_ceased`,
    `dispute_opened` or `consent_withdrawn`; None for a payment and for errors from before the
    reason existed."""
    details = cause.details[0] if cause.details else None
    reason = details.get("reason") if isinstance(details, dict) else None
    return reason if isinstance(reason, str) else None


def _channel(cause: ApplicationError) -> str | None:
    """The consent channel of a `consent_withdrawn` withholding."""
    details = cause.details[0] if cause.details else None
    channel = details.get("channel") if isinstance(details, dict) else None
    return channel if isinstance(channel, str) else None


async def _after_payment(record: AccountRecord, stage_id: str, known: int) -> None:
    """The activity sent nothing: a payment came after the decision. Once the workflow has
    that payment, the loop decides again (resolved: nothing more; partly paid: the stage acts
    again, with the new balance)."""
    record.note(f"{stage_id}: contact withheld, a payment arrived after the decision")
    if len(record.payments_seen) > known:
        return
    with contextlib.suppress(TimeoutError):
        await workflow.wait_condition(
            lambda: len(record.payments_seen) > known,
            timeout=WITHHELD_WAIT,
            timeout_summary=f"{stage_id}: wait for the payment the contact was withheld for",
        )
    if len(record.payments_seen) <= known:
        # A payment the workflow does not receive (another currency, another process): not
        # one to wait for; the stage's next attempt goes without the check.
        record.note(f"{stage_id}: the withheld-for payment never arrived; sending anyway")
        if stage_id not in record.unchecked_stages:
            record.unchecked_stages.append(stage_id)


async def _after_event(
    record: AccountRecord, stage_id: str, reason: str, channel: str | None = None
) -> None:
    """The activity sent nothing: a cease-contact request or a dispute came after the
    decision. Its signal reaches the workflow before the activity's answer, as a payment's
    does; once the workflow has it the loop decides again. Unlike a payment the stage is never
    marked unchecked: if the signal is late the stage's next attempt is checked (and withheld)
    again, at most once per wait."""
    record.note(f"{stage_id}: contact withheld, {reason} reported after the decision")

    def arrived() -> bool:
        if reason == "consent_withdrawn":
            return channel is None or not consent_rules.allows(record, channel)
        return record.contact_ceased if reason == "contact_ceased" else bool(record.open_disputes)

    if arrived():
        return
    with contextlib.suppress(TimeoutError):
        await workflow.wait_condition(
            arrived,
            timeout=WITHHELD_WAIT,
            timeout_summary=f"{stage_id}: wait for the {reason} the contact was withheld for",
        )
