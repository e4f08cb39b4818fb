"""`overdue api-keys` and `overdue users`: secrets printed once or read from stdin, never argv."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import timedelta

import asyncpg
import pytest

from api.console.sessions import open_session
from overdue.store.api_keys import Scope, find_active_key
from overdue.store.console_users import authenticate
from workers.devstack.local_postgres import LocalPostgres

pytestmark = pytest.mark.integration


def overdue(
    postgres: LocalPostgres, *args: str, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "workers.cli.main", *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "DATABASE_URL": postgres.url},
        check=False,
    )


async def test_api_keys_add_list_revoke(postgres: LocalPostgres) -> None:
    name = f"billing-{uuid.uuid4().hex[:6]}"
    added = overdue(
        postgres,
        "api-keys",
        "add",
        "--name",
        name,
        "--scope",
        "accounts:read",
        "--scope",
        "payments:write",
    )
    assert added.returncode == 0, added.stderr
    key = added.stdout.strip().splitlines()[-1]
    assert "not shown again" in added.stderr
    conn = await asyncpg.connect(postgres.url)
    try:
        found = await find_active_key(conn, key)
        assert found is not None
        assert found.scopes == {Scope.ACCOUNTS_READ, Scope.PAYMENTS_WRITE}
        stored = await conn.fetchval("SELECT key_hash FROM api_keys WHERE name = $1", name)
        assert key.encode() not in bytes(stored)

        again = overdue(postgres, "api-keys", "add", "--name", name, "--scope", "accounts:read")
        assert again.returncode == 1 and "exists" in again.stderr

        listed = overdue(postgres, "api-keys", "list")
        assert name in listed.stdout and key not in listed.stdout

        assert overdue(postgres, "api-keys", "revoke", "--name", name).returncode == 0
        assert await find_active_key(conn, key) is None
        assert overdue(postgres, "api-keys", "revoke", "--name", name).returncode == 1
    finally:
        await conn.close()


async def test_users_add_reads_the_password_from_stdin(postgres: LocalPostgres) -> None:
    username = f"agent{uuid.uuid4().hex[:6]}"
    password = "correct horse battery"
    added = overdue(
        postgres,
        "users",
        "add",
        "--username",
        username,
        "--role",
        "agent",
        "--queue",
        "specialist",
        stdin=password + "\n",
    )
    assert added.returncode == 0, added.stderr
    assert password not in added.stdout + added.stderr
    pool = await asyncpg.create_pool(postgres.url, min_size=1, max_size=1)
    assert pool is not None
    try:
        user = await authenticate(pool, username, password)
        assert user is not None and user.queue.value == "specialist"
        assert await authenticate(pool, username, "wrong password!") is None
        stored = await pool.fetchval(
            "SELECT password_hash FROM console_users WHERE username = $1", username
        )
        assert stored.startswith("$argon2id$")
    finally:
        await pool.close()

    short = overdue(
        postgres, "users", "add", "--username", "x2", "--role", "agent", stdin="short\n"
    )
    assert short.returncode == 1 and "password" in short.stderr
    taken = overdue(
        postgres,
        "users",
        "add",
        "--username",
        username,
        "--role",
        "supervisor",
        stdin=password + "\n",
    )
    assert taken.returncode == 1 and "exists" in taken.stderr


# Ten runs of the CLI, each a fresh interpreter (2 s here, 6 s on a loaded CI machine).
@pytest.mark.timeout(240)
async def test_users_list_disable_enable_and_set_password(postgres: LocalPostgres) -> None:
    """Someone who left is disabled (their sessions end at once), someone who forgot their
    password gets a new one (read like `add`'s, never from argv); each change is audited."""
    username, password, new = f"agent{uuid.uuid4().hex[:6]}", "first password!", "second password!"
    assert (
        overdue(
            postgres,
            "users",
            "add",
            "--username",
            username,
            "--role",
            "agent",
            stdin=password + "\n",
        ).returncode
        == 0
    )
    pool = await asyncpg.create_pool(postgres.url, min_size=1, max_size=1)
    assert pool is not None
    try:
        user = await authenticate(pool, username, password)
        assert user is not None
        await open_session(pool, user, timedelta(hours=1))
        listed = overdue(postgres, "users", "list")
        assert f"{username}\tagent\tgeneral\t" in listed.stdout and "active" in listed.stdout

        disabled = overdue(postgres, "users", "disable", "--username", username)
        assert disabled.returncode == 0, disabled.stderr
        assert await authenticate(pool, username, password) is None
        assert await _sessions(pool, user.id) == 0
        assert "disabled" in overdue(postgres, "users", "list").stdout
        again = overdue(postgres, "users", "disable", "--username", username)
        assert again.returncode == 1 and "disabled already" in again.stderr
        assert overdue(postgres, "users", "enable", "--username", username).returncode == 0
        assert await authenticate(pool, username, password) is not None

        await open_session(pool, user, timedelta(hours=1))
        reset = overdue(postgres, "users", "set-password", "--username", username, stdin=new + "\n")
        assert reset.returncode == 0, reset.stderr
        assert new not in reset.stdout + reset.stderr
        assert await authenticate(pool, username, password) is None
        assert await authenticate(pool, username, new) is not None
        assert await _sessions(pool, user.id) == 0
        short = overdue(postgres, "users", "set-password", "--username", username, stdin="x\n")
        assert short.returncode == 1 and "password" in short.stderr
        nobody = overdue(
            postgres, "users", "set-password", "--username", "nobody-here", stdin=new + "\n"
        )
        assert nobody.returncode == 1 and "no user" in nobody.stderr

        kinds = await pool.fetch(
            "SELECT kind FROM audit_events WHERE details->>'user_id' = $1 ORDER BY id",
            str(user.id),
        )
        assert [k["kind"] for k in kinds] == [
            "console.user_disabled",
            "console.user_enabled",
            "console.password_set",
        ]
    finally:
        await pool.close()


async def _sessions(pool: asyncpg.Pool, user_id: int) -> int:
    count: int = await pool.fetchval(
        "SELECT count(*) FROM console_sessions WHERE user_id = $1", user_id
    )
    return count
