"""The end of a process's run in one activity (`workflows.closing` says why): the events it
received that no API call recorded are audited, and the account's open call tasks cancelled."""

from __future__ import annotations

import asyncpg
from temporalio import activity

from activities.event_audit import record_direct_in
from overdue.store import call_tasks
from workflows.closing import CloseProcessInput, CloseProcessResult


class ClosingActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def close_process(self, input: CloseProcessInput) -> CloseProcessResult:
        """Both parts in one transaction, and each idempotent (an event recorded once per id;
        only open tasks are cancelled), so a retry does nothing twice."""
        cancelled: list[int] = []
        async with self._pool.acquire() as conn, conn.transaction():
            recorded = await record_direct_in(conn, input.account_id, input.events)
            if input.cancel_reason is not None:
                cancelled = await call_tasks.cancel_open_in(
                    conn, input.account_id, input.cancel_reason
                )
        return CloseProcessResult(recorded=recorded, cancelled=len(cancelled))
