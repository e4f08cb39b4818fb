"""The embedded Postgres: starts in a folder, creates the database, keeps data across restarts."""

from __future__ import annotations

from pathlib import Path

import asyncpg
import psutil
import pytest

from workers.devstack.local_postgres import start_local_postgres, start_local_postgres_async

pytestmark = pytest.mark.integration


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


async def test_database_is_created_and_data_survives_a_restart(tmp_path: Path) -> None:
    data_dir = tmp_path / "pg"
    postgres = await start_local_postgres_async(data_dir, "overdue_test")
    try:
        connection = await asyncpg.connect(postgres.url)
        try:
            assert await connection.fetchval("SELECT current_database()") == "overdue_test"
            await connection.execute("CREATE TABLE kept (note text)")
            await connection.execute("INSERT INTO kept VALUES ('still here')")
        finally:
            await connection.close()
    finally:
        await postgres.stop_async()
    assert _gone(postgres.pid)
    assert not (data_dir / "postmaster.pid").exists()

    again = await start_local_postgres_async(data_dir, "overdue_test")
    try:
        assert again.pid != postgres.pid
        connection = await asyncpg.connect(again.url)
        try:
            assert await connection.fetchval("SELECT note FROM kept") == "still here"
        finally:
            await connection.close()
    finally:
        again.stop()
    assert _gone(again.pid)


def test_a_running_server_is_reused(tmp_path: Path) -> None:
    first = start_local_postgres(tmp_path / "pg")
    try:
        second = start_local_postgres(tmp_path / "pg")
        assert second.pid == first.pid
        assert second.url == first.url
    finally:
        first.stop()
    assert _gone(first.pid)


async def test_deep_data_dir_gets_a_short_socket_dir(tmp_path: Path) -> None:
    # A unix socket path must fit in about 107 bytes; this data dir alone is longer.
    data_dir = tmp_path.joinpath(*(["a-rather-long-folder-name"] * 5), "pg")
    assert len(str(data_dir / ".s.PGSQL.5432")) > 107
    postgres = await start_local_postgres_async(data_dir)
    try:
        assert postgres.socket_dir != data_dir
        connection = await asyncpg.connect(postgres.url)
        try:
            assert await connection.fetchval("SELECT current_database()") == "overdue"
        finally:
            await connection.close()
    finally:
        await postgres.stop_async()
