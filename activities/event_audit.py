"""Recording events that reached a workflow without the API (see `workflows.event_audit`)."""

from __future__ import annotations

import logging

import asyncpg
from temporalio import activity

from overdue.store.reported_events import record_once
from workflows.event_audit import (
    DIRECT_ACTOR,
    ReceivedEvent,
    RecordEventsInput,
    RecordEventsResult,
)

logger = logging.getLogger(__name__)


class EventAuditActivities:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self._pool = pool

    @activity.defn
    async def record_received_events(self, input: RecordEventsInput) -> RecordEventsResult:
        """Record each event once per (account, kind, id), with its audit row: an event the
        API recorded is left alone (a report still in the API's transaction is waited for, as
        its key is taken). Idempotent, so a retry records nothing twice."""
        recorded = await record_direct(self._pool, input.account_id, input.events)
        return RecordEventsResult(recorded=recorded)


async def record_direct(pool: asyncpg.Pool, account_id: str, events: list[ReceivedEvent]) -> int:
    """Record the events no API call recorded (actor `temporal-direct`); how many those were."""
    async with pool.acquire() as conn, conn.transaction():
        return await record_direct_in(conn, account_id, events)


async def record_direct_in(
    conn: asyncpg.Connection, account_id: str, events: list[ReceivedEvent]
) -> int:
    """`record_direct` in the caller's transaction (the closing activity's single one)."""
    recorded = 0
    for event in events:
        recorded += await record_once(
            conn,
            account_id=account_id,
            kind=event.kind,
            event_id=event.event_id,
            actor=DIRECT_ACTOR,
            details=event.details,
        )
    if recorded:
        logger.warning(
            "%d event(s) reached the process without the API; recorded", recorded,
            extra={"account_id": account_id},
        )  # fmt: skip
    return recorded
