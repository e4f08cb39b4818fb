"""The pure decision core: what happens next for an account, and when.

No Temporal, no I/O. The workflow calls `next_step` after every timer and every event, so the
answer always comes from the current state, never from the order in which timers fired.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from workflows.policy import Policy, Stage


@dataclass(frozen=True)
class Progress:
    """What the decision needs to know about an account."""

    anchor_at: datetime
    resolved: bool
    handled: frozenset[str]  # stage ids acted on or skipped


@dataclass(frozen=True)
class Act:
    """Act on `stage` now; `skipped` are earlier stages whose time passed unacted (late start)."""

    stage: Stage
    skipped: tuple[Stage, ...]


@dataclass(frozen=True)
class WaitUntil:
    stage: Stage
    at: datetime


@dataclass(frozen=True)
class WaitForEvents:
    """Every stage is handled: only an event (a payment) can change anything now."""


@dataclass(frozen=True)
class Finished:
    """The account is resolved."""


Step = Act | WaitUntil | WaitForEvents | Finished


def anchor_time(policy: Policy, due_date: date, time_zone: str, started_at: datetime) -> datetime:
    """The instant stage offsets count from, in UTC."""
    if policy.anchor == "process_start":
        return started_at
    local_midnight = datetime.combine(due_date, time.min, tzinfo=ZoneInfo(time_zone))
    return local_midnight.astimezone(ZoneInfo("UTC"))


def stage_time(stage: Stage, anchor_at: datetime) -> datetime:
    return anchor_at + stage.offset


def next_step(policy: Policy, progress: Progress, now: datetime) -> Step:
    if progress.resolved:
        return Finished()
    pending = [stage for stage in policy.stages if stage.id not in progress.handled]
    due = [stage for stage in pending if stage_time(stage, progress.anchor_at) <= now]
    if due:
        # Catch-up: only the latest due stage acts; a late start never sends a burst.
        return Act(stage=due[-1], skipped=tuple(due[:-1]))
    if pending:
        first = pending[0]
        return WaitUntil(stage=first, at=stage_time(first, progress.anchor_at))
    return WaitForEvents()


def days_past_due(due_date: date, time_zone: str, now: datetime) -> int:
    """Whole days since the due date in the customer's calendar; 0 on or before it."""
    local_today = now.astimezone(ZoneInfo(time_zone)).date()
    return max(0, (local_today - due_date).days)


def apply_payment(balance_minor: int, amount_minor: int) -> int:
    """New balance after a payment; overpayment leaves a zero balance, never a negative one."""
    return max(0, balance_minor - amount_minor)


def contact_key(account_id: str, episode_id: str, stage_id: str, attempt: int = 1) -> str:
    """The business idempotency key of one contact: stable across retries and restarts."""
    return f"{account_id}/{episode_id}/{stage_id}/{attempt}"


def call_due_at(stage: Stage, anchor_at: datetime, now: datetime) -> datetime:
    """A call task is due at its stage time, or now if it was created late."""
    return max(stage_time(stage, anchor_at), now)


__all__ = [
    "Act",
    "Finished",
    "Progress",
    "Step",
    "WaitForEvents",
    "WaitUntil",
    "anchor_time",
    "apply_payment",
    "call_due_at",
    "contact_key",
    "days_past_due",
    "next_step",
    "stage_time",
]
