"""The account's status as its query answers it: a view of the record, pure."""

from __future__ import annotations

from datetime import datetime

from workflows.consent_rules import required_channels
from workflows.decisions import days_past_due
from workflows.types import AccountRecord, AccountState, AccountStatus, NextAction, Parked


def stages_done(record: AccountRecord) -> list[str]:
    return [s for s in record.handled if record.attempts.get(s)]


def account_status(
    record: AccountRecord, now: datetime, next_action: NextAction | None, parked: Parked | None
) -> AccountStatus:
    try:
        days = days_past_due(record.due_date, record.time_zone, now)
    except (OverflowError, ValueError):
        # Only a parked process can hold such a date (the API bounds them): its status must
        # still answer, so ops see why it is parked.
        days = 0
    return AccountStatus(
        account_id=record.account_id,
        state=AccountState.PARKED if parked else record.state,
        stage=record.last_stage,
        balance_minor=record.balance_minor,
        currency=record.currency,
        due_date=record.due_date,
        time_zone=record.time_zone,
        days_past_due=days,
        as_of=now,
        next_action=next_action,
        stages_done=stages_done(record),
        stages_skipped=list(record.skipped),
        stages_suppressed=list(record.suppressed),
        promise=record.promise,
        plan=record.plan,
        pause=record.pause,
        open_disputes=list(record.open_disputes),
        escalated=record.escalated,
        sms_opted_out=record.sms_opted_out,
        contact_ceased=record.contact_ceased,
        vulnerable=record.vulnerable,
        vulnerability=record.vulnerability,
        preferences=record.preferences,
        revocation=record.revocation.pending if record.revocation else None,
        consents=dict(record.consents),
        consent_required=list(required_channels(record.policy, record.jurisdiction)),
        recent_contacts=list(reversed(record.contacts[-10:])),
        itemization=record.itemization,
        forbearance=record.forbearance,
        reviews=list(record.reviews),
        notes=list(reversed(record.history[-10:])),
        policy_id=record.policy.id,
        policy_version=record.policy.version,
        parked=parked,
    )
