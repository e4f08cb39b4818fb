"""One asyncpg pool per process."""

from __future__ import annotations

import asyncpg

from overdue.settings import Settings


async def create_pool(settings: Settings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        settings.require_database_url(),
        min_size=settings.db_pool_min_size,
        max_size=settings.db_pool_max_size,
    )
    assert pool is not None
    return pool
