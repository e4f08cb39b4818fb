"""Call tasks for agents: created once per key, claimed atomically, completed or released.

`claim_next` is the console's "next task" button: one query with `FOR UPDATE SKIP LOCKED`, so
agents of one queue never get the same task and never wait on each other's claims. Each change
is appended to the audit trail in the same transaction. `queue_counts` is what `overdue tasks`
prints and the worker's metrics export. `for_contact` and `cancel_open` are the workflow's
side: a stage's task (behind the pre-send check) and the cancellation when the account resolves.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime

import asyncpg
from pydantic import BaseModel, ConfigDict

from overdue.store import audit, dial_attempts
from overdue.store.contact_ledger import LedgerRow, Settled, settle
from workflows.dial_caps import DialAttempt
from workflows.policy import CallQueue

_COLUMNS = """
    id, account_id, stage_id, queue, priority, due_at, status, claimed_by, claimed_at,
    outcome, outcome_at, inbound_message_id, created_at
"""


class CallTask(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: int
    account_id: str
    stage_id: str
    queue: str
    priority: int
    due_at: datetime
    status: str  # open, claimed, done, cancelled
    claimed_by: str | None
    claimed_at: datetime | None
    outcome: str | None
    outcome_at: datetime | None
    inbound_message_id: int | None  # set for a free-text SMS reply to answer
    created_at: datetime


class CallTaskConflict(Exception):
    """The task is not in a state that allows this (wrong agent, already done, unknown)."""


# Whether the customer may be called now, from their phone (its country picks the policy's
# window), time zone and the number's recorded dial attempts (the caps); the caller owns the
# policy, the store only asks.
Workable = Callable[[str | None, str | None, Sequence[DialAttempt]], bool]
# Candidates examined per claim: enough to pass over a night-time zone's backlog, small enough
# that the rows locked for the length of one short transaction stay few.
CLAIM_BATCH = 200


def _task(row: asyncpg.Record) -> CallTask:
    return CallTask(**dict(row))


def _check_agent(agent_id: str) -> None:
    if not agent_id.strip() or len(agent_id) > 64:
        raise ValueError("agent_id must be 1 to 64 characters")


async def create_task(
    conn: asyncpg.Connection,
    *,
    idempotency_key: str,
    account_id: str,
    stage_id: str,
    queue: str,
    priority: int,
    due_at: datetime,
    inbound_message_id: int | None = None,
) -> tuple[CallTask, bool]:
    """The task for this key, created if new; True when this call created it."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO call_tasks
            (idempotency_key, account_id, stage_id, queue, priority, due_at, inbound_message_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7)
        ON CONFLICT (idempotency_key) DO UPDATE SET updated_at = call_tasks.updated_at
        RETURNING {_COLUMNS}, (xmax = 0) AS inserted
        """,
        idempotency_key,
        account_id,
        stage_id,
        queue,
        priority,
        due_at,
        inbound_message_id,
    )
    assert row is not None
    fields = dict(row)
    inserted = bool(fields.pop("inserted"))
    return CallTask(**fields), inserted


async def for_contact(
    conn: asyncpg.Connection,
    row: LedgerRow,
    *,
    queue: str,
    priority: int,
    due_at: datetime,
) -> tuple[CallTask, bool]:
    """The call task a workflow's contact decided (its ledger row `row`), created if new and
    its row moved to `task_created`; audited `call_task.created`. True when this call created
    it. Call in the pre-send check's transaction (`contact_gate.clear_to_send`)."""
    task, created = await create_task(
        conn,
        idempotency_key=row.idempotency_key,
        account_id=row.account_id,
        stage_id=row.stage_id,
        queue=queue,
        priority=priority,
        due_at=due_at,
    )
    await settle(
        conn,
        row,
        Settled(
            status="task_created",
            audit_kind="call_task.created" if created else None,
            audit_details={
                "task_id": task.id,
                "stage_id": task.stage_id,
                "queue": queue,
                "priority": priority,
            },
        ),
    )
    return task, created


async def by_key(db: asyncpg.Pool | asyncpg.Connection, idempotency_key: str) -> CallTask | None:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM call_tasks WHERE idempotency_key = $1", idempotency_key
    )
    return None if row is None else _task(row)


async def cancel_open(pool: asyncpg.Pool, account_id: str, reason: str) -> list[int]:
    """Cancel the account's open and claimed tasks (it resolved); audited with their ids."""
    async with pool.acquire() as conn, conn.transaction():
        return await cancel_open_in(conn, account_id, reason)


async def cancel_open_in(conn: asyncpg.Connection, account_id: str, reason: str) -> list[int]:
    """`cancel_open` in the caller's transaction (the closing activity's single one)."""
    cancelled = await conn.fetch(
        """
        UPDATE call_tasks
           SET status = 'cancelled', outcome = $2, outcome_at = now(), updated_at = now()
         WHERE account_id = $1 AND status IN ('open', 'claimed')
        RETURNING id
        """,
        account_id,
        reason,
    )
    task_ids: list[int] = [r["id"] for r in cancelled]
    if task_ids:
        await audit.record_event(
            conn,
            account_id=account_id,
            actor="system",
            kind="call_task.cancelled",
            details={"task_ids": task_ids, "reason": reason},
        )
    return task_ids


async def claim_next(
    pool: asyncpg.Pool,
    queue: str,
    agent_id: str,
    workable: Workable | None = None,
    *,
    now: datetime | None = None,
) -> CallTask | None:
    """The agent's next task in `queue`: due now, highest priority first, then earliest due,
    skipping tasks whose customer `workable` says may not be called at `now` (outside the
    contact window or over the call caps); they stay open for a later claim.

    An agent who already holds a claimed task in the queue gets that one back, so a reload
    of the console never hoards a second task (even if its customer has left the window: the
    task page says so and refuses call outcomes). None when nothing is due and workable.
    """
    _check_agent(agent_id)
    async with pool.acquire() as conn, conn.transaction():
        held = await conn.fetchrow(
            f"""
            SELECT {_COLUMNS} FROM call_tasks
             WHERE queue = $1 AND status = 'claimed' AND claimed_by = $2
             ORDER BY claimed_at LIMIT 1
            """,
            queue,
            agent_id,
        )
        if held is not None:
            return _task(held)
        task_id = await _first_workable(conn, queue, workable, now or datetime.now(UTC))
        if task_id is None:
            return None
        row = await conn.fetchrow(
            f"""
            UPDATE call_tasks
               SET status = 'claimed', claimed_by = $2, claimed_at = now(), updated_at = now()
             WHERE id = $1
            RETURNING {_COLUMNS}
            """,
            task_id,
            agent_id,
        )
        assert row is not None  # locked by _first_workable in this transaction
        task = _task(row)
        await audit.record_event(
            conn,
            account_id=task.account_id,
            actor=agent_id,
            kind="call_task.claimed",
            details={"task_id": task.id, "stage_id": task.stage_id, "queue": task.queue},
        )
    return task


async def _first_workable(
    conn: asyncpg.Connection, queue: str, workable: Workable | None, now: datetime
) -> int | None:
    """Lock a batch of due open tasks in claim order (skipping other agents' locks) and answer
    the first whose customer is workable. The window and cap checks are Python
    (`contact_rules`, `dial_caps`), not SQL, so DST, the policy's per-country windows and the
    cap arithmetic have one implementation; the batch's dial attempts are one more query."""
    candidates = await conn.fetch(
        """
        SELECT t.id, c.phone_e164, c.time_zone
          FROM call_tasks t
          LEFT JOIN customer_contacts c ON c.account_id = t.account_id
         WHERE t.queue = $1 AND t.status = 'open' AND t.due_at <= now()
         ORDER BY t.priority DESC, t.due_at, t.id
         LIMIT $2
           FOR UPDATE OF t SKIP LOCKED
        """,
        queue,
        1 if workable is None else CLAIM_BATCH,
    )
    if workable is None:
        first: int | None = candidates[0]["id"] if candidates else None
        return first
    phones = {
        row["phone_e164"]: dial_attempts.number_ref(row["phone_e164"])
        for row in candidates
        if row["phone_e164"]
    }
    attempts = await dial_attempts.histories(conn, phones.values(), now)
    for row in candidates:
        phone = row["phone_e164"]
        history = attempts[phones[phone]] if phone else []
        if workable(phone, row["time_zone"], history):
            task_id: int = row["id"]
            return task_id
    return None


async def complete(pool: asyncpg.Pool, task_id: int, agent_id: str, outcome: str) -> CallTask:
    """Close a task the agent holds with its outcome (e.g. a CallOutcomeKind value)."""
    _check_agent(agent_id)
    if not outcome.strip() or len(outcome) > 64:
        raise ValueError("outcome must be 1 to 64 characters")
    async with pool.acquire() as conn, conn.transaction():
        current = await conn.fetchrow(
            "SELECT status, claimed_by FROM call_tasks WHERE id = $1 FOR UPDATE", task_id
        )
        if current is None:
            raise CallTaskConflict(f"call task {task_id} does not exist")
        if current["status"] != "claimed":
            raise CallTaskConflict(f"call task {task_id} is {current['status']}, not claimed")
        if current["claimed_by"] != agent_id:
            raise CallTaskConflict(f"call task {task_id} is claimed by another agent")
        row = await conn.fetchrow(
            f"""
            UPDATE call_tasks SET status = 'done', outcome = $2, outcome_at = now(),
                                  updated_at = now()
             WHERE id = $1
            RETURNING {_COLUMNS}
            """,
            task_id,
            outcome,
        )
        assert row is not None
        task = _task(row)
        await audit.record_event(
            conn,
            account_id=task.account_id,
            actor=agent_id,
            kind="call_task.completed",
            details={"task_id": task.id, "stage_id": task.stage_id, "outcome": outcome},
        )
    return task


async def release(pool: asyncpg.Pool, task_id: int, agent_id: str) -> CallTask:
    """Hand a task the agent holds back to its queue, open again (e.g. its customer left the
    contact window: the next claim inside the window takes it)."""
    _check_agent(agent_id)
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"""
            UPDATE call_tasks SET status = 'open', claimed_by = NULL, claimed_at = NULL,
                                  updated_at = now()
             WHERE id = $1 AND status = 'claimed' AND claimed_by = $2
            RETURNING {_COLUMNS}
            """,
            task_id,
            agent_id,
        )
        if row is None:
            raise CallTaskConflict(f"call task {task_id} is not claimed by {agent_id}")
        task = _task(row)
        await audit.record_event(
            conn,
            account_id=task.account_id,
            actor=agent_id,
            kind="call_task.released",
            details={"task_id": task.id, "stage_id": task.stage_id},
        )
    return task


async def get(pool: asyncpg.Pool, task_id: int) -> CallTask | None:
    row = await pool.fetchrow(f"SELECT {_COLUMNS} FROM call_tasks WHERE id = $1", task_id)
    return None if row is None else _task(row)


class QueueCounts(BaseModel):
    queue: str
    open: int
    claimed: int
    due_now: int  # open and due: what "next task" would hand out
    oldest_due_at: datetime | None  # the open task waiting longest past its due time


async def queue_counts(db: asyncpg.Pool | asyncpg.Connection) -> list[QueueCounts]:
    """Every known queue (zeros included, so a gauge drops to 0), then any other in use."""
    rows = await db.fetch(
        """
        SELECT queue,
               count(*) FILTER (WHERE status = 'open') AS open,
               count(*) FILTER (WHERE status = 'claimed') AS claimed,
               count(*) FILTER (WHERE status = 'open' AND due_at <= now()) AS due_now,
               min(due_at) FILTER (WHERE status = 'open' AND due_at <= now()) AS oldest_due_at
          FROM call_tasks
         WHERE status IN ('open', 'claimed')
         GROUP BY queue
        """
    )
    found = {row["queue"]: QueueCounts(**dict(row)) for row in rows}
    known = [q.value for q in CallQueue]
    queues = known + sorted(set(found) - set(known))
    return [
        found.get(q, QueueCounts(queue=q, open=0, claimed=0, due_now=0, oldest_due_at=None))
        for q in queues
    ]
