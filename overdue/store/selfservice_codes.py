"""One-time codes by SMS for the self-service identity check (table `selfservice_codes`,
docs/self-service.md "The one-time code").

A row is one "send me a code" form, keyed by the form's idempotency key and scoped to the link
it was asked on; the caps count these rows under the link row's lock, so every API process
sees the same count. The code is checked against its SHA-256 over the link's token hash and
the code; the sealed copy (the account's data key) lives only until the provider accepted the
SMS, so that a retry sends the same code, and is then cleared.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from overdue.store.transactions import Db, transaction

DAY = timedelta(days=1)
# Rows older than this are deleted when a new one is asked: the caps look back a day, and a
# code lives an hour at most; the ledger row and the receipt stay the record of the SMS.
KEPT_FOR = timedelta(days=2)


def code_hash(token_hash: bytes, code: str) -> bytes:
    """What the row keeps of a code: bound to its link, so a code opens no other link."""
    return hashlib.sha256(token_hash + b":" + code.encode()).digest()


@dataclass(frozen=True)
class Requested:
    """The form's row exists; `new`: this request wrote it (False: the form was sent before)."""

    new: bool


@dataclass(frozen=True)
class TooSoon:
    """Over a cap: nothing written; the borrower may ask again at `retry_at`."""

    retry_at: datetime


@dataclass(frozen=True)
class CodeRequest:
    request_key: str
    token_hash: bytes
    account_id: str
    lifetime: timedelta  # how long its code works once made (the setting when asked)
    code_sealed: str | None
    code_at: datetime | None


async def request_code(
    db: Db,
    *,
    request_key: str,
    token_hash: bytes,
    account_id: str,
    per_day: int,
    interval: timedelta,
    lifetime: timedelta,
) -> Requested | TooSoon | None:
    """Take a "send me a code" form once, within the link's caps: at most `per_day` forms in
    24 hours and one per `interval`. None: the key was already used on another link."""
    async with transaction(db) as conn:
        await conn.execute(
            "DELETE FROM selfservice_codes WHERE requested_at < now() - $1::interval", KEPT_FOR
        )
        await conn.execute(
            "SELECT 1 FROM selfservice_links WHERE token_hash = $1 FOR UPDATE", token_hash
        )
        taken = await conn.fetchval(
            "SELECT token_hash FROM selfservice_codes WHERE request_key = $1", request_key
        )
        if taken is not None:
            return Requested(new=False) if bytes(taken) == token_hash else None
        window = await conn.fetchrow(
            """
            SELECT count(*) AS n, min(requested_at) AS first, max(requested_at) AS last,
                   now() AS now
              FROM selfservice_codes
             WHERE token_hash = $1 AND requested_at > now() - $2::interval
            """,
            token_hash,
            DAY,
        )
        if window["n"] >= per_day:
            return TooSoon(retry_at=window["first"] + DAY)
        if window["last"] is not None and window["last"] > window["now"] - interval:
            return TooSoon(retry_at=window["last"] + interval)
        await conn.execute(
            """
            INSERT INTO selfservice_codes (request_key, token_hash, account_id, lifetime)
            VALUES ($1, $2, $3, $4)
            """,
            request_key,
            token_hash,
            account_id,
            lifetime,
        )
    return Requested(new=True)


async def code_request(db: Db, request_key: str) -> CodeRequest | None:
    row = await db.fetchrow(
        """
        SELECT request_key, token_hash, account_id, lifetime, code_sealed, code_at
          FROM selfservice_codes WHERE request_key = $1
        """,
        request_key,
    )
    return None if row is None else CodeRequest(**dict(row))


async def asked_on(db: Db, token_hash: bytes) -> bool:
    """Whether a code was ever asked for on the link."""
    return bool(
        await db.fetchval("SELECT 1 FROM selfservice_codes WHERE token_hash = $1", token_hash)
    )


async def keep_code(db: Db, request_key: str, hashed: bytes, sealed: str) -> str | None:
    """Store the form's code once; the sealed code the row keeps (an earlier attempt's, if one
    was first). None: the row is gone, or its sealed copy was already cleared."""
    kept: str | None = await db.fetchval(
        """
        WITH first AS (
            UPDATE selfservice_codes SET code_hash = $2, code_sealed = $3, code_at = now()
             WHERE request_key = $1 AND code_hash IS NULL RETURNING code_sealed)
        SELECT code_sealed FROM first
        UNION ALL
        SELECT code_sealed FROM selfservice_codes
         WHERE request_key = $1 AND NOT EXISTS (SELECT 1 FROM first)
        """,
        request_key,
        hashed,
        sealed,
    )
    return kept


async def forget_sealed_code(db: Db, request_key: str) -> None:
    """The provider has the SMS: only the hash stays."""
    await db.execute(
        "UPDATE selfservice_codes SET code_sealed = NULL WHERE request_key = $1", request_key
    )


async def use_code(db: Db, token_hash: bytes, hashed: bytes) -> bool:
    """Whether `hashed` is a live, unused code of the link (made less than its lifetime
    ago); it is used up if so."""
    used = await db.fetchval(
        """
        UPDATE selfservice_codes SET used_at = now(), code_sealed = NULL
         WHERE token_hash = $1 AND code_hash = $2 AND used_at IS NULL
           AND code_at + lifetime > now()
        RETURNING true
        """,
        token_hash,
        hashed,
    )
    return bool(used)
