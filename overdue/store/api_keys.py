"""API keys for backend systems: generated once, stored only as a SHA-256 hash, with scopes.

A key is 32 random bytes, so a fast hash is enough (no password stretching needed); the
plain key is shown once by `overdue api-keys add` and never stored or logged.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import asyncpg

KEY_PREFIX = "odk_"
NAME_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class Scope(StrEnum):
    ACCOUNTS_READ = "accounts:read"  # status, timeline, contacts, listing
    ACCOUNTS_WRITE = "accounts:write"  # overdue reports, hardship, disputes, cease contact
    PAYMENTS_WRITE = "payments:write"  # payment reports
    PRIVACY_ERASE = "privacy:erase"  # erasing an account's personal data (api/erasure.py)
    PRIVACY_ACCESS = (
        "privacy:access"  # exporting an account's personal data (api/subject_access.py)
    )


ALL_SCOPES = frozenset(Scope)


@dataclass(frozen=True)
class ApiKey:
    id: int
    name: str
    scopes: frozenset[Scope]
    created_at: datetime
    revoked_at: datetime | None = None


class ApiKeyExists(ValueError):
    """An active key already has this name."""


def generate_key() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(32)


def hash_key(key: str) -> bytes:
    return hashlib.sha256(key.encode()).digest()


def _from_row(row: asyncpg.Record) -> ApiKey:
    return ApiKey(
        id=row["id"],
        name=row["name"],
        scopes=frozenset(Scope(s) for s in row["scopes"]),
        created_at=row["created_at"],
        revoked_at=row["revoked_at"],
    )


async def add_key(
    conn: asyncpg.Connection, name: str, scopes: Iterable[Scope]
) -> tuple[ApiKey, str]:
    """A new key with these scopes: its record and the plain key (shown once, never stored)."""
    if not NAME_PATTERN.match(name):
        raise ValueError("name: letters, digits, '_', '.', '-' (at most 64), e.g. billing-backend")
    wanted = sorted({Scope(s) for s in scopes})
    if not wanted:
        raise ValueError("give at least one scope")
    key = generate_key()
    try:
        row = await conn.fetchrow(
            """
            INSERT INTO api_keys (name, key_hash, scopes) VALUES ($1, $2, $3)
            RETURNING id, name, scopes, created_at, revoked_at
            """,
            name,
            hash_key(key),
            [s.value for s in wanted],
        )
    except asyncpg.UniqueViolationError:
        raise ApiKeyExists(f"an active key named {name!r} exists; revoke it first") from None
    assert row is not None
    return _from_row(row), key


async def find_active_key(conn: asyncpg.Connection | asyncpg.Pool, key: str) -> ApiKey | None:
    if not key.startswith(KEY_PREFIX):
        return None
    row = await conn.fetchrow(
        """
        SELECT id, name, scopes, created_at, revoked_at FROM api_keys
         WHERE key_hash = $1 AND revoked_at IS NULL
        """,
        hash_key(key),
    )
    return _from_row(row) if row else None


async def list_keys(conn: asyncpg.Connection) -> list[ApiKey]:
    rows = await conn.fetch(
        "SELECT id, name, scopes, created_at, revoked_at FROM api_keys ORDER BY name, id"
    )
    return [_from_row(row) for row in rows]


async def revoke_key(conn: asyncpg.Connection, name: str) -> bool:
    result = await conn.execute(
        "UPDATE api_keys SET revoked_at = now() WHERE name = $1 AND revoked_at IS NULL", name
    )
    return bool(result != "UPDATE 0")
