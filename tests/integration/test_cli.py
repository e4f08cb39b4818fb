"""The `overdue` entry point as a user runs it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from workers.devstack.local_postgres import LocalPostgres


def overdue(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
        check=False,
    )


def test_help_lists_every_command() -> None:
    result = overdue("--help")
    assert result.returncode == 0
    for command in ("dev", "migrate", "worker", "api"):
        assert f"    {command} " in result.stdout


def test_migrate_is_idempotent(postgres: LocalPostgres) -> None:
    for _ in range(2):
        result = overdue("migrate", DATABASE_URL=postgres.url)
        assert result.returncode == 0, result.stderr
        assert "migrations applied up to head" in result.stdout


def test_migrate_without_database_says_how_to_fix_it(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "OVERDUE_DATABASE_URL"}}
    env["OVERDUE_STATE_DIR"] = str(tmp_path)  # no dev stack's Postgres there
    result = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", "migrate"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "DATABASE_URL is not set and no `overdue dev` Postgres is running" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_reported_without_a_traceback() -> None:
    result = overdue("migrate", OVERDUE_API_PORT="not-a-port")
    assert result.returncode == 2
    assert "api_port" in result.stderr
    assert "Traceback" not in result.stderr
