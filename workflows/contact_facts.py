"""The facts of a contact's decision, for its compliance receipt.

The workflow knows what Postgres does not: the policy and its version, the window and caps it
applied, the dispute, cease-contact, opt-out and vulnerability state it decided on. Each contact
activity's input carries them (`facts`), and the activity writes them into the contact's
receipt in the transaction that makes the contact (overdue/store/receipts.py). Built here, in
one place, for every contact `contact_attempt` makes. Pure: reads the record and workflow time.
"""

from __future__ import annotations

from temporalio import workflow

from workflows.contact_types import ContactBasis, ContactFacts
from workflows.decisions import channel_rules
from workflows.policy import ContactWindow
from workflows.types import AccountRecord


def facts_for(
    record: AccountRecord, stage_id: str, basis: ContactBasis | None = None
) -> ContactFacts:
    """The facts of the contact `contact_attempt` makes now for `stage_id`: a policy stage's
    (its channel's window, as the decision core applies it), an instalment reminder's (the
    SMS window), a fallback call task's (the window of the SMS it stands in for) or a
    requested task's (no window: it is worked when an agent claims it, inside the window)."""
    stage = next((s for s in record.policy.stages if s.id == stage_id), None)
    if basis is None:
        basis = "stage" if stage is not None else "instalment"
    window: ContactWindow | None
    if basis == "requested":
        window = None
    elif stage is not None:
        _, window = channel_rules(record, stage)
    else:
        window = record.policy.window_for(record.jurisdiction)
    return contact_facts(record, basis, window)


def contact_facts(
    record: AccountRecord, basis: ContactBasis, window: ContactWindow | None
) -> ContactFacts:
    """The facts of a contact decided now; `window` the one the decision applied (None: the
    contact has no time-of-day rule, e.g. an internal notice or a task asked for by an event)."""
    policy = record.policy
    caps = policy.caps
    return ContactFacts(
        basis=basis,
        decided_at=workflow.now(),
        policy_id=policy.id,
        policy_version=policy.version,
        jurisdiction=record.jurisdiction,
        time_zone=record.time_zone,
        window_start=window.start if window else None,
        window_end=window.end if window else None,
        sms_per_day=caps.sms_per_day,
        sms_per_week=caps.sms_per_week,
        calls_per_day=caps.calls_per_day,
        calls_per_7_days=caps.calls_per_7_days,
        sms_opted_out=record.sms_opted_out,
        contact_ceased=record.contact_ceased,
        open_disputes=len(record.open_disputes),
        vulnerable=record.vulnerable,
    )
