"""Erasing an account's personal data while its collection record stays (`overdue.erasure`).

In one transaction, under the account's lock: the account's data key is destroyed (every text
sealed for it, bodies and typed texts alike, becomes unreadable, backups included), and the
personal values kept in clear are blanked: the customer's name, number and postal address,
the letters' PDFs (their hashes and mailroom marks stay), the numbers the
ledger sent to and the provider's error messages (Twilio's name the number), and the SMS the
number sent when no other account still has that number. The record stays: audit events,
compliance receipts, ledger rows (without body or number), contact events, call tasks, dial
attempts and opt-outs (kept by keyed reference, `overdue.number_refs`). One `privacy.erased`
audit row counts what was erased, per data class, without a personal value.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from overdue.store import audit, letters, sealed_files, selfservice_records
from overdue.store.accounts import lock_account
from overdue.store.sealed_texts import ERASED, destroy_key

ERASED_KIND = "privacy.erased"
# A token is 'sealed:v1:<base64>:<subject>' (`overdue.privacy_keys.seal`).
_SUBJECT = r"^sealed:v1:[^:]*:(.*)$"


@dataclass(frozen=True)
class Erasure:
    """An account's erasure as recorded: when, by whom, and how many of each data class."""

    erased_at: datetime
    actor: str
    counts: dict[str, int]


async def recorded_erasure(
    db: asyncpg.Connection | asyncpg.Pool, account_id: str
) -> Erasure | None:
    """The account's erasure, None when it was never erased."""
    row = await db.fetchrow(
        """
        SELECT occurred_at, actor, details FROM audit_events
         WHERE account_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1
        """,
        account_id,
        ERASED_KIND,
    )
    if row is None:
        return None
    details: dict[str, Any] = json.loads(row["details"])
    return Erasure(row["occurred_at"], row["actor"], dict(details.get("counts", {})))


async def erase(conn: asyncpg.Connection, account_id: str, actor: str) -> Erasure:
    """Erase the account's personal data in the caller's transaction (see the module); the
    recorded erasure when it was erased before (nothing changes then)."""
    await lock_account(conn, account_id)
    if (before := await recorded_erasure(conn, account_id)) is not None:
        return before
    numbers = await _numbers(conn, account_id)
    counts = {
        "sealed_texts": await _sealed_count(conn, account_id),
        "customer_details": await _blank_customer(conn, account_id),
        "ledger_numbers": await _blank_ledger(conn, account_id),
        "contact_event_details": await _blank_contact_events(conn, account_id),
        "inbound_messages": await _blank_inbound(conn, account_id, numbers),
        "letter_pdfs": await letters.erase(conn, account_id),
        "evidence_files": await sealed_files.erase_files(conn, account_id),
        "identity_values": await selfservice_records.forget_identity(conn, account_id),
        "data_keys_destroyed": int(await destroy_key(conn, account_id)),
    }
    await audit.record_event(
        conn, account_id=account_id, actor=actor, kind=ERASED_KIND, details={"counts": counts}
    )
    erased = await recorded_erasure(conn, account_id)
    assert erased is not None
    return erased


async def _numbers(conn: asyncpg.Connection, account_id: str) -> list[str]:
    """Every number the account had: on file now, and those its SMS went to."""
    rows = await conn.fetch(
        """
        SELECT phone_e164 FROM customer_contacts WHERE account_id = $1 AND phone_e164 <> ''
        UNION
        SELECT recipient FROM contact_ledger WHERE account_id = $1 AND recipient IS NOT NULL
        """,
        account_id,
    )
    return [row[0] for row in rows]


async def _sealed_count(conn: asyncpg.Connection, account_id: str) -> int:
    """Texts sealed for the account (ledger bodies, typed texts, inbound SMS): unreadable once
    its key is gone. Bodies not sealed (none after migration 0011) are dropped outright."""
    await conn.execute(
        """
        UPDATE contact_ledger SET body = NULL
         WHERE account_id = $1 AND body IS NOT NULL AND body NOT LIKE 'sealed:v1:%'
        """,
        account_id,
    )
    count: int = await conn.fetchval(
        f"""
        SELECT (SELECT count(*) FROM contact_ledger
                 WHERE account_id = $1 AND substring(body FROM '{_SUBJECT}') = $1)
             + (SELECT count(*) FROM free_texts
                 WHERE substring(text FROM '{_SUBJECT}') = $1)
             + (SELECT count(*) FROM inbound_messages
                 WHERE substring(body FROM '{_SUBJECT}') = $1)
        """,
        account_id,
    )
    return count


async def _blank_customer(conn: asyncpg.Connection, account_id: str) -> int:
    result = await conn.execute(
        """
        UPDATE customer_contacts
           SET full_name = $2, phone_e164 = '', postal_address = NULL, updated_at = now()
         WHERE account_id = $1
        """,
        account_id,
        ERASED,
    )
    return _affected(result)


async def _blank_ledger(conn: asyncpg.Connection, account_id: str) -> int:
    result = await conn.execute(
        """
        UPDATE contact_ledger SET recipient = NULL, error_message = NULL
         WHERE account_id = $1 AND (recipient IS NOT NULL OR error_message IS NOT NULL)
        """,
        account_id,
    )
    return _affected(result)


async def _blank_contact_events(conn: asyncpg.Connection, account_id: str) -> int:
    """A provider failure's `detail` may quote the number: dropped, the event kept."""
    result = await conn.execute(
        """
        UPDATE contact_events e SET detail = NULL
          FROM contact_ledger l
         WHERE e.ledger_id = l.id AND l.account_id = $1 AND e.detail IS NOT NULL
        """,
        account_id,
    )
    return _affected(result)


async def _blank_inbound(conn: asyncpg.Connection, account_id: str, numbers: list[str]) -> int:
    """The SMS the account's numbers sent, unless another account still has the number (they
    are that account's record too, and its customer's number is in Postgres anyway)."""
    result = await conn.execute(
        """
        UPDATE inbound_messages SET from_e164 = '', body = ''
         WHERE from_e164 = ANY($2::text[])
           AND NOT EXISTS (SELECT 1 FROM customer_contacts c
                            WHERE c.phone_e164 = inbound_messages.from_e164
                              AND c.account_id <> $1)
        """,
        account_id,
        numbers,
    )
    return _affected(result)


def _affected(status: str) -> int:
    """The row count of an asyncpg command status ('UPDATE 3')."""
    return int(status.rsplit(" ", 1)[-1])


async def database_now(db: asyncpg.Connection | asyncpg.Pool) -> datetime:
    """Postgres's clock: what `delivered_at` is compared with."""
    now: datetime = await db.fetchval("SELECT now()")
    return now


async def reports_since(conn: asyncpg.Connection, account_id: str, since: datetime) -> int:
    """Bills and events for the account not yet delivered to its process (the relay will
    start or signal it), or delivered at or after `since` (it may have started again after
    the caller saw it ended)."""
    count: int = await conn.fetchval(
        """
        SELECT (SELECT count(*) FROM account_bills
                 WHERE account_id = $1 AND (delivered_at IS NULL OR delivered_at >= $2))
             + (SELECT count(*) FROM reported_events
                 WHERE account_id = $1 AND (delivered_at IS NULL OR delivered_at >= $2))
        """,
        account_id,
        since,
    )
    return count
