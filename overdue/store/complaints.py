"""Complaints and their resolution.

A complaint is recorded as a call outcome (`call.outcome` with outcome `complaint`, by an agent
or when a task is finished with it); its id is that audit row's. A supervisor resolves it once
(`complaint.resolved`: the complaint's id, the outcome, the note's `text_id`; the note itself is
a free text, sealed). Reports count a complaint open until its resolution
(overdue/store/report_reads.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from overdue.store.audit import record_event
from overdue.store.free_texts import FreeText, keep
from overdue.store.transactions import Db

OUTCOMES = ("upheld", "partly_upheld", "not_upheld", "withdrawn")
RESOLVED = "complaint.resolved"
# The audit rows that are complaints (the SQL both readers use).
IS_COMPLAINT = "e.kind = 'call.outcome' AND e.details ->> 'outcome' = 'complaint'"


@dataclass(frozen=True)
class Complaint:
    id: int  # the audit row that recorded it
    made_at: datetime
    recorded_by: str
    resolved_at: datetime | None
    resolved_by: str | None
    outcome: str | None


async def complaints_of(db: Db, account_id: str, limit: int = 50) -> list[Complaint]:
    """The account's complaints, newest first, each with its resolution if it has one."""
    rows = await db.fetch(
        f"""
        SELECT e.id, e.occurred_at, e.actor, r.occurred_at AS resolved_at,
               r.actor AS resolved_by, r.details ->> 'outcome' AS outcome
          FROM audit_events e
          LEFT JOIN audit_events r
            ON r.account_id = e.account_id AND r.kind = '{RESOLVED}'
           AND r.details ->> 'complaint_id' = e.id::text
         WHERE e.account_id = $1 AND {IS_COMPLAINT}
         ORDER BY e.occurred_at DESC, e.id DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    return [
        Complaint(
            r["id"], r["occurred_at"], r["actor"], r["resolved_at"], r["resolved_by"], r["outcome"]
        )
        for r in rows
    ]


class ComplaintNotOpen(Exception):
    """No such complaint on this account, or it was resolved already."""


async def resolve(
    conn: asyncpg.Connection,
    *,
    account_id: str,
    complaint_id: int,
    outcome: str,
    note: FreeText,
    actor: str,
) -> None:
    """Record the complaint's resolution and its note, once (in the caller's transaction);
    ComplaintNotOpen when it is not an open complaint of this account (nothing written)."""
    if outcome not in OUTCOMES:
        raise ValueError(f"unknown outcome {outcome!r}")
    # Two supervisors resolving the same complaint at once: one waits for the other.
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtext('complaint:' || $1))", str(complaint_id)
    )
    open_: bool | None = await conn.fetchval(
        f"""
        SELECT NOT EXISTS (SELECT 1 FROM audit_events r
                            WHERE r.account_id = e.account_id AND r.kind = '{RESOLVED}'
                              AND r.details ->> 'complaint_id' = e.id::text)
          FROM audit_events e
         WHERE e.id = $1 AND e.account_id = $2 AND {IS_COMPLAINT}
        """,
        complaint_id,
        account_id,
    )
    if not open_:
        raise ComplaintNotOpen(complaint_id)
    await keep(conn, account_id, note)
    await record_event(
        conn,
        account_id=account_id,
        actor=actor,
        kind=RESOLVED,
        details={"complaint_id": complaint_id, "outcome": outcome, "text_id": note.id},
    )
