"""Self-service links and their sessions (tables `selfservice_links`, `selfservice_sessions`).

A link row is keyed by the SHA-256 of the token the SMS carries (hashed by the caller,
`api.selfservice.links`): a database leak gives no usable link. The row scopes the link to one
account and episode, and counts in Postgres what must hold across API processes: wrong identity
values (the link locks after the limit) and opens per hour (rate limit).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from overdue.store.transactions import Db

LINK_PATH = "/s/"  # the borrower's pages: `<public URL>/s/<token>`


def token_hash(token: str) -> bytes:
    """What the table keys a link by: the token never stored, only its SHA-256."""
    return hashlib.sha256(token.encode()).digest()


@dataclass(frozen=True)
class Link:
    token_hash: bytes
    account_id: str
    episode_id: str
    attempt_key: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    failed_checks: int


_COLUMNS = """token_hash, account_id, episode_id, attempt_key, created_at, expires_at,
    revoked_at, failed_checks"""


def _link(row: asyncpg.Record) -> Link:
    return Link(**dict(row))


async def store_link(
    db: Db,
    token_hash: bytes,
    *,
    account_id: str,
    episode_id: str,
    attempt_key: str,
    lifetime: timedelta,
) -> None:
    await db.execute(
        """
        INSERT INTO selfservice_links (token_hash, account_id, episode_id, attempt_key, expires_at)
        VALUES ($1, $2, $3, $4, now() + $5::interval)
        ON CONFLICT (token_hash) DO NOTHING
        """,
        token_hash,
        account_id,
        episode_id,
        attempt_key,
        lifetime,
    )


async def find_link(db: Db, token_hash: bytes) -> Link | None:
    row = await db.fetchrow(
        f"SELECT {_COLUMNS} FROM selfservice_links WHERE token_hash = $1", token_hash
    )
    return None if row is None else _link(row)


async def count_open(db: Db, token_hash: bytes, window: timedelta) -> int:
    """Count one open of the link in the current window (a new window once the last is over);
    the opens so far in this window, this one included."""
    opens: int = await db.fetchval(
        """
        UPDATE selfservice_links
           SET opens = CASE WHEN opens_since <= now() - $2::interval THEN 1 ELSE opens + 1 END,
               opens_since = CASE WHEN opens_since <= now() - $2::interval THEN now()
                                  ELSE opens_since END
         WHERE token_hash = $1
        RETURNING opens
        """,
        token_hash,
        window,
    )
    return opens or 0


async def count_failed_check(db: Db, token_hash: bytes) -> int:
    """One more wrong identity value for the link; the count so far."""
    failed: int = await db.fetchval(
        """
        UPDATE selfservice_links SET failed_checks = failed_checks + 1
         WHERE token_hash = $1 RETURNING failed_checks
        """,
        token_hash,
    )
    return failed


async def revoke(db: Db, *, token_hash: bytes | None, account_id: str | None, actor: str) -> int:
    """Revoke one link (by its hash) or every link of an account; how many were live. Their
    sessions end with them."""
    revoked: int = await db.fetchval(
        """
        WITH revoked AS (
            UPDATE selfservice_links SET revoked_at = now(), revoked_by = $3
             WHERE revoked_at IS NULL
               AND (($1::bytea IS NOT NULL AND token_hash = $1)
                    OR ($2::text IS NOT NULL AND account_id = $2))
            RETURNING token_hash)
        , ended AS (
            DELETE FROM selfservice_sessions s USING revoked
             WHERE s.token_hash = revoked.token_hash)
        SELECT count(*) FROM revoked
        """,
        token_hash,
        account_id,
        actor,
    )
    return int(revoked)


async def links_of(db: Db, account_id: str) -> list[Link]:
    rows = await db.fetch(
        f"SELECT {_COLUMNS} FROM selfservice_links WHERE account_id = $1 ORDER BY created_at",
        account_id,
    )
    return [_link(r) for r in rows]


# --- sessions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BorrowerSession:
    account_id: str
    token_hash: bytes
    csrf_token: str


async def open_session(
    db: Db, session_hash: bytes, link: Link, csrf_token: str, lifetime: timedelta
) -> None:
    await db.execute("DELETE FROM selfservice_sessions WHERE expires_at < now()")
    await db.execute(
        """
        INSERT INTO selfservice_sessions (session_hash, token_hash, account_id, csrf_token,
                                          expires_at)
        VALUES ($1, $2, $3, $4, LEAST(now() + $5::interval, $6))
        """,
        session_hash,
        link.token_hash,
        link.account_id,
        csrf_token,
        lifetime,
        link.expires_at,
    )


async def find_session(db: Db, session_hash: bytes, token_hash: bytes) -> BorrowerSession | None:
    """The live session for this link (its link still live too), None otherwise."""
    row = await db.fetchrow(
        """
        SELECT s.account_id, s.token_hash, s.csrf_token
          FROM selfservice_sessions s JOIN selfservice_links l USING (token_hash)
         WHERE s.session_hash = $1 AND s.token_hash = $2 AND s.expires_at > now()
           AND l.revoked_at IS NULL AND l.expires_at > now()
        """,
        session_hash,
        token_hash,
    )
    return None if row is None else BorrowerSession(**dict(row))


async def delete_expired_links(conn: asyncpg.Connection, cutoff: datetime, limit: int) -> int:
    """Delete up to `limit` links that expired before `cutoff` (the retention purge); their
    sessions and one-time codes go with them (ON DELETE CASCADE). How many links went."""
    deleted = await conn.fetch(
        """
        WITH expired AS (
            SELECT token_hash FROM selfservice_links WHERE expires_at < $1
             ORDER BY expires_at LIMIT $2
        )
        DELETE FROM selfservice_links l USING expired e
         WHERE l.token_hash = e.token_hash RETURNING 1
        """,
        cutoff,
        limit,
    )
    return len(deleted)
