"""Agents and supervisors of the console: usernames, roles, queues, argon2 password hashes."""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from workflows.policy import CallQueue

USERNAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{1,31}$")
MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256

_hasher = PasswordHasher()


@functools.cache
def _dummy_hash() -> str:
    """Verified against when the username is unknown, so a miss costs as much as a hit."""
    return _hasher.hash(secrets.token_urlsafe(16))


class Role(StrEnum):
    AGENT = "agent"
    SUPERVISOR = "supervisor"
    MAILROOM = "mailroom"  # prints and posts letters; sees no account's tasks (migration 0025)


@dataclass(frozen=True)
class ConsoleUser:
    id: int
    username: str
    role: Role
    queue: CallQueue

    @property
    def is_supervisor(self) -> bool:
        return self.role is Role.SUPERVISOR

    @property
    def works_tasks(self) -> bool:
        """Agents and supervisors work call tasks; a mailroom clerk does not."""
        return self.role is not Role.MAILROOM

    @property
    def uses_mailroom(self) -> bool:
        return self.role in (Role.SUPERVISOR, Role.MAILROOM)


class UserExists(ValueError):
    """The username is taken."""


def check_username(username: str) -> str:
    if not USERNAME_PATTERN.match(username):
        raise ValueError(
            "username: 2-32 of a-z, 0-9, '_', '.', '-', starting with a letter or digit"
        )
    return username


def check_password(password: str) -> str:
    if not MIN_PASSWORD_LENGTH <= len(password) <= MAX_PASSWORD_LENGTH:
        raise ValueError(
            f"password: {MIN_PASSWORD_LENGTH} to {MAX_PASSWORD_LENGTH} characters, please"
        )
    return password


def _from_row(row: asyncpg.Record) -> ConsoleUser:
    return ConsoleUser(
        id=row["id"],
        username=row["username"],
        role=Role(row["role"]),
        queue=CallQueue(row["queue"]),
    )


async def add_user(
    conn: asyncpg.Connection, username: str, password: str, role: Role, queue: CallQueue
) -> ConsoleUser:
    check_username(username)
    check_password(password)
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    try:
        row = await conn.fetchrow(
            """
            INSERT INTO console_users (username, password_hash, role, queue)
            VALUES ($1, $2, $3, $4) RETURNING id, username, role, queue
            """,
            username,
            password_hash,
            role.value,
            queue.value,
        )
    except asyncpg.UniqueViolationError:
        raise UserExists(f"user {username!r} exists") from None
    assert row is not None
    return _from_row(row)


async def authenticate(pool: asyncpg.Pool, username: str, password: str) -> ConsoleUser | None:
    """The active user with this username and password, or None (same cost either way)."""
    row = await pool.fetchrow(
        """
        SELECT id, username, role, queue, password_hash FROM console_users
         WHERE username = $1 AND disabled_at IS NULL
        """,
        username,
    )
    stored = row["password_hash"] if row else await asyncio.to_thread(_dummy_hash)
    try:
        await asyncio.to_thread(_hasher.verify, stored, password[:MAX_PASSWORD_LENGTH])
    except (VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    if _hasher.check_needs_rehash(stored):
        new_hash = await asyncio.to_thread(_hasher.hash, password)
        await pool.execute(
            "UPDATE console_users SET password_hash = $2, updated_at = now() WHERE id = $1",
            row["id"],
            new_hash,
        )
    return _from_row(row)


@dataclass(frozen=True)
class UserListing:
    username: str
    role: str
    queue: str
    created_at: datetime
    disabled_at: datetime | None


async def list_users(conn: asyncpg.Connection | asyncpg.Pool) -> list[UserListing]:
    rows = await conn.fetch(
        "SELECT username, role, queue, created_at, disabled_at FROM console_users ORDER BY username"
    )
    return [UserListing(**dict(r)) for r in rows]


async def set_disabled(conn: asyncpg.Connection, username: str, *, disabled: bool) -> int | None:
    """Disable (or enable again) a user; disabling ends their sessions. The user's id, or None
    when no user has this name or it already was so."""
    user_id: int | None = await conn.fetchval(
        """
        UPDATE console_users
           SET disabled_at = CASE WHEN $2 THEN now() END, updated_at = now()
         WHERE username = $1 AND (disabled_at IS NOT NULL) <> $2
        RETURNING id
        """,
        username,
        disabled,
    )
    if user_id is not None and disabled:
        await conn.execute("DELETE FROM console_sessions WHERE user_id = $1", user_id)
    return user_id


async def set_password(conn: asyncpg.Connection, username: str, password: str) -> int | None:
    """A new password (an agent who forgot theirs); their sessions end. The user's id, or None
    when no user has this name."""
    check_password(password)
    password_hash = await asyncio.to_thread(_hasher.hash, password)
    user_id: int | None = await conn.fetchval(
        """
        UPDATE console_users SET password_hash = $2, updated_at = now()
         WHERE username = $1 RETURNING id
        """,
        username,
        password_hash,
    )
    if user_id is not None:
        await conn.execute("DELETE FROM console_sessions WHERE user_id = $1", user_id)
    return user_id
