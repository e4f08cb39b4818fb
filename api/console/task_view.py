"""What the console reads from Postgres: tasks, contact history, earlier outcomes, the phone."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg
import phonenumbers

from overdue.store.call_tasks import CallTask

# Audit kinds written by agents and supervisors through the console (see outcomes.py).
OUTCOME_KINDS = (
    "call.outcome",
    "promise.recorded",
    "hardship.reported",
    "hardship.decided",
    "dispute.opened",
    "account.escalated",
    "account.paused",
    "account.resumed",
    "call_task.completed",
)


@dataclass(frozen=True)
class Outcome:
    occurred_at: datetime
    actor: str
    kind: str
    details: dict[str, Any]

    @property
    def summary(self) -> str:
        shown = {k: v for k, v in self.details.items() if k not in {"note", "task_id"}}
        return ", ".join(f"{k}={v}" for k, v in sorted(shown.items()))


async def claimed_tasks(pool: asyncpg.Pool, agent: str) -> list[CallTask]:
    rows = await pool.fetch(
        """
        SELECT * FROM call_tasks
         WHERE claimed_by = $1 AND status = 'claimed' ORDER BY priority DESC, due_at, id
        """,
        agent,
    )
    return [CallTask(**dict(row)) for row in rows]


async def last_outcome(pool: asyncpg.Pool, task_id: int, actor: str) -> str | None:
    """What the agent last recorded on this task (for closing it), if anything."""
    row = await pool.fetchrow(
        """
        SELECT kind, details ->> 'outcome' AS outcome FROM audit_events
         WHERE actor = $1 AND details ->> 'task_id' = $2 AND kind = ANY($3::text[])
         ORDER BY id DESC LIMIT 1
        """,
        actor,
        str(task_id),
        list(OUTCOME_KINDS),
    )
    if row is None:
        return None
    return str(row["outcome"] or row["kind"])


async def contact_history(pool: asyncpg.Pool, account_id: str, limit: int = 50) -> list[Any]:
    return list(
        await pool.fetch(
            """
            SELECT created_at, channel, stage_id, status FROM contact_ledger
             WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2
            """,
            account_id,
            limit,
        )
    )


async def earlier_outcomes(pool: asyncpg.Pool, account_id: str, limit: int = 50) -> list[Outcome]:
    rows = await pool.fetch(
        """
        SELECT occurred_at, actor, kind, details FROM audit_events
         WHERE account_id = $1 AND kind = ANY($2::text[])
         ORDER BY occurred_at DESC, id DESC LIMIT $3
        """,
        account_id,
        list(OUTCOME_KINDS),
        limit,
    )
    return [
        Outcome(
            occurred_at=row["occurred_at"],
            actor=row["actor"],
            kind=row["kind"],
            details=json.loads(row["details"]),
        )
        for row in rows
    ]


async def phone_number(pool: asyncpg.Pool, account_id: str) -> str | None:
    phone: str | None = await pool.fetchval(
        "SELECT phone_e164 FROM customer_contacts WHERE account_id = $1", account_id
    )
    return phone


def mask_phone(e164: str | None) -> str:
    """'+8613800138000' -> '+86 *******8000': the country code and the last four digits."""
    if not e164:
        return "—"
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return "****"
    national = str(number.national_number)
    return f"+{number.country_code} {'*' * max(len(national) - 4, 0)}{national[-4:]}"
