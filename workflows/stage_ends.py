"""Stage ends and the written notice, as a policy writes them; the checks a policy must pass.

A stage's message is true only for a while: "your bill is due on 12-01" is false on 12-02. A
stage may carry `until`, when it ends: a duration from the policy's anchor (`0d`: the due date's
local midnight) or `next_stage` (the time of the next stage with a later time). A pre-due stage
(negative offset) ends at the anchor unless it says otherwise; other stages never end unless
they say so. A policy may name `written_notice`, the stage (an SMS, a letter or an email) that
must precede the first call. The decision core's rules are in `workflows.stage_validity`.

Pure data and validation; no I/O.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from workflows.durations import NEXT_STAGE, duration_text
from workflows.stages import Channel, Stage, offset_label

DAY = timedelta(days=1)
Anchor = Literal["due_date", "process_start"]


def default_until(stage: Stage) -> timedelta | str | None:
    """The stage's end as written, or the default: a pre-due stage ends at the anchor."""
    if stage.until is not None:
        return stage.until
    return timedelta(0) if stage.offset < timedelta(0) else None


def nominal_time(stage: Stage, anchor: Anchor) -> timedelta:
    """Where the stage's time falls from the anchor, as written: its offset, or with `send_at`
    (due-date anchors only) the offset's day at that local time."""
    if stage.send_at is None or anchor != "due_date":
        return stage.offset
    clock = stage.send_at
    day = stage.offset // DAY
    return day * DAY + timedelta(hours=clock.hour, minutes=clock.minute, seconds=clock.second)


def next_later(stages: tuple[Stage, ...], index: int, anchor: Anchor) -> Stage | None:
    """The first stage after `stages[index]` in the list whose time is later than its own."""
    own = nominal_time(stages[index], anchor)
    return next((s for s in stages[index + 1 :] if nominal_time(s, anchor) > own), None)


def check_ends(stages: tuple[Stage, ...], anchor: Anchor) -> None:
    """Every end falls after its stage's own time, and `next_stage` has a next stage."""
    for index, stage in enumerate(stages):
        until = stage.until
        if until is None:
            continue
        own = nominal_time(stage, anchor)
        if until == NEXT_STAGE:
            if next_later(stages, index, anchor) is None:
                raise ValueError(
                    f"stage {stage.id!r}: until 'next_stage', but no later stage follows it"
                )
            continue
        assert isinstance(until, timedelta)
        if until <= own:
            at = f" at {stage.send_at:%H:%M}" if own != stage.offset else ""
            raise ValueError(
                f"stage {stage.id!r}: until {duration_text(until)} must be after the stage's own "
                f"time ({offset_label(stage.offset)}{at})"
            )


_NOTICE_KINDS = ("letter", "email")


def check_written_notice(stages: tuple[Stage, ...], notice_id: str | None) -> None:
    """The written notice is a stage that can tell the customer about the debt in writing, that
    never ends and applies to every account, and that comes before the first call stage."""
    if notice_id is None:
        return
    ids = [s.id for s in stages]
    if notice_id not in ids:
        raise ValueError(f"written_notice {notice_id!r} is not a stage id")
    notice = stages[ids.index(notice_id)]
    where = f"written_notice {notice_id!r}"
    kind = notice.kind.value if notice.kind is not None else None
    if notice.channel is not Channel.SMS and kind not in _NOTICE_KINDS:
        raise ValueError(f"{where} must be an sms stage or a notify stage of kind letter or email")
    if default_until(notice) is not None:
        raise ValueError(
            f"{where} must not end: it acts before the first call whenever that is (no "
            "'until', and not a pre-due stage)"
        )
    if notice.when.model_dump(exclude_none=True):
        raise ValueError(f"{where} must apply to every account (no 'when' conditions)")
    first_call = next((s for s in stages if s.channel is Channel.CALL_TASK), None)
    if first_call is not None and ids.index(first_call.id) < ids.index(notice_id):
        raise ValueError(f"{where} must come before the first call_task stage {first_call.id!r}")


def check_final_stage(stages: tuple[Stage, ...], final_stage: str | None) -> None:
    """The hand-over stage must not end, or an account could stay open for ever."""
    final = next((s for s in stages if s.id == final_stage), None)
    if final is not None and default_until(final) is not None:
        raise ValueError(
            f"final_stage {final.id!r} must not end (no 'until', and not a pre-due stage): "
            "the process closes only after it acts"
        )
