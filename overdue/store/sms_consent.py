"""SMS consent per phone number, and the accounts a phone number belongs to.

Consent is kept per number: STOP from a phone covers every account with that number, and the
SMS activity checks it before every send. Each change takes the next value of one sequence
(`version`, migration 0007): the API signals workflows the stored state with its version, and
a workflow ignores a version older than one it applied (a STOP redelivered after START).
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from overdue.number_refs import number_ref


@dataclass(frozen=True)
class PhoneAccount:
    account_id: str
    locale: str


@dataclass(frozen=True)
class ConsentState:
    opted_out: bool
    version: int


async def consent_state(
    conn: asyncpg.Connection | asyncpg.Pool, phone_e164: str
) -> ConsentState | None:
    """The number's stored consent and its version; None when it never changed."""
    row = await conn.fetchrow(
        "SELECT opted_out, version FROM sms_opt_outs WHERE number_ref = $1", number_ref(phone_e164)
    )
    return None if row is None else ConsentState(row["opted_out"], row["version"])


async def is_opted_out(conn: asyncpg.Connection | asyncpg.Pool, phone_e164: str) -> bool:
    opted_out: bool | None = await conn.fetchval(
        "SELECT opted_out FROM sms_opt_outs WHERE number_ref = $1", number_ref(phone_e164)
    )
    return bool(opted_out)


async def set_consent(
    conn: asyncpg.Connection, phone_e164: str, *, opted_out: bool, source: str
) -> bool:
    """Record the number's consent; True when that changed it (a repeated STOP does not)."""
    changed: bool | None = await conn.fetchval(
        """
        INSERT INTO sms_opt_outs (number_ref, opted_out, source) VALUES ($1, $2, $3)
        ON CONFLICT (number_ref) DO UPDATE
           SET opted_out = EXCLUDED.opted_out, source = EXCLUDED.source, changed_at = now(),
               version = nextval('sms_consent_version')
         WHERE sms_opt_outs.opted_out IS DISTINCT FROM EXCLUDED.opted_out
        RETURNING true
        """,
        number_ref(phone_e164),
        opted_out,
        source,
    )
    return bool(changed)


async def accounts_for_phone(
    conn: asyncpg.Connection | asyncpg.Pool, phone_e164: str
) -> list[PhoneAccount]:
    rows = await conn.fetch(
        """
        SELECT account_id, locale FROM customer_contacts WHERE phone_e164 = $1
         ORDER BY account_id
        """,
        phone_e164,
    )
    return [PhoneAccount(account_id=r["account_id"], locale=r["locale"]) for r in rows]
