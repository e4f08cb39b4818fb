"""When stages are due and what a contact is keyed by: pure time arithmetic, no I/O."""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from workflows.contact_rules import at_local, local_date
from workflows.policy import Policy, Stage


def anchor_time(policy: Policy, due_date: date, time_zone: str, started_at: datetime) -> datetime:
    """The instant stage offsets count from, in UTC."""
    if policy.anchor == "process_start":
        return started_at
    return at_local(due_date, time.min, time_zone)


def stage_time(stage: Stage, anchor_at: datetime, time_zone: str, policy: Policy) -> datetime:
    """When a stage is due: anchor + offset, at the stage's preferred local time if it has one."""
    at = anchor_at + stage.offset
    if stage.send_at is None or policy.anchor != "due_date":
        return at
    return at_local(local_date(at, time_zone), stage.send_at, time_zone)


def days_past_due(due_date: date, time_zone: str, now: datetime) -> int:
    """Whole days since the due date in the customer's calendar; 0 on or before it."""
    local_today = now.astimezone(ZoneInfo(time_zone)).date()
    return max(0, (local_today - due_date).days)


def contact_key(account_id: str, episode_id: str, stage_id: str, attempt: int = 1) -> str:
    """The business idempotency key of one contact: stable across retries and restarts."""
    return f"{account_id}/{episode_id}/{stage_id}/{attempt}"
