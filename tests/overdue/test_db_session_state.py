"""The pool does not run asyncpg's reset query on release (overdue/db.py): that is safe only
while no code keeps state in a Postgres session. These tests find the statements that would
(session advisory locks, LISTEN, a session SET, a cursor held past its transaction) in every
package that talks to Postgres. On a real Postgres: tests/integration/test_db_pool.py."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
PACKAGES = ("overdue", "api", "activities", "workers", "workflows")

# What asyncpg's reset query (pg_advisory_unlock_all, CLOSE ALL, UNLISTEN *, RESET ALL) clears.
SESSION_STATE = {
    "a session advisory lock": re.compile(r"pg_(try_)?advisory_lock(_shared)?\s*\(", re.I),
    "LISTEN": re.compile(r"\bLISTEN\s+\w|\.add_listener\(", re.I),
    # SQL keywords are written in capitals here: "set OVERDUE_X to ..." in a message is not SQL.
    "a session SET": re.compile(r"""["'(;]\s*SET\s+(?!LOCAL\b)(SESSION\s+)?[\w\s.]+?(=|\bTO\b)"""),
    "set_config for the session": re.compile(r"set_config\([^)]*,\s*false\s*\)", re.I),
    "a cursor held past its transaction": re.compile(r"\bWITH\s+HOLD\b", re.I),
}


def session_state(source: str) -> list[str]:
    return [what for what, pattern in SESSION_STATE.items() if pattern.search(source)]


@pytest.mark.parametrize(
    ("planted", "found"),
    [
        ("await con.execute('SELECT pg_advisory_lock($1)', key)", "a session advisory lock"),
        ('await con.execute("LISTEN relay")', "LISTEN"),
        ("await con.add_listener('relay', on_note)", "LISTEN"),
        ('await con.execute("SET statement_timeout = 5000")', "a session SET"),
        ("await con.execute(\"SET TIME ZONE TO 'UTC'\")", "a session SET"),
        ("SELECT set_config('app.user', $1, false)", "set_config for the session"),
        ("DECLARE c CURSOR WITH HOLD FOR SELECT 1", "a cursor held past its transaction"),
    ],
)
def test_session_state_is_found(planted: str, found: str) -> None:
    assert session_state(planted) == [found]


@pytest.mark.parametrize(
    "allowed",
    [
        "SELECT pg_advisory_xact_lock(hashtext($1))",
        'await con.execute("SET LOCAL statement_timeout = 5000")',
        "UPDATE contact_ledger SET status = $2 WHERE key = $1",
        "SELECT set_config('app.user', $1, true)",
    ],
)
def test_transaction_scoped_state_is_allowed(allowed: str) -> None:
    assert session_state(allowed) == []


def test_no_code_keeps_state_in_a_session() -> None:
    found = {
        str(path.relative_to(ROOT)): what
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if (what := session_state(path.read_text()))
    }
    assert found == {}, "the pool no longer resets sessions (overdue/db.py)"
