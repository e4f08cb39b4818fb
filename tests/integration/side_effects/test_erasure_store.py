"""Sealed texts and the erasure store on the real Postgres: a destroyed key reads as erased, an
erased account can have nothing sealed again, a contact of an erased account has nothing to
send; and migration 0011 seals the texts and re-keys the numbers already stored (and back)."""

from __future__ import annotations

import asyncio
import hashlib
import os
import uuid

import asyncpg
import pytest
from alembic import command

from overdue.erasure import NotErasableYet, UnknownAccount, erase_account
from overdue.migrate import alembic_config, upgrade_async
from overdue.number_refs import number_ref
from overdue.privacy_keys import Keyring, Unreadable, is_sealed, keyring, use_keyring
from overdue.store import contact_ledger, erasure, free_texts, sealed_texts
from overdue.store.contact_ledger import NewContact
from overdue.store.inbound_messages import record_inbound
from overdue.store.sealed_texts import ERASED, SubjectErased
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import add_customer, unique_phone

NAME = "Wuxian Sealtest"


async def test_a_destroyed_key_reads_as_erased_and_seals_nothing_more(
    twilio_stack: TwilioStack,
) -> None:
    pool = twilio_stack.pool
    customer = await add_customer(pool, name=NAME)
    kept = free_texts.new_text("dispute.reason", f"{NAME} disputes it")
    await free_texts.keep(pool, customer.account_id, kept)
    raw = await pool.fetchval("SELECT text FROM free_texts WHERE id = $1", kept.id)
    assert is_sealed(raw) and NAME not in raw
    assert await free_texts.texts_by_id(pool, [kept.id]) == {kept.id: f"{NAME} disputes it"}

    key = f"{customer.account_id}/e/d1_sms/1"
    new = NewContact(key, customer.account_id, "sms", "d1_sms", None, body=f"Hi {NAME}")
    assert (await contact_ledger.create_or_get(pool, new)).body == f"Hi {NAME}"

    async with pool.acquire() as conn, conn.transaction():
        done = await erasure.erase(conn, customer.account_id, "ops:test")
    assert done.counts["sealed_texts"] == 2 and done.counts["data_keys_destroyed"] == 1
    assert await sealed_texts.is_erased(pool, customer.account_id)
    assert await free_texts.texts_by_id(pool, [kept.id]) == {kept.id: ERASED}
    assert await sealed_texts.open_text(pool, raw) == ERASED
    # The ledger row stays, with nothing to send (a retry never texts "[erased]").
    row = await contact_ledger.find(pool, key, channel="sms", account_id=customer.account_id)
    assert row is not None and row.body is None
    listed = await contact_ledger.account_contacts(pool, customer.account_id, 10)
    assert [c["body"] for c in listed] == [ERASED]
    with pytest.raises(SubjectErased):
        await free_texts.keep(pool, customer.account_id, free_texts.new_text("call.note", "x"))

    async with pool.acquire() as conn, conn.transaction():
        again = await erasure.erase(conn, customer.account_id, "ops:someone-else")
    assert again == done  # the first erasure, unchanged
    audited = await pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE account_id = $1 AND kind = 'privacy.erased'",
        customer.account_id,
    )
    assert audited == 1


async def test_another_master_key_is_a_loud_error_not_an_erased_text(
    twilio_stack: TwilioStack,
) -> None:
    customer = await add_customer(twilio_stack.pool)
    token = await sealed_texts.seal_text(twilio_stack.pool, customer.account_id, NAME)
    usual = keyring()
    try:
        use_keyring(Keyring(master_key=os.urandom(32), number_key=usual.number_key))
        with pytest.raises(Unreadable, match="OVERDUE_PRIVACY_MASTER_KEY"):
            await sealed_texts.open_text(twilio_stack.pool, token)
    finally:
        use_keyring(None)
    assert await sealed_texts.open_text(twilio_stack.pool, token) == NAME


async def test_an_inbound_sms_of_a_number_another_account_keeps_is_kept(
    twilio_stack: TwilioStack,
) -> None:
    pool = twilio_stack.pool
    phone = unique_phone()
    erased, other = await add_customer(pool, phone=phone), await add_customer(pool, phone=phone)
    sid = f"SM{uuid.uuid4().hex}"
    async with pool.acquire() as conn, conn.transaction():
        await record_inbound(
            conn, message_sid=sid, from_e164=phone, body="hi", kind="reply", account_id=None
        )
        done = await erasure.erase(conn, erased.account_id, "ops:test")
    assert (done.counts["customer_details"], done.counts["inbound_messages"]) == (1, 0)
    kept = await pool.fetchrow(
        "SELECT from_e164, body FROM inbound_messages WHERE message_sid = $1", sid
    )
    assert kept["from_e164"] == phone and await sealed_texts.open_text(pool, kept["body"]) == "hi"
    assert (
        await pool.fetchval(
            "SELECT phone_e164 FROM customer_contacts WHERE account_id = $1", other.account_id
        )
        == phone
    )


_PLAIN_ROWS = """
INSERT INTO accounts (account_id, product, currency) VALUES ('a1', 'credit_line', 'CNY');
INSERT INTO customer_contacts (account_id, full_name, phone_e164, time_zone, locale)
VALUES ('a1', 'Wuxian Sealtest', '+8613900000011', 'Asia/Shanghai', 'en');
INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, body, status,
                            recipient)
VALUES ('a1/k', 'a1', 'sms', 's', 'Hello Wuxian Sealtest', 'sent', '+8613900000011');
INSERT INTO free_texts (id, account_id, kind, text) VALUES
    ('txt-00000000000000000000000000000001', 'a1', 'dispute.reason', 'Wuxian disputes'),
    ('txt-00000000000000000000000000000002', NULL, 'ops.reason', 'incident 42');
INSERT INTO inbound_messages (message_sid, from_e164, body, kind) VALUES
    ('SM1', '+8613900000011', 'this is Wuxian', 'reply'),
    ('SM2', '+8613900000099', 'who is this', 'reply');
INSERT INTO sms_opt_outs (phone_e164, opted_out, source) VALUES ('+8613900000011', true, 'x');
INSERT INTO sms_revocation_requests (message_sid, phone_e164) VALUES ('SM3', '+8613900000011');
INSERT INTO call_tasks (id, idempotency_key, account_id, stage_id, queue, due_at)
VALUES (1, 'a1/t', 'a1', 's', 'general', now());
"""
_TEXTS = """
SELECT (SELECT full_name FROM customer_contacts) AS name,
       (SELECT body FROM contact_ledger) AS ledger,
       (SELECT array_agg(text ORDER BY id) FROM free_texts) AS texts,
       (SELECT array_agg(body ORDER BY id) FROM inbound_messages) AS inbound
"""


async def test_migration_0011_seals_stored_texts_and_keys_numbers_by_reference(
    scratch_database: str,
) -> None:
    await upgrade_async(scratch_database, "0010")
    phone = "+8613900000011"
    old_ref = hashlib.sha256(b"overdue.dialled-number\x00" + phone.encode()).digest()
    db = await asyncpg.connect(scratch_database)
    try:
        await db.execute(_PLAIN_ROWS)
        await db.execute(
            """
            INSERT INTO dial_attempts (task_id, account_id, number_ref, agent_id, dialled_at,
                                       time_zone, local_at, outcome, unanswered, conversation,
                                       checked)
            VALUES (1, 'a1', $1, 'agent', now(), 'Asia/Shanghai', now(), 'busy', true, false,
                    '{}')
            """,
            old_ref,
        )
        plain = dict(await db.fetchrow(_TEXTS))
        await upgrade_async(scratch_database, "head")

        sealed = dict(await db.fetchrow(_TEXTS))
        for value in [sealed["name"], sealed["ledger"], *sealed["texts"], *sealed["inbound"]]:
            assert is_sealed(value) and "Wuxian" not in value
        assert sealed["inbound"][1].endswith(":*")  # a number no account has: the shared key
        opened = await sealed_texts.open_texts(
            db, [sealed["name"], sealed["ledger"], *sealed["texts"]]
        )
        assert opened == [plain["name"], plain["ledger"], *plain["texts"]]
        assert await db.fetchval(
            "SELECT opted_out FROM sms_opt_outs WHERE number_ref = $1", number_ref(phone)
        )
        assert (
            await db.fetchval(
                "SELECT count(*) FROM sms_revocation_requests WHERE number_ref = $1",
                number_ref(phone),
            )
            == 1
        )
        assert bytes(await db.fetchval("SELECT number_ref FROM dial_attempts")) == number_ref(phone)

        await asyncio.to_thread(command.downgrade, alembic_config(scratch_database), "0010")
        assert dict(await db.fetchrow(_TEXTS)) == plain
        assert await db.fetchval("SELECT phone_e164 FROM sms_opt_outs") == phone
        assert await db.fetchval("SELECT phone_e164 FROM sms_revocation_requests") == phone
        assert bytes(await db.fetchval("SELECT number_ref FROM dial_attempts")) == old_ref
    finally:
        await db.close()


async def test_a_report_waiting_to_reach_the_process_refuses_the_erasure(
    twilio_stack: TwilioStack,
) -> None:
    """The process of an account never started has ended, but a bill recorded for it and not
    yet delivered would start it: refused with the reason, nothing changed; once delivered and
    the process ended (never started here), erasable."""
    pool, temporal = twilio_stack.pool, twilio_stack.temporal
    customer = await add_customer(pool, name=NAME)
    await pool.execute(
        """
        INSERT INTO account_bills (account_id, bill_id, amount_minor, currency, due_date)
        VALUES ($1, 'b-1', 100, 'CNY', current_date)
        """,
        customer.account_id,
    )
    with pytest.raises(NotErasableYet, match="wait to reach its process"):
        await erase_account(pool, temporal, customer.account_id, "ops:test")
    assert not await sealed_texts.is_erased(pool, customer.account_id)
    assert (
        await pool.fetchval(
            "SELECT full_name FROM customer_contacts WHERE account_id = $1", customer.account_id
        )
        == NAME
    )

    await pool.execute(
        "UPDATE account_bills SET delivered_at = now() - interval '1 minute' WHERE account_id = $1",
        customer.account_id,
    )
    done = await erase_account(pool, temporal, customer.account_id, "ops:test")
    assert not done.already_erased and done.counts["customer_details"] == 1
    with pytest.raises(UnknownAccount):
        await erase_account(pool, temporal, "acct-never-reported", "ops:test")
