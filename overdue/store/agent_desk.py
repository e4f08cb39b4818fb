"""What the agent's task page reads (`api.console.task_pages`); read-only.

It reads three tables other modules write: `call_tasks` (the agent's claimed tasks; written by
`overdue.store.call_tasks`), `contact_ledger` (the account's contact history; written by
`overdue.store.contact_ledger`) and `audit_events` (the outcomes agents and supervisors recorded
through the console; appended by `overdue.store.audit`). The reads live here, apart from those
writers, because only the console's page needs them in this shape.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from overdue.store.call_tasks import CallTask
from overdue.store.sealed_texts import open_details
from overdue.store.timeline import AUDIT_DETAILS, TEXT_JOIN

# Audit kinds written by agents and supervisors through the console (see
# api/console/outcomes.py): the page lists them as earlier outcomes, and closing a task takes
# the last one as the task's outcome. A new console action must be added here to show up.
OUTCOME_KINDS = (
    "call.outcome",
    "promise.recorded",
    "hardship.reported",
    "hardship.decided",
    "dispute.opened",
    "account.escalated",
    "account.paused",
    "account.resumed",
    "forbearance.granted",
    "forbearance.refused",
    "forbearance.ended",
    "call_task.completed",
)


SUMMARY_TEXT = 80  # characters of a typed text shown in the outcomes table


@dataclass(frozen=True)
class Outcome:
    """One recorded outcome as the task page lists it."""

    occurred_at: datetime
    actor: str
    kind: str
    details: dict[str, Any]

    @property
    def summary(self) -> str:
        """The details in one line for the table: the text typed (read back from Postgres)
        cut short, without its id and the task id (the page the table is on)."""
        shown = {k: v for k, v in self.details.items() if k not in {"text_id", "task_id"}}
        if isinstance(text := shown.get("text"), str) and len(text) > SUMMARY_TEXT:
            shown["text"] = text[: SUMMARY_TEXT - 1] + "…"
        return ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))


@dataclass(frozen=True)
class ContactEntry:
    """One contact attempt in the account's history (no message text: the ledger keeps none)."""

    created_at: datetime
    channel: str
    stage_id: str
    status: str


async def claimed_tasks(conn: asyncpg.Connection | asyncpg.Pool, agent: str) -> list[CallTask]:
    """The tasks this agent holds and has not closed, in the order "next task" would hand them
    out (priority, then due time)."""
    rows = await conn.fetch(
        """
        SELECT * FROM call_tasks
         WHERE claimed_by = $1 AND status = 'claimed' ORDER BY priority DESC, due_at, id
        """,
        agent,
    )
    return [CallTask(**dict(row)) for row in rows]


async def last_outcome(
    conn: asyncpg.Connection | asyncpg.Pool, task_id: int, actor: str
) -> str | None:
    """What the agent last recorded on this task (for closing it), if anything: the event's
    `outcome` detail, else its kind."""
    row = await conn.fetchrow(
        """
        SELECT kind, details ->> 'outcome' AS outcome FROM audit_events
         WHERE actor = $1 AND details ->> 'task_id' = $2 AND kind = ANY($3::text[])
         ORDER BY id DESC LIMIT 1
        """,
        actor,
        # details is JSON, so ->> yields text; the id is compared as text for that reason.
        str(task_id),
        list(OUTCOME_KINDS),
    )
    if row is None:
        return None
    return str(row["outcome"] or row["kind"])


async def contact_history(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, limit: int = 50
) -> list[ContactEntry]:
    """The account's latest contact attempts, newest first."""
    rows = await conn.fetch(
        """
        SELECT created_at, channel, stage_id, status FROM contact_ledger
         WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    return [
        ContactEntry(
            created_at=row["created_at"],
            channel=row["channel"],
            stage_id=row["stage_id"],
            status=row["status"],
        )
        for row in rows
    ]


async def earlier_outcomes(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str, limit: int = 50
) -> list[Outcome]:
    """The outcomes recorded on the account by anyone, newest first."""
    rows = await conn.fetch(
        f"""
        SELECT a.occurred_at, a.actor, a.kind, {AUDIT_DETAILS} AS details
          FROM audit_events a {TEXT_JOIN}
         WHERE a.account_id = $1 AND a.kind = ANY($2::text[])
         ORDER BY a.occurred_at DESC, a.id DESC LIMIT $3
        """,
        account_id,
        list(OUTCOME_KINDS),
        limit,
    )
    # asyncpg returns jsonb as text unless a codec is set; the pool sets none.
    details = await open_details(conn, [json.loads(row["details"]) for row in rows])
    return [
        Outcome(occurred_at=row["occurred_at"], actor=row["actor"], kind=row["kind"], details=shown)
        for row, shown in zip(rows, details, strict=True)
    ]
