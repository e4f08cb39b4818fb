"""Dial attempts in the console: record one (checked against the window and the call caps at
that instant) and what the task page shows about them.

The route (`POST /console/tasks/{id}/dials`) is in `task_pages`; this module holds the steps
so the page module stays a list of routes.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg

from api.console.calling_hours import dial_check
from api.console.i18n import N_, Translator
from overdue.store import dial_attempts, receipts
from overdue.store.accounts import customer_reach
from overdue.store.call_tasks import CallTask
from overdue.store.dial_attempts import RecordedDial
from workflows.customer_state import PreferencesState
from workflows.dial_caps import DialAttempt, DialCheck, DialOutcome, DialRefusal
from workflows.policy import Policy

# The outcomes in the form's order: the common ones first.
OUTCOMES = tuple(DialOutcome)
# Refusals the page already explains with the calling hours (local time, workable from).
_SHOWN_WITH_HOURS = frozenset({DialRefusal.OUTSIDE_WINDOW, DialRefusal.UNKNOWN_TIME_ZONE})

# Why a dial is refused, in words; `until` is when it is allowed again (the customer's time).
REFUSALS: dict[DialRefusal, str] = {
    DialRefusal.UNKNOWN_TIME_ZONE: N_(
        "The customer's time zone is unknown: no dial can be recorded."
    ),
    DialRefusal.NO_CALLS: N_("The policy allows no calls: no dial can be recorded."),
    DialRefusal.QUIET_PERIOD: N_(
        "The customer was spoken to recently (quiet period): no dial until %(until)s."
    ),
    DialRefusal.DAILY_CAP: N_(
        "Today's unanswered attempts to this number are used up: no dial until %(until)s."
    ),
    DialRefusal.WEEKLY_CAP: N_(
        "The attempts allowed to this number in 7 days are used up: no dial until %(until)s."
    ),
    DialRefusal.OUTSIDE_WINDOW: N_(
        "Outside the customer's calling hours: no dial until %(until)s."
    ),
    DialRefusal.CALLS_REFUSED: N_("The customer asked not to be called: no dial can be recorded."),
    DialRefusal.INCONVENIENT_TIME: N_(
        "The customer said this time is inconvenient: no dial until %(until)s."
    ),
}


class NoNumber(Exception):
    """The task's customer has no phone number on record: nothing to dial."""


def parse_outcome(form: Mapping[str, object]) -> DialOutcome | None:
    value = form.get("outcome")
    try:
        return DialOutcome(value) if isinstance(value, str) else None
    except ValueError:
        return None


async def record_dial(
    pool: asyncpg.Pool,
    policy: Policy,
    task: CallTask,
    agent_id: str,
    outcome: DialOutcome,
    now: datetime,
    preferences: PreferencesState | None = None,
) -> tuple[RecordedDial, DialCheck]:
    """Record the agent's dial for `task` at `now`; `DialRefused` when the window or the caps
    forbid it, `dial_attempts.NotHeld` when the agent no longer holds the task.

    One transaction: the customer's number and zone, the number's lock and counts, the check,
    the attempt and its audit line (a compliance receipt can join it here)."""
    async with pool.acquire() as conn, conn.transaction():
        phone, time_zone = await customer_reach(conn, task.account_id)
        if phone is None:
            raise NoNumber(task.account_id)

        def check(history: Sequence[DialAttempt], at: datetime) -> DialCheck:
            return dial_check(policy, phone, time_zone, history, at, preferences)

        recorded, checked = await dial_attempts.record(
            conn,
            task_id=task.id,
            agent_id=agent_id,
            outcome=outcome,
            phone_e164=phone,
            now=now,
            check=check,
        )
        receipt = dial_receipt(policy, task, recorded, checked)
        await receipts.write_receipt(conn, receipt, at=recorded.dialled_at)
        return recorded, checked


def dial_receipt(
    policy: Policy, task: CallTask, recorded: RecordedDial, checked: DialCheck
) -> receipts.Receipt:
    """The compliance receipt of one dial: the hours that held that day (the rest-day hours on
    a rest day), the caps, the policy. Its counts are the dial attempts' (the audit recounts)."""
    start, end = checked.day_hours or (checked.window_start, checked.window_end)
    caps = policy.caps
    return receipts.Receipt(
        contact_key=receipts.dial_key(recorded.id),
        account_id=task.account_id,
        channel="dial",
        stage_id=task.stage_id,
        basis="agent",
        time_zone=recorded.time_zone,
        jurisdiction=checked.jurisdiction,
        window_start=start,
        window_end=end,
        calendar_rule="rest day" if checked.rest_day else None,
        caps=receipts.CapsInForce(
            caps.sms_per_day, caps.sms_per_week, caps.calls_per_day, caps.calls_per_7_days
        ),
        policy_id=policy.id,
        policy_version=policy.version,
    )


async def current_check(
    pool: asyncpg.Pool,
    policy: Policy,
    task: CallTask,
    now: datetime,
    preferences: PreferencesState | None = None,
) -> DialCheck | None:
    """Whether a dial would be allowed now (None: the customer has no number)."""
    phone, time_zone = await customer_reach(pool, task.account_id)
    if phone is None:
        return None
    ref = dial_attempts.number_ref(phone)
    history = (await dial_attempts.histories(pool, [ref], now))[ref]
    return dial_check(policy, phone, time_zone, history, now, preferences)


def local_text(moment: datetime, time_zone: str | None) -> str:
    """A moment in the customer's zone, as the page shows local times."""
    if time_zone is None:
        return f"{moment:%Y-%m-%d %H:%M} UTC"
    return f"{moment.astimezone(ZoneInfo(time_zone)):%Y-%m-%d %H:%M} ({time_zone})"


def refusal_text(t: Translator, check: DialCheck) -> str:
    """Why a dial is refused now and from when it is allowed, in the agent's language."""
    assert check.refusal is not None
    if check.workable_from is None:
        until = t.gettext("no date (the policy allows no calls)")
    else:
        until = local_text(check.workable_from, check.time_zone)
    return t.gettext(REFUSALS[check.refusal], until=until)


def cap_refusal(t: Translator, check: DialCheck | None) -> str:
    """The page's notice when a cap (not the calling hours, shown already) forbids a dial."""
    if check is None or check.refusal is None or check.refusal in _SHOWN_WITH_HOURS:
        return ""
    return refusal_text(t, check)


@dataclass(frozen=True)
class DialRow:
    """One attempt as the task page lists it: the customer's local time, the outcome's key."""

    local_text: str
    agent_id: str
    outcome: DialOutcome


def rows(recorded: Sequence[RecordedDial]) -> list[DialRow]:
    return [
        DialRow(f"{r.local_at:%Y-%m-%d %H:%M} ({r.time_zone})", r.agent_id, r.outcome)
        for r in recorded
    ]
