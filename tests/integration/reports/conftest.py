"""A Postgres of their own for the report tests, a fresh database per test (cloned from a
migrated template), so the planted rows are the only rows a report sees."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from overdue.migrate import upgrade_async
from workers.devstack.local_postgres import LocalPostgres, start_local_postgres_async

TEMPLATE = "reports_template"


@pytest.fixture(scope="session")
async def reports_postgres(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LocalPostgres]:
    server = await start_local_postgres_async(
        tmp_path_factory.mktemp("pg-reports") / "data", database=TEMPLATE
    )
    try:
        await upgrade_async(server.url)
        yield server
    finally:
        await server.stop_async()


@pytest.fixture
async def report_db(report_database: tuple[str, asyncpg.Pool]) -> asyncpg.Pool:
    return report_database[1]


@pytest.fixture
async def report_database(
    reports_postgres: LocalPostgres,
) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    """A fresh database's URL and a pool on it."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(reports_postgres.admin_url)
    try:
        await admin.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(reports_postgres.admin_url)._replace(path=f"/{name}"))
    pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
    assert pool is not None
    try:
        yield url, pool
    finally:
        await pool.close()
