"""SMS the customers sent us (Twilio's inbound webhook), one row per provider message SID.

The SID is unique, so a delivery Twilio repeats is stored once and acted on once.
"""

from __future__ import annotations

import asyncpg

from overdue.store.sealed_texts import seal_text


async def record_inbound(
    conn: asyncpg.Connection,
    *,
    message_sid: str,
    from_e164: str,
    body: str,
    kind: str,
    account_id: str | None,
) -> int | None:
    """Store an inbound message; its row id, or None when this SID was stored before. The
    body is sealed with `account_id`'s data key (the number's first account; None: a number
    no account has, the shared key)."""
    sealed = await seal_text(conn, account_id, body)
    row_id: int | None = await conn.fetchval(
        """
        INSERT INTO inbound_messages (message_sid, from_e164, body, kind)
        VALUES ($1, $2, $3, $4)
        ON CONFLICT (message_sid) DO NOTHING RETURNING id
        """,
        message_sid,
        from_e164,
        sealed,
        kind,
    )
    return row_id
