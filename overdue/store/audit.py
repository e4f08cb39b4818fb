"""The audit trail: every event and contact, who did it and when. Append-only.

The table rejects UPDATE, DELETE and TRUNCATE (a trigger), so the collection record a regulator
asks for cannot be edited after the fact. Details refer to people by account id only. Each
row is also chained to the one before by a SHA-256 hash a trigger computes as it is inserted
(overdue/store/audit_chain.py): an edit made past the trigger is found by `overdue audit verify`.
Inserting an event holds the chain's head until the transaction ends: record it late.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any

import asyncpg

_KIND = re.compile(r"^[a-z][a-z0-9_.]*$")


async def record_event(
    conn: asyncpg.Connection | asyncpg.Pool,
    *,
    account_id: str | None,
    actor: str,
    kind: str,
    details: Mapping[str, Any] | None = None,
) -> int:
    """Append one event; returns its id. Call inside the transaction that made the change.

    `actor` is who acted (an agent id, `system`, `customer`, `twilio`, a backend's key name);
    `kind` is a dotted lower-case name such as `sms.opted_out`; `details` a JSON object.
    """
    if not actor.strip():
        raise ValueError("audit actor must not be empty")
    if not _KIND.fullmatch(kind):
        raise ValueError(f"audit kind {kind!r} must be dotted lower-case, like 'sms.opted_out'")
    try:
        payload = json.dumps(dict(details or {}), sort_keys=True, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"audit details for {kind!r} are not a JSON object: {err}") from None
    event_id: int = await conn.fetchval(
        """
        INSERT INTO audit_events (account_id, actor, kind, details)
        VALUES ($1, $2, $3, $4::jsonb) RETURNING id
        """,
        account_id,
        actor,
        kind,
        payload,
    )
    return event_id
