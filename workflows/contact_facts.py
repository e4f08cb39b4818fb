"""The facts of a contact's decision, for its compliance receipt.

The workflow knows what Postgres does not: the policy and its version, the window and caps it
applied, the dispute, cease-contact, opt-out and vulnerability state it decided on. Each contact
activity's input carries them (`facts`), and the activity writes them into the contact's
receipt in the transaction that makes the contact (overdue/store/receipts.py). Built here, in
one place, for every contact `contact_attempt` makes. Pure: reads the record and workflow time.
"""

from __future__ import annotations

from datetime import datetime

from temporalio import workflow

from workflows import consent_rules
from workflows.calendars import ChannelCalendar, RestDayChannel, rest_day
from workflows.contact_rules import local_date
from workflows.contact_types import ContactBasis, ContactFacts
from workflows.decisions import channel_rules
from workflows.policy import Channel, ContactWindow
from workflows.rest_days import contact_calendar
from workflows.types import AccountRecord

_REST_DAY_CHANNEL: dict[Channel, RestDayChannel] = {
    Channel.SMS: "sms",
    Channel.CALL_TASK: "call",
    Channel.NOTIFY: "notify",
}


def facts_for(
    record: AccountRecord,
    stage_id: str,
    basis: ContactBasis | None = None,
    *,
    now: datetime | None = None,
) -> ContactFacts:
    """The facts of the contact `contact_attempt` makes now for `stage_id`: a policy stage's
    (its channel's window, as the decision core applies it), an instalment reminder's (the
    SMS window), a fallback call task's (the window of the SMS it stands in for) or a
    requested task's (no window: it is worked when an agent claims it, inside the window).
    `now`: the workflow's time unless given (tests of the pure rules)."""
    stage = next((s for s in record.policy.stages if s.id == stage_id), None)
    if basis is None:
        basis = "stage" if stage is not None else "instalment"
    window: ContactWindow | None = None
    channel: RestDayChannel = "call" if basis == "fallback" else "sms"
    if basis == "requested":
        pass
    elif stage is not None:
        _, window = channel_rules(record, stage)
        channel = _REST_DAY_CHANNEL[stage.channel]
    else:
        window = record.policy.window_for(record.jurisdiction)
    calendar = contact_calendar(record, channel) if window is not None else None
    facts = contact_facts(record, basis, now or workflow.now(), window, calendar)
    consent_channel = None if basis == "requested" else "call" if basis == "fallback" else "sms"
    if stage is not None and basis == "stage":
        consent_channel = consent_rules.channel_of(stage)
    consent = consent_rules.basis_of(record, consent_channel)
    return facts if consent is None else facts.model_copy(update={"consent": consent})


def contact_facts(
    record: AccountRecord,
    basis: ContactBasis,
    now: datetime,
    window: ContactWindow | None,
    calendar: ChannelCalendar | None = None,
) -> ContactFacts:
    """The facts of a contact decided at `now`; `window` the one the decision applied (None: the
    contact has no time-of-day rule, e.g. an internal notice or a task asked for by an event)
    and `calendar` the channel's rest-day calendar (None: none), which on a rest day replaces
    the window with the channel's rest-day hours."""
    policy = record.policy
    caps = policy.caps
    hours = (window.start, window.end) if window else None
    rule: str | None = None
    if window is not None and calendar is not None:
        day = local_date(now, record.time_zone)
        where = f"{day.isoformat()} in {record.jurisdiction.upper()}"
        if rest_day(calendar.calendar, day):
            hours = calendar.hours_on(day, window.start, window.end) or hours
            rule = f"rest day {where}, {calendar.channel} on rest days: {calendar.rule_text()}"
        else:
            rule = f"working day {where}"
    return ContactFacts(
        basis=basis,
        decided_at=now,
        policy_id=policy.id,
        policy_version=policy.version,
        jurisdiction=record.jurisdiction,
        time_zone=record.time_zone,
        window_start=hours[0] if hours else None,
        window_end=hours[1] if hours else None,
        calendar_rule=rule,
        sms_per_day=caps.sms_per_day,
        sms_per_week=caps.sms_per_week,
        calls_per_day=caps.calls_per_day,
        calls_per_7_days=caps.calls_per_7_days,
        sms_opted_out=record.sms_opted_out,
        contact_ceased=record.contact_ceased,
        open_disputes=len(record.open_disputes),
        vulnerable=record.vulnerable,
    )
