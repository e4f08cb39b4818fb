"""Delivering what the API recorded to the account's workflow, after the commit.

The API writes its intent first (a reported event with the signal it becomes, a bill with the
workflow input a start would take), commits, and only then calls Temporal, so a slow or
stopped Temporal never holds a database connection or the account's lock. Each delivery here
is idempotent: a signal is deduplicated by its event or bill id in the workflow, and a start
that finds the process running signals the bill instead. The request path and the relay
(`api.relay`) call the same functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from temporalio.client import Client
from temporalio.common import (
    WorkflowIDConflictPolicy,
)
from temporalio.exceptions import WorkflowAlreadyStartedError

from api import workflow_messages as messages
from api.workflow_calls import ProcessNotRunning, account_handle, to_running
from overdue.store import policy_versions, reported_events
from overdue.store.audit import record_event
from overdue.store.bills import PendingBill, mark_bill_delivered
from overdue.store.reported_events import Undelivered
from overdue.store.transactions import Db, transaction
from workflows.currencies import format_minor
from workflows.names import OVERDUE_TASK_QUEUE, workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.publishing import start_attributes
from workflows.types import OverdueAccountInput


async def deliver_event(db: Db, temporal: Client, event: Undelivered) -> None:
    """Signal a recorded event, then mark it delivered (writing its audit row).

    Raises ProcessNotRunning when the account has no running process: the event, if still
    undelivered, is forgotten, as a refused request leaves no trace. RPC errors (Temporal
    down) propagate; the event stays recorded for the relay.
    """
    handle = account_handle(temporal, event.account_id)
    try:
        await to_running(lambda: handle.signal(event.intent.signal_name, event.intent.payload))
    except ProcessNotRunning:
        await reported_events.forget_undelivered(
            db, account_id=event.account_id, kind=event.kind, event_id=event.event_id
        )
        raise
    async with transaction(db) as conn:
        await reported_events.mark_delivered(
            conn, account_id=event.account_id, kind=event.kind, event_id=event.event_id
        )


@dataclass(frozen=True)
class BillDelivered:
    run_id: str | None
    started: bool  # a new process; False: the bill was signalled to the running one


async def _start_input(db: Db, pending: PendingBill) -> OverdueAccountInput:
    """The stored start input; a policy it names by digest is read onto the shelf first (a
    relay process may not have started anything on that version yet)."""
    ref = pending.start_input.get("policy_ref")
    if isinstance(ref, dict) and "policy" not in pending.start_input:
        async with transaction(db) as conn:
            await policy_versions.shelve_stored(conn, [str(ref.get("digest"))])
    return OverdueAccountInput.model_validate(pending.start_input)


async def deliver_bill(db: Db, temporal: Client, pending: PendingBill) -> BillDelivered:
    """Start the account's process with the stored input, or signal the bill to the running
    one; then mark the bill delivered and audit it (`process.started` / `bill.added`)."""
    input = await _start_input(db, pending)
    bill = pending.bill
    try:
        delivered = BillDelivered(await _start(temporal, input), started=True)
    except WorkflowAlreadyStartedError as err:
        await account_handle(temporal, bill.account_id).signal(
            OverdueAccountWorkflow.report_overdue_amount,
            messages.new_bill(bill, input.itemization),
        )
        delivered = BillDelivered(err.run_id, started=False)
    async with transaction(db) as conn:
        # A start always gets its audit line (a repeated report of a bill whose process ended
        # starts a new one); a signalled bill only the first time it is delivered.
        marked = await mark_bill_delivered(conn, bill.account_id, bill.bill_id)
        if marked or delivered.started:
            await record_event(
                conn,
                account_id=bill.account_id,
                actor=pending.actor,
                kind="process.started" if delivered.started else "bill.added",
                details=_bill_details(pending),
            )
    return delivered


def _bill_details(pending: PendingBill) -> dict[str, Any]:
    bill = pending.bill
    return {
        "bill_id": bill.bill_id,
        "amount_minor": bill.amount_minor,
        "currency": bill.currency,
        "due_date": bill.due_date.isoformat(),
    }


async def _start(temporal: Client, input: OverdueAccountInput) -> str | None:
    policy = input.policy
    handle = await temporal.start_workflow(
        OverdueAccountWorkflow.run,
        input,
        id=workflow_id(input.account_id),
        task_queue=OVERDUE_TASK_QUEUE,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
        search_attributes=start_attributes(input),
        static_summary=(
            f"Overdue {input.product}: {format_minor(input.amount_due_minor, input.currency)} "
            f"{input.currency} due {input.due_date.isoformat()}; policy "
            f"{policy.id} v{policy.version}"
        ),
    )
    return handle.result_run_id
