"""Personal data at rest: per-account data keys, sealed texts, numbers kept by keyed reference.

- `data_keys`: each subject's (an account's, or `*` for texts about no single account) AES-256
  data key, wrapped by the master key from settings; erasing an account destroys its key and
  keeps the row as a tombstone (`overdue.store.sealed_texts`).
- Texts already stored are sealed here, in Python, with the keys from settings:
  `customer_contacts.full_name`, `contact_ledger.body`, `free_texts.text`,
  `inbound_messages.body` (an inbound message under the first account of its number, by
  account id, or `*`).
- `sms_opt_outs` and `sms_revocation_requests` are keyed by `number_ref` (HMAC-SHA256 of the
  number, `overdue.number_refs`) instead of the number, so an opt-out survives the erasure of
  the customer who sent it. `dial_attempts.number_ref` (an unkeyed SHA-256 until now) is
  recomputed with the same key for every number Postgres still knows; an attempt whose number
  is known nowhere any more keeps its old digest (it no longer counts against anyone's caps).

Downgrading opens the texts again (an erased account's stay `[erased]`) and gives opt-outs
and requests back their numbers where Postgres still knows them; those of numbers known
nowhere (erased customers) are dropped, as the old schema cannot hold them.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

import hashlib

import asyncpg

from overdue.migrate import execute_script, run_async
from overdue.number_refs import number_ref
from overdue.privacy_keys import SHARED_SUBJECT, is_sealed
from overdue.store.sealed_texts import open_text, seal_text

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# Every table and column where a number may still be in clear, for mapping references.
_KNOWN_NUMBERS = """
    SELECT phone_e164 AS phone FROM customer_contacts WHERE phone_e164 <> ''
    UNION SELECT recipient FROM contact_ledger WHERE recipient IS NOT NULL
    UNION SELECT from_e164 FROM inbound_messages WHERE from_e164 <> ''
"""


def upgrade() -> None:
    execute_script("""
    CREATE TABLE data_keys (
        subject        text PRIMARY KEY CHECK (subject <> ''),
        wrapped_key    bytea,          -- nonce + AES-GCM(master key, data key); NULL: destroyed
        master_key_id  text,           -- which master key wrapped it (rotation)
        created_at     timestamptz NOT NULL DEFAULT now(),
        destroyed_at   timestamptz,
        CHECK ((wrapped_key IS NULL) = (destroyed_at IS NOT NULL))
    );
    -- A sealed text is longer than the text; the API still refuses texts over 2000 characters.
    ALTER TABLE free_texts DROP CONSTRAINT free_texts_text_check;
    ALTER TABLE sms_opt_outs ADD COLUMN number_ref bytea;
    ALTER TABLE sms_revocation_requests ADD COLUMN number_ref bytea;
    """)
    run_async(_seal_and_reference)
    execute_script("""
    ALTER TABLE sms_opt_outs DROP CONSTRAINT sms_opt_outs_pkey;
    ALTER TABLE sms_opt_outs DROP COLUMN phone_e164,
        ALTER COLUMN number_ref SET NOT NULL,
        ADD CONSTRAINT sms_opt_outs_number_ref CHECK (length(number_ref) = 32),
        ADD PRIMARY KEY (number_ref);
    ALTER TABLE sms_revocation_requests DROP COLUMN phone_e164,
        ALTER COLUMN number_ref SET NOT NULL,
        ADD CONSTRAINT sms_revocation_requests_number_ref CHECK (length(number_ref) = 32);
    CREATE INDEX sms_revocation_requests_undecided
        ON sms_revocation_requests (number_ref) WHERE decided_at IS NULL;
    """)


async def _seal_names(conn: asyncpg.Connection) -> None:
    for row in await conn.fetch("SELECT account_id, full_name FROM customer_contacts"):
        if not is_sealed(row["full_name"]):
            sealed = await seal_text(conn, row["account_id"], row["full_name"])
            await conn.execute(
                "UPDATE customer_contacts SET full_name = $2 WHERE account_id = $1",
                row["account_id"],
                sealed,
            )


async def _seal_and_reference(conn: asyncpg.Connection) -> None:
    await _seal_names(conn)
    for row in await conn.fetch("SELECT id, account_id, body FROM contact_ledger"):
        if row["body"] is not None and not is_sealed(row["body"]):
            sealed = await seal_text(conn, row["account_id"], row["body"])
            await conn.execute(
                "UPDATE contact_ledger SET body = $2 WHERE id = $1", row["id"], sealed
            )
    for row in await conn.fetch("SELECT id, account_id, text FROM free_texts"):
        if not is_sealed(row["text"]):
            sealed = await seal_text(conn, row["account_id"], row["text"])
            await conn.execute("UPDATE free_texts SET text = $2 WHERE id = $1", row["id"], sealed)
    inbound = await conn.fetch(
        """
        SELECT m.id, m.body, (SELECT min(c.account_id) FROM customer_contacts c
                               WHERE c.phone_e164 = m.from_e164) AS account_id
          FROM inbound_messages m
        """
    )
    for row in inbound:
        if not is_sealed(row["body"]):
            sealed = await seal_text(conn, row["account_id"] or SHARED_SUBJECT, row["body"])
            await conn.execute(
                "UPDATE inbound_messages SET body = $2 WHERE id = $1", row["id"], sealed
            )
    for table in ("sms_opt_outs", "sms_revocation_requests"):
        for phone in await conn.fetch(f"SELECT DISTINCT phone_e164 FROM {table}"):
            await conn.execute(
                f"UPDATE {table} SET number_ref = $2 WHERE phone_e164 = $1",
                phone[0],
                number_ref(phone[0]),
            )
    await _rekey_dial_attempts(conn)


async def _rekey_dial_attempts(conn: asyncpg.Connection) -> None:
    """Dial attempts are never changed, except by this one re-keying of their reference."""
    await conn.execute("ALTER TABLE dial_attempts DISABLE TRIGGER dial_attempts_no_update")
    for (phone,) in await conn.fetch(_KNOWN_NUMBERS):
        old = hashlib.sha256(b"overdue.dialled-number\x00" + phone.encode()).digest()
        await conn.execute(
            "UPDATE dial_attempts SET number_ref = $2 WHERE number_ref = $1", old, number_ref(phone)
        )
    await conn.execute("ALTER TABLE dial_attempts ENABLE TRIGGER dial_attempts_no_update")


def downgrade() -> None:
    execute_script("""
    ALTER TABLE sms_opt_outs ADD COLUMN phone_e164 text;
    ALTER TABLE sms_revocation_requests ADD COLUMN phone_e164 text;
    """)
    run_async(_open_and_unreference)
    execute_script("""
    DELETE FROM sms_opt_outs WHERE phone_e164 IS NULL;
    DELETE FROM sms_revocation_requests WHERE phone_e164 IS NULL;
    DROP INDEX sms_revocation_requests_undecided;
    ALTER TABLE sms_revocation_requests DROP COLUMN number_ref,
        ALTER COLUMN phone_e164 SET NOT NULL;
    CREATE INDEX sms_revocation_requests_undecided ON sms_revocation_requests (phone_e164)
        WHERE decided_at IS NULL;
    ALTER TABLE sms_opt_outs DROP CONSTRAINT sms_opt_outs_pkey;
    ALTER TABLE sms_opt_outs DROP COLUMN number_ref, ALTER COLUMN phone_e164 SET NOT NULL,
        ADD PRIMARY KEY (phone_e164);
    UPDATE free_texts SET text = left(text, 2000);
    ALTER TABLE free_texts ADD CONSTRAINT free_texts_text_check CHECK (length(text) <= 2000);
    DROP TABLE data_keys;
    """)


async def _open_and_unreference(conn: asyncpg.Connection) -> None:
    for row in await conn.fetch("SELECT account_id, full_name FROM customer_contacts"):
        if is_sealed(row["full_name"]):
            opened = await open_text(conn, row["full_name"])
            await conn.execute(
                "UPDATE customer_contacts SET full_name = $2 WHERE account_id = $1",
                row["account_id"],
                opened,
            )
    for table, column in (
        ("contact_ledger", "body"),
        ("free_texts", "text"),
        ("inbound_messages", "body"),
    ):
        for row in await conn.fetch(f"SELECT id, {column} AS value FROM {table}"):
            if row["value"] is not None and is_sealed(row["value"]):
                opened = await open_text(conn, row["value"])
                await conn.execute(
                    f"UPDATE {table} SET {column} = $2 WHERE id = $1", row["id"], opened
                )
    await conn.execute("ALTER TABLE dial_attempts DISABLE TRIGGER dial_attempts_no_update")
    for (phone,) in await conn.fetch(_KNOWN_NUMBERS):
        ref = number_ref(phone)
        for table in ("sms_opt_outs", "sms_revocation_requests"):
            await conn.execute(
                f"UPDATE {table} SET phone_e164 = $1 WHERE number_ref = $2", phone, ref
            )
        old = hashlib.sha256(b"overdue.dialled-number\x00" + phone.encode()).digest()
        await conn.execute(
            "UPDATE dial_attempts SET number_ref = $2 WHERE number_ref = $1", ref, old
        )
    await conn.execute("ALTER TABLE dial_attempts ENABLE TRIGGER dial_attempts_no_update")
