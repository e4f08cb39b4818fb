"""A Postgres of their own for the retention and audit-chain tests, a fresh database per test.

The purge removes whatever is old enough and the chain tests tamper with audit rows past the
triggers: on the session's shared database either would disturb other tests, so these run on
their own server, each test on a new database cloned from a migrated template.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest

from overdue.migrate import upgrade_async
from workers.devstack.local_postgres import LocalPostgres, start_local_postgres_async

TEMPLATE = "retention_template"


def database_url(server: LocalPostgres, database: str) -> str:
    return urlunsplit(urlsplit(server.admin_url)._replace(path=f"/{database}"))


@dataclass(frozen=True)
class Database:
    url: str
    pool: asyncpg.Pool


@pytest.fixture(scope="session")
async def retention_postgres(
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[LocalPostgres]:
    server = await start_local_postgres_async(
        tmp_path_factory.mktemp("pg-retention") / "data", database=TEMPLATE
    )
    try:
        await upgrade_async(server.url)
        yield server
    finally:
        await server.stop_async()


async def new_database(server: LocalPostgres, *, template: str | None = TEMPLATE) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(server.admin_url)
    try:
        source = f" TEMPLATE {template}" if template else ""
        await admin.execute(f"CREATE DATABASE {name}{source}")
    finally:
        await admin.close()
    return database_url(server, name)


@pytest.fixture
async def db(retention_postgres: LocalPostgres) -> AsyncIterator[Database]:
    url = await new_database(retention_postgres)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=8)
    assert pool is not None
    try:
        yield Database(url=url, pool=pool)
    finally:
        await pool.close()
