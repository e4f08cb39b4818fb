"""One asyncpg pool per process.

Connecting gives up after CONNECT_TIMEOUT_SECONDS (asyncpg waits 60 s by default): with
Postgres down, a request answers 503 in seconds instead of holding its caller.
"""

from __future__ import annotations

import asyncpg

from overdue.settings import Settings

CONNECT_TIMEOUT_SECONDS = 3.0


async def create_pool(settings: Settings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.require_database_url(),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
        timeout=CONNECT_TIMEOUT_SECONDS,
    )
    assert pool is not None
    return pool
