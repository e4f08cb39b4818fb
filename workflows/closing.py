"""How a process ends its run: the events it received still to be audited and the call tasks
still open, handed to ONE activity (`close_process`) instead of two in a row.

Release closing-2026-12 (`workflows/patches.py`, CLOSING_2026_12): when an event finishes the
account (a payment in full, most often), the audit of that event and the cancellation of the
account's open call tasks used to be two activities one after the other (the audit in the run
loop's chores, then `cancel_open_call_tasks` at the end): two billed actions and two round
trips between the payment and the process's end. Now the chores leave the audit of a finished
account to the end, and the end does both at once. Processes started before the release keep
their two activities, as their histories say.

Release local-close-2026-12 runs that one activity as a local activity (`close_process`
below): same work, same count of billed actions, one round trip and one workflow task fewer.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.call_tasks import CallTaskActivities
    from workflows.acting import closing_reason
    from workflows.contact_attempt import ACTIVITY_RETRY, ACTIVITY_TIMEOUT
    from workflows.contact_types import CancelCallTasksInput
    from workflows.event_audit import ReceivedEvent
    from workflows.patches import CLOSING_2026_12, LOCAL_CLOSE_2026_12
    from workflows.received_events import ReceivedEvents
    from workflows.types import AccountRecord
    from workflows.waiting import NextActionTimer


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CloseProcessInput(_Model):
    account_id: str
    events: list[ReceivedEvent] = Field(description="Events new to the process, to audit.")
    cancel_reason: str | None = Field(
        description="Why the open call tasks are cancelled; None: the process never asked for "
        "one, so none can be open."
    )


class CloseProcessResult(_Model):
    recorded: int = Field(
        description="Events with no record yet (that reached us without the API)."
    )
    cancelled: int = Field(description="Open call tasks cancelled.")


async def close_process(
    account_id: str, events: list[ReceivedEvent], reason: str | None, release: int
) -> None:
    """One activity (named, as `activities.closing` imports this module's types) for what the
    end has left to do; none when nothing is.

    From local-close-2026-12 it is a local activity: the worker runs it inside the workflow
    task that finished the account, and the process ends in that same task, where a scheduled
    activity took a round trip through the server and a second workflow task (about half of a
    payment's time until resolved; docs/benchmarks.md, "Latency"). Both of its parts are
    idempotent, so the local activity's re-run after a lost workflow task does each once."""
    if not events and reason is None:
        return
    what = [f"{e.kind} {e.event_id}" for e in events] + ([reason] if reason else [])
    closing = CloseProcessInput(account_id=account_id, events=events, cancel_reason=reason)
    summary = ("Close: " + ", ".join(what))[:200]
    run: Callable[..., Awaitable[Any]] = (
        workflow.execute_local_activity
        if release >= LOCAL_CLOSE_2026_12
        else workflow.execute_activity
    )
    await run(
        "close_process",
        closing,
        result_type=CloseProcessResult,
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=ACTIVITY_RETRY,
        summary=summary,
    )


async def cancel_open_tasks(account_id: str, reason: str) -> None:
    """The account's open call tasks cancelled (contact stopped, or an older release's end)."""
    await workflow.execute_activity_method(
        CallTaskActivities.cancel_open_call_tasks,
        CancelCallTasksInput(account_id=account_id, reason=reason),
        start_to_close_timeout=ACTIVITY_TIMEOUT,
        retry_policy=ACTIVITY_RETRY,
        summary=f"Cancel open call tasks: {reason}",
    )


async def close_at_once(
    record: AccountRecord, received: ReceivedEvents, timer: NextActionTimer, release: int
) -> None:
    """From closing-2026-12: once every handler is done, one activity for both."""
    if release < CLOSING_2026_12:
        return
    timer.stop()
    await workflow.wait_condition(workflow.all_handlers_finished)
    reason = closing_reason(record) if record.call_tasks_asked else None
    await close_process(record.account_id, received.take(), reason, release)


async def cancel_at_end(record: AccountRecord, release: int, *, on_change: bool) -> None:
    """Before closing-2026-12: the cancel after the audit, on its own (from cost-2026-12, the
    search attributes `on_change`, only where a call task was asked for)."""
    if release < CLOSING_2026_12 and (record.call_tasks_asked or not on_change):
        await cancel_open_tasks(record.account_id, closing_reason(record))
