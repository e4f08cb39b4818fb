"""Erasure keeps the record (issue 15): an erased account's name and phone are found nowhere in
Postgres (every column of every table, cast to text) while its collection record stays; its
opt-out still holds; readers show "[erased]" where a text was.

The account lives on the real stack: reported through the API, texted by the worker, answered by
the customer through the signed Twilio webhook (a reply, a request to stop texting, STOP),
disputed and reported in hardship with reasons that name them, paid, and then erased.
"""

from __future__ import annotations

import random
import string
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
from temporalio.client import WorkflowExecutionStatus

from overdue.number_refs import number_ref
from overdue.store.accounts import contact_details
from overdue.store.api_keys import Scope
from overdue.store.audit_chain import verify_chain
from overdue.store.sealed_texts import ERASED
from tests.integration.conftest import Stack
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.test_twilio_webhooks import (
    INBOUND_PATH,
    inbound_params,
    post_signed,
)
from tests.integration.support import (
    assert_problem,
    client,
    decoded_history,
    eventually,
    key_with,
    new_account,
    overdue_body,
)
from workflows.names import workflow_id


def _word(rng: random.Random) -> str:
    return rng.choice(string.ascii_uppercase) + "".join(rng.choices(string.ascii_lowercase, k=9))


def _person() -> tuple[str, str]:
    """A name and a Chinese mobile number no other test uses."""
    rng = random.Random(uuid.uuid4().int)
    return f"{_word(rng)} {_word(rng)}", "+86139" + "".join(rng.choices(string.digits, k=8))


async def _scan(pool: asyncpg.Pool, needles: list[str]) -> list[str]:
    """Every (table.column: needle) where a needle occurs, in every table of the database."""
    columns = await pool.fetch(
        """
        SELECT c.table_schema, c.table_name, c.column_name
          FROM information_schema.columns c
          JOIN information_schema.tables t
            ON (t.table_schema, t.table_name) = (c.table_schema, c.table_name)
         WHERE t.table_type = 'BASE TABLE'
           AND c.table_schema NOT IN ('pg_catalog', 'information_schema')
        """
    )
    assert len(columns) > 50  # the whole schema, not a few tables
    found = []
    for schema, table, column in columns:
        for needle in needles:
            hits = await pool.fetchval(
                f'SELECT count(*) FROM "{schema}"."{table}" '
                f'WHERE strpos(lower("{column}"::text), lower($1)) > 0',
                needle,
            )
            if hits:
                found.append(f"{table}.{column}: {needle!r} x{hits}")
    return found


async def _record(pool: asyncpg.Pool, account: str) -> dict[str, Any]:
    """The collection record of the account, as counts and ids."""
    return {
        "audit": await pool.fetchval(
            "SELECT array_agg(id ORDER BY id) FROM audit_events WHERE account_id = $1", account
        ),
        "receipts": await pool.fetchval(
            "SELECT array_agg(id ORDER BY id) FROM compliance_receipts WHERE account_id = $1",
            account,
        ),
        "ledger": await pool.fetchval(
            "SELECT array_agg(id ORDER BY id) FROM contact_ledger WHERE account_id = $1", account
        ),
        "tasks": await pool.fetchval(
            "SELECT array_agg(id ORDER BY id) FROM call_tasks WHERE account_id = $1", account
        ),
    }


async def _live_account(stack: Stack, twilio_stack: TwilioStack, name: str, phone: str) -> str:
    account = new_account()
    body = overdue_body()
    body["customer"] = {**body["customer"], "name": name, "phone": phone}
    answer = await stack.api.put(f"/v1/accounts/{account}/overdue", json=body)
    assert answer.status_code == 201, answer.text
    await eventually(
        lambda: stack.pool.fetchval(
            "SELECT 1 FROM contact_ledger WHERE account_id = $1 AND channel = 'sms' "
            "AND status <> 'pending'",
            account,
        )
    )
    for text in (f"this is {name}, call me on {phone}", f"{name} here: stop texting me", "STOP"):
        code, _ = await post_signed(twilio_stack, INBOUND_PATH, inbound_params(phone, text))
        assert code == 200
    api = stack.api
    for path, payload in (
        ("disputes", {"dispute_id": "d-1", "reason": f"{name} ({phone}) disputes the fee"}),
        ("disputes/d-1/close", {"resolution": f"{name} agreed on {phone.removeprefix('+')}"}),
        ("hardship", {"report_id": "h-1", "reason": f"{name} lost a job"}),
    ):
        answer = await api.post(f"/v1/accounts/{account}/{path}", json=payload)
        assert answer.status_code == 202, answer.text
    return account


async def pay_in_full(stack: Stack, account: str, amount_minor: int = 50_000) -> None:
    paid = await stack.api.post(
        f"/v1/accounts/{account}/payments",
        json={
            "payment_id": "p-1",
            "amount_minor": amount_minor,
            "currency": "CNY",
            "paid_at": datetime.now(UTC).isoformat(),
        },
    )
    assert paid.status_code == 202, paid.text
    handle = stack.temporal.get_workflow_handle(workflow_id(account))

    async def ended() -> bool:
        return (await handle.describe()).status == WorkflowExecutionStatus.COMPLETED

    await eventually(ended)


async def test_an_erased_account_is_found_nowhere_and_its_record_stays(
    stack: Stack, twilio_stack: TwilioStack
) -> None:
    name, phone = _person()
    account = await _live_account(stack, twilio_stack, name, phone)
    needles = [name, *name.split(), phone, phone.removeprefix("+"), phone.removeprefix("+86")]
    assert await _scan(stack.pool, needles)  # the scan finds them while they are kept
    # Never in Temporal: the workflow's history, its payloads decoded, has none of them.
    history = await decoded_history(stack, account)
    assert [n for n in (name, phone, phone.removeprefix("+")) if n in history] == []

    # While the process runs: refused with the reason, and nothing changes.
    before = await _record(stack.pool, account)
    refused = assert_problem(await stack.api.post(f"/v1/accounts/{account}/erasure"), 409)
    assert "still running" in refused["detail"]
    assert await _record(stack.pool, account) == before
    details = await contact_details(stack.pool, account)
    assert details is not None and (details.full_name, details.phone_e164) == (name, phone)

    await pay_in_full(stack, account)
    before = await _record(stack.pool, account)
    answer = await stack.api.post(f"/v1/accounts/{account}/erasure")
    assert answer.status_code == 200, answer.text
    done = answer.json()
    assert done["already_erased"] is False and done["account_id"] == account
    assert done["counts"]["customer_details"] == 1
    assert done["counts"]["data_keys_destroyed"] == 1
    assert done["counts"]["sealed_texts"] >= 6  # SMS, 3 inbound, revocation, 3 reasons
    assert done["counts"]["inbound_messages"] == 3

    assert await _scan(stack.pool, needles) == []

    # The record stays, plus the erasure's own audit row (counts only).
    after = await _record(stack.pool, account)
    assert after["audit"][: len(before["audit"])] == before["audit"]
    assert len(after["audit"]) == len(before["audit"]) + 1
    assert {k: after[k] for k in ("receipts", "ledger", "tasks")} == {
        k: before[k] for k in ("receipts", "ledger", "tasks")
    }
    assert before["receipts"] and before["ledger"]
    # The audit trail's hash chain still verifies, the erasure's own row included: erasure
    # destroys keys and blanks fields, it never edits or removes an audit row.
    chain = await verify_chain(stack.pool)
    assert chain.ok, chain.broken
    assert chain.checked >= len(after["audit"])
    erased = await stack.pool.fetchrow(
        "SELECT actor, details FROM audit_events WHERE account_id = $1 AND kind = 'privacy.erased'",
        account,
    )
    assert erased["actor"].startswith("api:")
    # The opt-out is kept (by keyed reference): the number, if it comes back, stays opted out.
    assert await stack.pool.fetchval(
        "SELECT opted_out FROM sms_opt_outs WHERE number_ref = $1", number_ref(phone)
    )

    # Readers show the gap, never crash.
    contacts = await stack.api.get(f"/v1/accounts/{account}/contacts")
    assert contacts.status_code == 200, contacts.text
    sms = [c for c in contacts.json()["contacts"] if c["channel"] == "sms"]
    assert sms and all(c["body"] == ERASED for c in sms)
    timeline = await stack.api.get(f"/v1/accounts/{account}/timeline")
    assert timeline.status_code == 200, timeline.text
    texts = [i["details"]["text"] for i in timeline.json()["entries"] if "text" in i["details"]]
    assert texts and set(texts) == {ERASED}

    # Idempotent: the first erasure again, nothing written.
    again = await stack.api.post(f"/v1/accounts/{account}/erasure")
    assert again.status_code == 200, again.text
    assert again.json() == {**done, "already_erased": True}
    assert await _record(stack.pool, account) == after

    # An erased account id stays erased: a new report or event is refused and keeps nothing.
    report = overdue_body()
    report["customer"] = {**report["customer"], "name": name, "phone": phone}
    refused = assert_problem(
        await stack.api.put(f"/v1/accounts/{account}/overdue", json=report), 409
    )
    assert refused["title"] == "Account erased"
    dispute = {"dispute_id": "d-2", "reason": f"{name} again"}
    assert_problem(await stack.api.post(f"/v1/accounts/{account}/disputes", json=dispute), 409)
    assert await _scan(stack.pool, needles) == []
    assert await _record(stack.pool, account) == after


async def test_erasure_answers_precisely_at_its_boundary(stack: Stack) -> None:
    unknown = assert_problem(await stack.api.post(f"/v1/accounts/{new_account()}/erasure"), 404)
    assert "unknown" in unknown["title"].lower()
    assert_problem(await stack.api.post("/v1/accounts/bad%20id!/erasure"), 422)
    assert_problem(
        await stack.api.post("/v1/accounts/x/erasure", headers={"Authorization": ""}), 401
    )
    # Erasure is its own scope: a key that may write accounts may not erase them.
    writer = await key_with(stack, Scope.ACCOUNTS_WRITE, Scope.ACCOUNTS_READ)
    async with client(stack, writer) as api:
        assert_problem(await api.post(f"/v1/accounts/{new_account()}/erasure"), 403)
