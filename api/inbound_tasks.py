"""A call task for an agent from an inbound SMS, one per account of the number, audited: the
ordinary reply (api/webhooks.py) and the free-text request to stop SMS
(api/revocation_requests.py) both open theirs here."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import asyncpg

from overdue.store import audit
from overdue.store.call_tasks import CallTask, create_task


async def open_reply_task(
    conn: asyncpg.Connection,
    *,
    key: str,
    account_id: str,
    stage_id: str,
    queue: str,
    priority: int,
    inbound_id: int,
    message_sid: str,
    audit_kind: str,
    **details: Any,
) -> CallTask:
    """The task `key` (idempotent: a redelivery finds it) and its audit row, which names the
    message and the task, then `details`."""
    task, _ = await create_task(
        conn,
        idempotency_key=key,
        account_id=account_id,
        stage_id=stage_id,
        queue=queue,
        priority=priority,
        due_at=datetime.now(UTC),
        inbound_message_id=inbound_id,
    )
    await audit.record_event(
        conn,
        account_id=account_id,
        actor="customer",
        kind=audit_kind,
        details={"message_sid": message_sid, "task_id": task.id, **details},
    )
    return task


async def note_unmatched(conn: asyncpg.Connection, message_sid: str, **details: Any) -> None:
    """A message from a number no account has: audited, nothing else to do."""
    await audit.record_event(
        conn,
        account_id=None,
        actor="customer",
        kind="sms.reply_unmatched",
        details={"message_sid": message_sid, **details},
    )
