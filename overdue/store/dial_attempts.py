"""Dial attempts: each call an agent places for a call task, with its outcome.

`record` is the point of contact: in the caller's transaction it locks the task and the number
dialled, reads the number's recent attempts, asks the caller's check (`workflows.dial_caps`,
with the policy's window and caps) and inserts the attempt with the facts checked, or refuses.
Under the number's lock two agents dialling the same number cannot both pass a cap.
`histories` is the claim's one read of the attempts of a batch of candidate numbers.

Numbers are referred to by `number_ref` (keyed, `overdue.number_refs`), never in clear.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

# Re-exported: callers count attempts by the one reference `overdue.number_refs` computes.
from overdue.number_refs import number_ref as number_ref
from overdue.store import audit
from workflows.contact_rules import WEEK
from workflows.dial_caps import DialAttempt, DialCheck, DialOutcome

# Attempts older than this never count towards a day or the rolling 7 days; conversations
# (for the quiet period) are read without this bound.
_RECENT = WEEK + timedelta(days=1)

# The caller's cap check (the policy's window and caps for this customer) over the number's
# recorded attempts at an instant.
DialChecker = Callable[[Sequence[DialAttempt], datetime], DialCheck]


class NotHeld(Exception):
    """The agent does not hold the task (unknown, closed, or another agent's)."""


class DialRefused(Exception):
    """The check refused the dial: nothing was recorded."""

    def __init__(self, check: DialCheck) -> None:
        super().__init__(f"dial refused: {check.refusal}")
        self.check = check


@dataclass(frozen=True)
class RecordedDial:
    """One attempt as the task page lists it (no number: the page shows the masked one)."""

    id: int
    task_id: int
    account_id: str
    agent_id: str
    dialled_at: datetime
    time_zone: str
    local_at: datetime  # naive: the customer's wall-clock time
    outcome: DialOutcome
    unanswered: bool
    conversation: bool


_COLUMNS = """
    id, task_id, account_id, agent_id, dialled_at, time_zone, local_at, outcome, unanswered,
    conversation
"""


def _recorded(row: asyncpg.Record) -> RecordedDial:
    fields = dict(row)
    fields["outcome"] = DialOutcome(fields["outcome"])
    return RecordedDial(**fields)


async def histories(
    conn: asyncpg.Connection | asyncpg.Pool, refs: Iterable[bytes], now: datetime
) -> dict[bytes, list[DialAttempt]]:
    """Each number's attempts that can count at `now`: those of the last 8 days and its latest
    conversation up to `now` (the check ignores later rows: another server's clock may be a
    little ahead). One query for any number of numbers; numbers never dialled map to []."""
    wanted = sorted(set(refs))
    found: dict[bytes, list[DialAttempt]] = {ref: [] for ref in wanted}
    if not wanted:
        return found
    rows = await conn.fetch(
        """
        SELECT id, number_ref, dialled_at, unanswered, conversation
          FROM dial_attempts
         WHERE number_ref = ANY($1::bytea[]) AND dialled_at > $2
        UNION
        (SELECT DISTINCT ON (number_ref) id, number_ref, dialled_at, unanswered, conversation
           FROM dial_attempts
          WHERE number_ref = ANY($1::bytea[]) AND conversation AND dialled_at <= $3
          ORDER BY number_ref, dialled_at DESC)
        ORDER BY 3
        """,
        wanted,
        now - _RECENT,
        now,
    )
    for row in rows:
        found[bytes(row["number_ref"])].append(
            DialAttempt(row["dialled_at"], row["unanswered"], row["conversation"])
        )
    return found


async def _lock_task(conn: asyncpg.Connection, task_id: int, agent_id: str) -> str:
    """Lock the task, which the agent must hold; its account id."""
    row = await conn.fetchrow(
        "SELECT account_id, status, claimed_by FROM call_tasks WHERE id = $1 FOR UPDATE", task_id
    )
    if row is None:
        raise NotHeld(f"call task {task_id} does not exist")
    if row["status"] != "claimed" or row["claimed_by"] != agent_id:
        raise NotHeld(f"call task {task_id} is not claimed by {agent_id}")
    account_id: str = row["account_id"]
    return account_id


async def record(
    conn: asyncpg.Connection,
    *,
    task_id: int,
    agent_id: str,
    outcome: DialOutcome,
    phone_e164: str,
    now: datetime,
    check: DialChecker,
) -> tuple[RecordedDial, DialCheck]:
    """Record one dial at `now` (or at the number's latest attempt, if later: see below) of the
    task's customer at `phone_e164` if `check` allows it, audited `call.dial_attempt`; raise
    `DialRefused` (nothing written) if not, `NotHeld` if the agent does not hold the task.
    Call inside a transaction: the number stays locked until it ends, so a receipt written in
    the same transaction sees the same counts."""
    if not conn.is_in_transaction():
        raise RuntimeError("dial_attempts.record needs the caller's transaction")
    if not agent_id.strip() or len(agent_id) > 64:
        raise ValueError("agent_id must be 1 to 64 characters")
    account_id = await _lock_task(conn, task_id, agent_id)
    ref = number_ref(phone_e164)
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", "dial:" + ref.hex())
    # A number's attempts are recorded in order: if another server, its clock a little ahead,
    # recorded one "later" than our now, this one is checked and recorded at that instant, so
    # the check always sees every attempt before it.
    latest = await conn.fetchval(
        "SELECT max(dialled_at) FROM dial_attempts WHERE number_ref = $1", ref
    )
    at = now if latest is None else max(now, latest)
    checked = check((await histories(conn, [ref], at))[ref], at)
    if not checked.allowed or checked.local_at is None or checked.time_zone is None:
        raise DialRefused(checked)
    attempt = DialAttempt.of(checked.at, outcome)
    row = await conn.fetchrow(
        f"""
        INSERT INTO dial_attempts (task_id, account_id, number_ref, agent_id, dialled_at,
                                   time_zone, local_at, outcome, unanswered, conversation, checked)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11::jsonb)
        RETURNING {_COLUMNS}
        """,
        task_id,
        account_id,
        ref,
        agent_id,
        checked.at,
        checked.time_zone,
        checked.local_at.replace(tzinfo=None),
        outcome.value,
        attempt.unanswered,
        attempt.conversation,
        json.dumps(checked.as_json(), sort_keys=True),
    )
    assert row is not None
    recorded = _recorded(row)
    await audit.record_event(
        conn,
        account_id=account_id,
        actor=agent_id,
        kind="call.dial_attempt",
        details={"task_id": task_id, "dial_attempt_id": recorded.id, "outcome": outcome.value},
    )
    return recorded, checked


async def for_account(
    db: asyncpg.Connection | asyncpg.Pool, account_id: str, limit: int = 50
) -> list[RecordedDial]:
    """The account's latest attempts, newest first (the task page's list)."""
    rows = await db.fetch(
        f"""
        SELECT {_COLUMNS} FROM dial_attempts WHERE account_id = $1
         ORDER BY dialled_at DESC, id DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    return [_recorded(row) for row in rows]


async def checked_facts(db: asyncpg.Connection | asyncpg.Pool, attempt_id: int) -> DialCheck | None:
    """The facts checked when the attempt was recorded (its `checked`), for a receipt; None
    when there is no such attempt."""
    raw = await db.fetchval("SELECT checked FROM dial_attempts WHERE id = $1", attempt_id)
    return None if raw is None else DialCheck.from_json(json.loads(raw))
