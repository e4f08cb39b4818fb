"""Call tasks for agents: created once per stage, cancelled when the account resolves, and
withheld when a payment arrived after the workflow decided the call (`contact_gate`)."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from overdue.store import audit, contact_gate
from overdue.store.call_tasks import CallTask, create_task
from workflows.contact_types import (
    CancelCallTasksInput,
    CancelCallTasksResult,
    CreateCallTaskInput,
    CreateCallTaskResult,
)


class CallTaskActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def create_call_task(self, input: CreateCallTaskInput) -> CreateCallTaskResult:
        async with self._pool.acquire() as conn, conn.transaction():
            unseen = await self._unseen_payments(conn, input)
            made = None if unseen else await self._create(conn, input)
            if made is None:
                await audit.record_event(
                    conn,
                    account_id=input.account_id,
                    actor="system",
                    kind="call_task.withheld",
                    details={"stage_id": input.stage_id, "unseen_payments": unseen},
                )
        if made is None:
            raise contact_gate.withheld(unseen)  # after the commit: the audit row stays
        task, created = made
        return CreateCallTaskResult(task_id=task.id, created=created)

    @staticmethod
    async def _unseen_payments(conn: asyncpg.Connection, input: CreateCallTaskInput) -> int:
        if input.basis is None:
            return 0
        # Under the API's account lock: a payment is either seen here, or reported after this
        # task exists, and the workflow it resolves then cancels the task.
        await contact_gate.lock_account(conn, input.account_id)
        if await _exists(conn, input.idempotency_key):
            return 0  # an earlier attempt created it; its answer stands
        return await contact_gate.unseen_payments(conn, input.account_id, input.basis)

    @staticmethod
    async def _create(
        conn: asyncpg.Connection, input: CreateCallTaskInput
    ) -> tuple[CallTask, bool]:
        task, created = await create_task(
            conn,
            idempotency_key=input.idempotency_key,
            account_id=input.account_id,
            stage_id=input.stage_id,
            queue=input.queue.value,
            priority=input.priority,
            due_at=input.due_at,
        )
        if created:
            # The ledger records every contact attempt, calls included.
            await conn.execute(
                """
                INSERT INTO contact_ledger
                    (idempotency_key, account_id, workflow_run_id, channel, stage_id, status)
                VALUES ($1, $2, $3, 'call_task', $4, 'task_created')
                ON CONFLICT (idempotency_key) DO NOTHING
                """,
                input.idempotency_key,
                input.account_id,
                activity.info().workflow_run_id,
                input.stage_id,
            )
            await audit.record_event(
                conn,
                account_id=input.account_id,
                actor="system",
                kind="call_task.created",
                details={
                    "task_id": task.id,
                    "stage_id": input.stage_id,
                    "queue": input.queue.value,
                    "priority": input.priority,
                },
            )
        return task, created

    @activity.defn
    async def cancel_open_call_tasks(self, input: CancelCallTasksInput) -> CancelCallTasksResult:
        async with self._pool.acquire() as conn, conn.transaction():
            cancelled = await conn.fetch(
                """
                UPDATE call_tasks
                   SET status = 'cancelled', outcome = $2, outcome_at = now(), updated_at = now()
                 WHERE account_id = $1 AND status IN ('open', 'claimed')
                RETURNING id
                """,
                input.account_id,
                input.reason,
            )
            if cancelled:
                await audit.record_event(
                    conn,
                    account_id=input.account_id,
                    actor="system",
                    kind="call_task.cancelled",
                    details={"task_ids": [r["id"] for r in cancelled], "reason": input.reason},
                )
        return CancelCallTasksResult(cancelled=len(cancelled))


async def _exists(conn: asyncpg.Connection, idempotency_key: str) -> bool:
    found = await conn.fetchval(
        "SELECT 1 FROM call_tasks WHERE idempotency_key = $1", idempotency_key
    )
    return found is not None
