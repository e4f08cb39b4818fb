"""Schema migrations, run by Alembic (scripts in migrations/versions, raw SQL via asyncpg)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from alembic import command
from alembic.config import Config

from overdue.settings import PROJECT_ROOT


def sqlalchemy_url(database_url: str) -> str:
    """A libpq-style URL in SQLAlchemy's asyncpg form (the query, e.g. a socket host, stays)."""
    parts = urlsplit(database_url)
    if parts.scheme not in {"postgres", "postgresql", "postgresql+asyncpg"}:
        raise ValueError(f"DATABASE_URL must be a postgresql:// URL, got scheme {parts.scheme!r}")
    return urlunsplit(parts._replace(scheme="postgresql+asyncpg"))


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # ConfigParser interpolates '%': escape it so passwords with '%' survive.
    config.set_main_option("sqlalchemy.url", sqlalchemy_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Apply migrations up to `revision`. Blocking; call from a thread inside an event loop."""
    command.upgrade(alembic_config(database_url), revision)


async def upgrade_async(database_url: str, revision: str = "head") -> None:
    # Alembic's env.py runs its own event loop, so it must not share ours.
    await asyncio.to_thread(upgrade, database_url, revision)


def execute_script(sql: str) -> None:
    """Run a multi-statement SQL script inside a migration.

    SQLAlchemy's asyncpg adapter prepares each statement (one command only), so scripts go
    through asyncpg's simple-query path on the migration's own connection and transaction.
    """
    from alembic import op

    raw = op.get_bind().connection.dbapi_connection
    assert raw is not None
    raw.run_async(lambda connection: connection.execute(sql))


def run_async(work: Callable[[asyncpg.Connection], Awaitable[None]]) -> None:
    """Run `work` on the migration's own asyncpg connection, in its transaction: for data
    conversions done in Python (sealing texts with keys from settings)."""
    from alembic import op

    raw = op.get_bind().connection.dbapi_connection
    assert raw is not None
    raw.run_async(work)
