"""A transaction on a pool or on the caller's connection, for store functions that do both;
and the readiness probe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TypeAlias

import asyncpg

Db: TypeAlias = "asyncpg.Pool | asyncpg.Connection"


@asynccontextmanager
async def transaction(db: Db) -> AsyncIterator[asyncpg.Connection]:
    """A connection in a transaction: its own one from a pool, or the caller's connection (a
    savepoint inside the caller's transaction, so the work still commits with it)."""
    if isinstance(db, asyncpg.Pool):
        async with db.acquire() as conn, conn.transaction():
            yield conn
    else:
        async with db.transaction():
            yield db


async def ping(db: Db) -> None:
    """Raise when Postgres cannot answer (the API's readiness check)."""
    await db.fetchval("SELECT 1")
