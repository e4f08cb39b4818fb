"""Accounts and their customers: what backends report, the per-account lock, and the contact
details activities read.

The lock serializes the paths that must not interleave for one account: reporting an event
(a payment above all) and the last check a contact makes before it leaves
(`overdue.store.contact_gate`). It is a transaction-scoped advisory lock, released at commit.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from overdue.store.sealed_texts import open_text, seal_text


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
    full_name = await open_text(conn, row["full_name"])  # sealed at rest (docs/privacy.md)
    assert full_name is not None
    return ContactDetails(full_name=full_name, phone_e164=row["phone_e164"], locale=row["locale"])


async def account_exists(conn: asyncpg.Connection | asyncpg.Pool, account_id: str) -> bool:
    """Whether a backend ever reported this account (its process may have ended since)."""
    return bool(await conn.fetchval("SELECT 1 FROM accounts WHERE account_id = $1", account_id))


async def account_currency(conn: asyncpg.Connection | asyncpg.Pool, account_id: str) -> str | None:
    """The currency the account was reported in; None for an account never reported."""
    currency: str | None = await conn.fetchval(
        "SELECT currency FROM accounts WHERE account_id = $1", account_id
    )
    return currency


async def customer_phone(conn: asyncpg.Connection | asyncpg.Pool, account_id: str) -> str | None:
    """The customer's number as last reported (personal data: for an agent's eyes only)."""
    phone: str | None = await conn.fetchval(
        "SELECT phone_e164 FROM customer_contacts WHERE account_id = $1", account_id
    )
    return phone


async def customer_reach(
    conn: asyncpg.Connection | asyncpg.Pool, account_id: str
) -> tuple[str | None, str | None]:
    """The customer's phone and time zone: what decides whether they may be called now."""
    row = await conn.fetchrow(
        "SELECT phone_e164, time_zone FROM customer_contacts WHERE account_id = $1", account_id
    )
    return (None, None) if row is None else (row["phone_e164"], row["time_zone"])


async def store_account(
    conn: asyncpg.Connection, account_id: str, *, product: str, currency: str
) -> None:
    """Create the account, or bring its product and currency up to the latest report."""
    await conn.execute(
        """
        INSERT INTO accounts (account_id, product, currency) VALUES ($1, $2, $3)
        ON CONFLICT (account_id) DO UPDATE
           SET product = EXCLUDED.product, currency = EXCLUDED.currency, updated_at = now()
        """,
        account_id,
        product,
        currency,
    )


@dataclass(frozen=True)
class CustomerReport:
    """The customer as a backend reports them (personal data: never logged, never sent to
    Temporal)."""

    full_name: str
    phone_e164: str
    time_zone: str
    locale: str
    postal_address: str | None = None  # lines joined by '\n'; None: not in this report


async def store_customer(
    conn: asyncpg.Connection, account_id: str, customer: CustomerReport
) -> None:
    """Replace the customer's details with the latest report. Activities read them at send
    time, so an updated phone number takes effect at the next contact. The name and postal
    address are sealed with the account's key (`sealed_texts`); a report without an address
    keeps the one known (letters need it, and not every backend report carries it)."""
    full_name = await seal_text(conn, account_id, customer.full_name)
    address = customer.postal_address
    sealed_address = None if address is None else await seal_text(conn, account_id, address)
    await conn.execute(
        """
        INSERT INTO customer_contacts
            (account_id, full_name, phone_e164, time_zone, locale, postal_address)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (account_id) DO UPDATE
           SET full_name = EXCLUDED.full_name, phone_e164 = EXCLUDED.phone_e164,
               time_zone = EXCLUDED.time_zone, locale = EXCLUDED.locale,
               postal_address = coalesce(EXCLUDED.postal_address,
                                         customer_contacts.postal_address),
               updated_at = now()
        """,
        account_id,
        full_name,
        customer.phone_e164,
        customer.time_zone,
        customer.locale,
        sealed_address,
    )
