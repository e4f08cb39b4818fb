"""Call tasks for agents: created once per stage, cancelled when the account resolves."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from workflows.types import (
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
            row = await conn.fetchrow(
                """
                INSERT INTO call_tasks
                    (idempotency_key, account_id, stage_id, queue, priority, due_at)
                VALUES ($1, $2, $3, $4, $5, $6)
                ON CONFLICT (idempotency_key) DO UPDATE SET updated_at = call_tasks.updated_at
                RETURNING id, (xmax = 0) AS inserted
                """,
                input.idempotency_key,
                input.account_id,
                input.stage_id,
                input.queue.value,
                input.priority,
                input.due_at,
            )
            assert row is not None
            if row["inserted"]:
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
        return CreateCallTaskResult(task_id=row["id"], created=row["inserted"])

    @activity.defn
    async def cancel_open_call_tasks(self, input: CancelCallTasksInput) -> CancelCallTasksResult:
        result = await self._pool.execute(
            """
            UPDATE call_tasks
               SET status = 'cancelled', outcome = $2, updated_at = now()
             WHERE account_id = $1 AND status IN ('open', 'claimed')
            """,
            input.account_id,
            input.reason,
        )
        return CancelCallTasksResult(cancelled=int(result.split()[-1]))
