"""How the customer's state adapts the decision core: vulnerability (the policy's `vulnerable`
section) and their stated inconvenient times and refused channels.

The decision core (`workflows.decisions`) calls these from small hooks; each answers exactly
what the core answered before when the account carries none of this state, so recorded
histories replay unchanged. Pure: no Temporal, no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from workflows.plan_schedule import plan_limits
from workflows.policy import Channel, HardshipRules, PromiseRules, Stage
from workflows.preferences import earliest_convenient
from workflows.types import AccountRecord
from workflows.vulnerability import VulnerableTreatment

_REFUSABLE = {Channel.SMS: "sms", Channel.CALL_TASK: "call"}


def treatment(record: AccountRecord) -> VulnerableTreatment | None:
    """The policy's vulnerable section, when it applies to this account now."""
    return record.policy.vulnerable if record.vulnerable else None


def refused_reason(record: AccountRecord, kind: str) -> str | None:
    """Why a contact of `kind` (sms, call) is not made: the customer refused the channel, or
    the policy does not use it for vulnerable customers."""
    prefs = record.preferences
    if prefs is not None and kind in prefs.refused_channels:
        return f"customer_refused_{kind}"
    section = treatment(record)
    if section is not None and kind in section.refused_channels:
        return f"vulnerable_no_{kind}"
    return None


def customer_blocked(record: AccountRecord, stage: Stage) -> str | None:
    kind = _REFUSABLE.get(stage.channel)
    return refused_reason(record, kind) if kind is not None else None


def passed_over(record: AccountRecord, stage: Stage) -> bool:
    """Whether the vulnerable section skips this stage for the account now."""
    section = treatment(record)
    return section is not None and stage.id in section.skip_stages


def cadence_start(record: AccountRecord, kind: str | None, now: datetime) -> datetime:
    """`now`, or later while vulnerable: the section's days after the last SMS or call."""
    section = treatment(record)
    if kind is None or section is None or section.min_days_between_contacts == 0:
        return now
    made = [c.at for c in record.contacts if c.channel in ("sms", "call")]
    if not made:
        return now
    return max(now, max(made) + timedelta(days=section.min_days_between_contacts))


def convenient_at(
    record: AccountRecord,
    allowed: Callable[[datetime], datetime | None],
    *,
    kind: str | None,
    customer_facing: bool,
    now: datetime,
) -> datetime | None:
    """The earliest instant `allowed` accepts (windows, caps, ...) that also keeps the
    vulnerable cadence and, for what reaches the customer, avoids their inconvenient times."""
    start = cadence_start(record, kind, now)
    prefs = record.preferences
    if prefs is None or not customer_facing:
        return allowed(start)
    return earliest_convenient(allowed, prefs.inconvenient_times, record.time_zone, start)


def promise_rules(record: AccountRecord) -> PromiseRules:
    rules, section = record.policy.promise, treatment(record)
    if section is None:
        return rules
    return rules.model_copy(
        update={
            "max_days": _either(section.promise_max_days, rules.max_days),
            "min_percent": _either(section.promise_min_percent, rules.min_percent),
        }
    )


def plan_rules(record: AccountRecord) -> HardshipRules:
    return plan_limits(record.policy, record.vulnerable)  # shared with the plan calculator


def _either(override: int | None, default: int) -> int:
    return default if override is None else override
