"""Policy versions by content digest (migration 0021, workflows/policy_shelf.py).

Written before the first process that names a version starts; read onto a process's shelf by
the worker (at start and for digests it missed) and by the API (to re-send a stored start).
"""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

import asyncpg

import workflows.policy_shelf as shelf
from workflows.policy import Policy
from workflows.policy_shelf import PolicyRef


async def keep(conn: asyncpg.Connection | asyncpg.Pool, policy: Policy) -> PolicyRef:
    """Store `policy` (once per digest) and shelve it here; its reference for an input."""
    ref = shelf.shelve(policy)
    await conn.execute(
        """
        INSERT INTO policy_versions (digest, policy_id, version, body)
        VALUES ($1, $2, $3, $4::jsonb)
        ON CONFLICT (digest) DO NOTHING
        """,
        ref.digest,
        ref.id,
        ref.version,
        shelf.canonical(policy).decode(),
    )
    return ref


async def stored_digests(conn: asyncpg.Connection | asyncpg.Pool) -> set[str]:
    return {r["digest"] for r in await conn.fetch("SELECT digest FROM policy_versions")}


async def shelve_stored(
    conn: asyncpg.Connection | asyncpg.Pool, digests: Collection[str] | None = None
) -> int:
    """Put stored versions onto this process's shelf: `digests` (those not there yet), or
    every stored version not on it. How many were added."""
    missing = (
        [d for d in digests if shelf.take(d) is None]
        if digests is not None
        else sorted(await stored_digests(conn) - shelf.on_shelf())
    )
    if not missing:
        return 0
    rows = await conn.fetch(
        "SELECT digest, body FROM policy_versions WHERE digest = ANY($1::text[])", missing
    )
    for row in rows:
        shelf.shelve_body(row["digest"], json.loads(row["body"]))
    return len(rows)


async def stored_bodies(
    conn: asyncpg.Connection | asyncpg.Pool, digests: Collection[str] | None = None
) -> dict[str, Any]:
    """Stored versions' JSON bodies by digest: those of `digests`, or every one (kept with a
    benchmark run's evidence). Not validated: a reader decides what to do with one that no
    longer is a policy."""
    rows = await conn.fetch(
        """
        SELECT digest, body FROM policy_versions
         WHERE $1::text[] IS NULL OR digest = ANY($1::text[]) ORDER BY digest
        """,
        None if digests is None else sorted(digests),
    )
    return {r["digest"]: json.loads(r["body"]) for r in rows}
