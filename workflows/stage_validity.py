"""Stage validity at decision time: stages that ended are passed over, and the written notice
goes before the first call. The decision core (`workflows.decisions`) asks these; how a policy
writes them, and the checks it must pass, are in `workflows.stage_ends`.

- **Ends.** A due stage whose end (`until`, or the default: a pre-due stage ends at the anchor)
  has come is passed over as expired: recorded with the skipped stages and noted "expired",
  never acted, whether the process started late, caught up after an outage, or came back from
  a pause, a dispute or a promise. A stage deferred by contact hours or caps is looked at again
  at its end, so a later stage never waits behind one that can no longer act.
- **Written notice.** The policy's `written_notice` is never skipped by catch-up while it has
  not been sent: a late start begins there. When a call stage would act and the notice has not
  been sent in this episode, the notice acts first (even if it was passed over before). If its
  channel is closed (SMS opted out, a cease, a wrong number) or it was refused, the call stage
  is suppressed instead (`no_written_notice: <why>`): sending the notice would break the
  customer's opt-out, and calling without it would break the policy's own rule, so the only
  lawful choice is no call until a notice can go (an opt-in again, or a letter stage named as
  the notice). Other stages carry on. The call task standing in for an SMS the number cannot
  receive (workflows/contact_attempt.py) is held back the same way
  (`call_allowed_before_notice`).

Pure: no Temporal, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, time, timedelta

from workflows.contact_rules import at_local, local_date
from workflows.durations import NEXT_STAGE
from workflows.policy import Channel, Policy, Stage
from workflows.stage_ends import DAY, default_until
from workflows.types import AccountRecord

EXPIRED = "expired"


def from_anchor(policy: Policy, anchor_at: datetime, time_zone: str, delta: timedelta) -> datetime:
    """`delta` after the anchor; whole days on the customer's calendar for a due-date anchor
    ('5d' is local midnight five days after the due date, across a DST change too)."""
    if policy.anchor != "due_date":
        return anchor_at + delta
    days = delta // DAY
    day = local_date(anchor_at, time_zone) + timedelta(days=days)
    return at_local(day, time.min, time_zone) + (delta - days * DAY)


def stage_end(
    record: AccountRecord, stage: Stage, times: Mapping[str, datetime]
) -> datetime | None:
    """When `stage` ends (it never acts at or after it); None: it never ends. `times` holds
    every stage's time."""
    policy = record.policy
    until = default_until(stage)
    if until is None:
        return None
    if until == NEXT_STAGE:
        index = [s.id for s in policy.stages].index(stage.id)
        own = times[stage.id]
        later = (times[s.id] for s in policy.stages[index + 1 :] if times[s.id] > own)
        return next(later, None)
    assert isinstance(until, timedelta)
    return from_anchor(policy, record.anchor_at, record.time_zone, until)


def expired(
    record: AccountRecord, due: list[Stage], times: Mapping[str, datetime], now: datetime
) -> tuple[Stage, ...]:
    """The due stages whose end has come."""
    ended = []
    for stage in due:
        end = stage_end(record, stage, times)
        if end is not None and now >= end:
            ended.append(stage)
    return tuple(ended)


def wake_by_end(
    record: AccountRecord, stage: Stage, times: Mapping[str, datetime], at: datetime
) -> datetime:
    """A stage deferred to `at` is looked at again by its end, when it is passed over."""
    end = stage_end(record, stage, times)
    return at if end is None else min(at, end)


def written_notice(policy: Policy) -> Stage | None:
    return next((s for s in policy.stages if s.id == policy.written_notice), None)


def notice_sent(record: AccountRecord) -> bool:
    return record.written_notice_at is not None


def unskippable(record: AccountRecord) -> str | None:
    """The stage catch-up must not skip: the written notice, until it is sent."""
    if record.policy.written_notice is None or notice_sent(record):
        return None
    return record.policy.written_notice


def notice_owed(record: AccountRecord, stage: Stage) -> Stage | None:
    """The written notice to send before `stage` acts, if `stage` is a call and it is unsent."""
    if stage.channel is not Channel.CALL_TASK or notice_sent(record):
        return None
    return written_notice(record.policy)


def call_allowed_before_notice(record: AccountRecord) -> bool:
    """Whether any call may go now as far as the written notice is concerned: the policy names
    none, or it was sent. (The call task standing in for an SMS the number cannot receive asks
    this; policies from before `written_notice` never hold it back.)"""
    return record.policy.written_notice is None or notice_sent(record)


def notice_refused(record: AccountRecord, notice: Stage) -> bool:
    """The notice was tried in this episode and is done with, yet not sent (the provider or the
    backend refused it): trying again would be refused again. (A withheld attempt leaves the
    stage open: it is decided again.)"""
    return notice.id in record.handled and record.attempts.get(notice.id, 0) > 0


def reopen(record: AccountRecord, stage: Stage) -> None:
    """A stage acts that was passed over before: only the written notice, ahead of a call.
    It is open again (a withheld attempt is decided again) and no longer shows as passed over.
    Any other stage that acts is pending, and this changes nothing."""
    if stage.id not in record.handled:
        return
    record.handled.remove(stage.id)
    record.skipped = [s for s in record.skipped if s != stage.id]
    record.suppressed = [s for s in record.suppressed if s != stage.id]
    record.note(f"{stage.id}: the written notice acts before the first call")


def no_notice_reason(why: str) -> str:
    return f"no_written_notice: {why}"


def note_expired(record: AccountRecord, stage: Stage) -> None:
    record.skipped.append(stage.id)
    record.note(f"{stage.id} {EXPIRED}")
