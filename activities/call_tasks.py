"""Call tasks for agents: created once per stage, cancelled when the account resolves, and
withheld when a payment, a cease-contact request (unless the policy allows calls after one) or
a dispute arrived after the workflow decided the call (`contact_gate`).

A task is a contact like an SMS: its ledger row is written first, and the pre-send check
creates the task in its own transaction, under the account's lock, so a payment being
reported either is seen there or finds the task (and the workflow it resolves cancels it).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from overdue.store import call_tasks, contact_gate, contact_ledger, receipts
from overdue.store.call_tasks import CallTask
from overdue.store.contact_ledger import LedgerRow, NewContact
from workflows.contact_types import (
    CancelCallTasksInput,
    CancelCallTasksResult,
    CreateCallTaskInput,
    CreateCallTaskResult,
)

KEY_CONFLICT = "IdempotencyKeyConflict"  # non-retryable


class CallTaskActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def create_call_task(self, input: CreateCallTaskInput) -> CreateCallTaskResult:
        new = NewContact(
            idempotency_key=input.idempotency_key,
            account_id=input.account_id,
            channel="call_task",
            stage_id=input.stage_id,
            workflow_run_id=activity.info().workflow_run_id,
        )
        try:
            row = await contact_ledger.create_or_get(self._pool, new)
        except contact_ledger.KeyTaken as err:
            raise ApplicationError(str(err), type=KEY_CONFLICT, non_retryable=True) from None
        making = _TaskToMake(input)
        await contact_gate.clear_to_send(self._pool, row, input.basis, then=making)
        if making.made is not None:
            task, created = making.made
            return CreateCallTaskResult(task_id=task.id, created=created)
        # An earlier attempt created it; its answer stands.
        existing = await call_tasks.by_key(self._pool, input.idempotency_key)
        assert existing is not None, "a ledger row past pending has its task"
        return CreateCallTaskResult(task_id=existing.id, created=False)

    @activity.defn
    async def cancel_open_call_tasks(self, input: CancelCallTasksInput) -> CancelCallTasksResult:
        cancelled = await call_tasks.cancel_open(self._pool, input.account_id, input.reason)
        return CancelCallTasksResult(cancelled=len(cancelled))


@dataclass
class _TaskToMake:
    """The contact itself, made inside the pre-send check once it clears."""

    input: CreateCallTaskInput
    made: tuple[CallTask, bool] | None = None

    async def __call__(self, conn: asyncpg.Connection, row: LedgerRow) -> None:
        self.made = await call_tasks.for_contact(
            conn,
            row,
            queue=self.input.queue.value,
            priority=self.input.priority,
            due_at=self.input.due_at,
        )
        if self.made[1]:
            # The task is the contact: its receipt commits with it, or neither does.
            await receipts.write_receipt(
                conn,
                receipts.from_facts(
                    contact_key=self.input.idempotency_key,
                    account_id=self.input.account_id,
                    channel="call_task",
                    stage_id=self.input.stage_id,
                    facts=self.input.facts,
                ),
            )
