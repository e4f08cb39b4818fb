"""What self-service keeps besides links: the identity value the backend supplied (sealed) and
the borrower's submissions (one row per form render, keyed by the form's idempotency key).

A submission row holds no personal value: kinds, dates, amounts, counts and the id of the text
the borrower typed (`free_texts`). It lets agents see what arrived (the console's task page)
and makes a form sent twice one submission.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from overdue.store.sealed_texts import open_text, seal_text
from overdue.store.transactions import Db


async def store_id_last4(db: Db, account_id: str, id_last4: str) -> None:
    """The last 4 characters of the customer's ID number, sealed with the account's key."""
    sealed = await seal_text(db, account_id, id_last4)
    await db.execute(
        """
        INSERT INTO selfservice_identity (account_id, id_last4) VALUES ($1, $2)
        ON CONFLICT (account_id) DO UPDATE SET id_last4 = $2, updated_at = now()
        """,
        account_id,
        sealed,
    )


async def has_id_last4(db: Db, account_id: str) -> bool:
    return bool(
        await db.fetchval("SELECT 1 FROM selfservice_identity WHERE account_id = $1", account_id)
    )


async def id_last4_of(db: Db, account_id: str) -> str | None:
    """The stored value, opened (subject access); None when none is stored."""
    stored = await db.fetchval(
        "SELECT id_last4 FROM selfservice_identity WHERE account_id = $1", account_id
    )
    return await open_text(db, stored) if stored else None


async def id_last4_matches(db: Db, account_id: str, given: str) -> bool:
    """Whether `given` is the stored value (compared in constant time); False when none is
    stored or the account was erased."""
    stored = await db.fetchval(
        "SELECT id_last4 FROM selfservice_identity WHERE account_id = $1", account_id
    )
    value = await open_text(db, stored, erased=None) if stored else None
    return value is not None and hmac.compare_digest(value.upper(), given.upper())


async def forget_identity(db: Db, account_id: str) -> int:
    """Erasure: the identity value goes (its key is destroyed too)."""
    deleted = await db.fetchval(
        """
        WITH d AS (DELETE FROM selfservice_identity WHERE account_id = $1 RETURNING 1)
        SELECT count(*) FROM d
        """,
        account_id,
    )
    return int(deleted)


@dataclass(frozen=True)
class Submission:
    id: int
    form_key: str
    kind: str
    details: dict[str, Any]
    text_id: str | None
    created_at: datetime


async def record_submission(
    db: Db,
    *,
    form_key: str,
    account_id: str,
    kind: str,
    details: dict[str, Any],
    text_id: str | None,
) -> bool:
    """Record a submission once per form key; False when that form was already taken."""
    inserted = await db.fetchval(
        """
        INSERT INTO selfservice_submissions (form_key, account_id, kind, details, text_id)
        VALUES ($1, $2, $3, $4::jsonb, $5)
        ON CONFLICT (form_key) DO NOTHING RETURNING true
        """,
        form_key,
        account_id,
        kind,
        json.dumps(details),
        text_id,
    )
    return bool(inserted)


async def submission_taken(db: Db, form_key: str) -> str | None:
    """The account a form key was already used for (None: not used)."""
    account: str | None = await db.fetchval(
        "SELECT account_id FROM selfservice_submissions WHERE form_key = $1", form_key
    )
    return account


async def submissions_of(db: Db, account_id: str, limit: int = 50) -> list[Submission]:
    rows = await db.fetch(
        """
        SELECT id, form_key, kind, details, text_id, created_at FROM selfservice_submissions
         WHERE account_id = $1 ORDER BY id DESC LIMIT $2
        """,
        account_id,
        limit,
    )
    return [
        Submission(
            id=r["id"],
            form_key=r["form_key"],
            kind=r["kind"],
            details=json.loads(r["details"]),
            text_id=r["text_id"],
            created_at=r["created_at"],
        )
        for r in rows
    ]
