"""One asyncpg pool per process.

Connecting gives up after CONNECT_TIMEOUT_SECONDS (asyncpg waits 60 s by default): with
Postgres down, a request answers 503 in seconds instead of holding its caller.

A connection going back to the pool is not reset with asyncpg's reset query
(`SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL`), one more round trip on
every release: an SMS activity releases about eight times. The product keeps no state in a
session for it to clear: its advisory locks are transaction-scoped, it never LISTENs, sets a
session variable or holds a cursor past its transaction (tests/overdue/
test_db_session_state.py keeps it so; tests/integration/test_db_pool.py checks a reused
connection). asyncpg still rolls back a transaction left open before the connection is reused.
"""

from __future__ import annotations

import asyncpg

from overdue.settings import Settings

CONNECT_TIMEOUT_SECONDS = 3.0


async def keep_session(connection: asyncpg.Connection) -> None:
    """The pool's `reset`: nothing to clear (above); asyncpg's own rollback runs before it."""


async def create_pool(settings: Settings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.require_database_url(),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        timeout=CONNECT_TIMEOUT_SECONDS,
        reset=keep_session,
    )
    assert pool is not None
    return pool
