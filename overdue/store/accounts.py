"""Accounts and their customers: the per-account lock, and the contact details activities read.

The lock serializes the paths that must not interleave for one account: reporting an event
(a payment above all) and the last check a contact makes before it leaves
(`overdue.store.contact_gate`). It is a transaction-scoped advisory lock, released at commit.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg


def account_lock_key(account_id: str) -> str:
    """The text whose `hashtext` is the account's advisory-lock key; the one place it is built."""
    return f"account:{account_id}"


async def lock_account(conn: asyncpg.Connection, account_id: str) -> None:
    """Hold the account's lock for the rest of this transaction (wait while another holds it)."""
    await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", account_lock_key(account_id))


@dataclass(frozen=True)
class ContactDetails:
    """Personal data: never logged, never sent to Temporal."""

    full_name: str
    phone_e164: str
    locale: str


async def contact_details(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str
) -> ContactDetails | None:
    """The customer's details as last reported (read at send time: a new number counts)."""
    row = await conn.fetchrow(
        "SELECT full_name, phone_e164, locale FROM customer_contacts WHERE account_id = $1",
        account_id,
    )
    if row is None:
        return None
    return ContactDetails(
        full_name=row["full_name"], phone_e164=row["phone_e164"], locale=row["locale"]
    )
