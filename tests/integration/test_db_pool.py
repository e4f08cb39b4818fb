"""The product's pool on a real Postgres: a connection is reused without asyncpg's reset query
(overdue/db.py), and what the product keeps in a transaction (its advisory lock, SET LOCAL) or
a transaction left open by mistake is gone when the connection is reused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest

from overdue.db import create_pool
from overdue.settings import Settings
from workers.devstack.local_postgres import LocalPostgres

pytestmark = pytest.mark.integration


@pytest.fixture
async def one_connection(postgres: LocalPostgres) -> AsyncIterator[asyncpg.Pool]:
    settings = Settings(database_url=postgres.url, db_pool_min_size=1, db_pool_max_size=1)
    pool = await create_pool(settings)
    try:
        yield pool
    finally:
        await pool.close()


async def test_a_reused_connection_keeps_nothing_of_a_transaction(
    one_connection: asyncpg.Pool,
) -> None:
    pool = one_connection
    async with pool.acquire() as con:
        backend = await con.fetchval("SELECT pg_backend_pid()")
        async with con.transaction():
            await con.execute("SELECT pg_advisory_xact_lock(424242)")
            await con.execute("SET LOCAL statement_timeout = 1234")
    con = await pool.acquire()
    await con.execute("BEGIN; SET LOCAL lock_timeout = 4321")  # left open by mistake
    await pool.release(con)
    async with pool.acquire() as con:
        assert await con.fetchval("SELECT pg_backend_pid()") == backend  # the same session
        held = await con.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", backend
        )
        assert held == 0
        assert await con.fetchval("SHOW statement_timeout") == "0"
        assert await con.fetchval("SHOW lock_timeout") == "0"
        assert not con.is_in_transaction()
