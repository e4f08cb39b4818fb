"""What the agent's task page reads beyond `overdue.store.agent_desk`: the customer's name,
the account's product and the messages sent with their text; and the audit of showing them.

The name (`customer_contacts.full_name`) and the SMS bodies (`contact_ledger.body`) are sealed
with the account's key (`sealed_texts`); they are opened here for an agent whose queue holds
the task, and an erased account's read `sealed_texts.ERASED`. Every showing is audited once
per task and agent (`PERSONAL_SHOWN`), as showing the phone number is.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import asyncpg

from overdue.store.audit import record_event
from overdue.store.sealed_texts import open_text, open_texts
from overdue.store.transactions import Db

PERSONAL_SHOWN = "task.personal_data_shown"  # the audit kind of a first showing


async def customer_name(db: Db, account_id: str) -> str | None:
    """The customer's name as last reported (None: never reported; erased: `ERASED`)."""
    sealed: str | None = await db.fetchval(
        "SELECT full_name FROM customer_contacts WHERE account_id = $1", account_id
    )
    return await open_text(db, sealed)


async def account_product(db: Db, account_id: str) -> str | None:
    product: str | None = await db.fetchval(
        "SELECT product FROM accounts WHERE account_id = $1", account_id
    )
    return product


@dataclass(frozen=True)
class ContactWithText:
    """One contact attempt and, for a message, the text that went out (None: no text kept,
    or not opened for this reader)."""

    created_at: datetime
    channel: str
    stage_id: str
    status: str
    text: str | None


async def contacts_with_texts(
    db: Db, account_id: str, *, open_bodies: bool, limit: int = 50
) -> list[ContactWithText]:
    """The account's latest contact attempts, newest first; their bodies opened only when
    `open_bodies` (the reader's queue holds the task)."""
    rows = await db.fetch(
        """
        SELECT created_at, channel, stage_id, status, body FROM contact_ledger
         WHERE account_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    bodies = await open_texts(db, [r["body"] for r in rows]) if open_bodies else [None] * len(rows)
    return [
        ContactWithText(
            created_at=row["created_at"],
            channel=row["channel"],
            stage_id=row["stage_id"],
            status=row["status"],
            text=text,
        )
        for row, text in zip(rows, bodies, strict=True)
    ]


async def audit_personal_shown(
    pool: asyncpg.Pool, account_id: str, actor: str, task_id: int
) -> bool:
    """Record that `actor` was shown the customer's name and messages on this task, once per
    task and actor (a page reloaded after each outcome is one showing). True: recorded now."""
    async with pool.acquire() as conn, conn.transaction():
        # Serialize the check and the insert per task and actor: two tabs load at once.
        await conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext($1))", f"personal-shown:{task_id}:{actor}"
        )
        shown = await conn.fetchval(
            """
            SELECT 1 FROM audit_events
             WHERE account_id = $1 AND actor = $2 AND kind = $3 AND details ->> 'task_id' = $4
            """,
            account_id,
            actor,
            PERSONAL_SHOWN,
            str(task_id),  # details is JSON: ->> yields text
        )
        if shown:
            return False
        await record_event(
            conn,
            account_id=account_id,
            actor=actor,
            kind=PERSONAL_SHOWN,
            details={"task_id": task_id, "shown": ["name", "message_texts"]},
        )
        return True
