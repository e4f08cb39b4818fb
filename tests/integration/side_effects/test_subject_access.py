"""The right of access (PIPL art. 45, GDPR arts. 15 and 20): `GET .../personal-data` hands out
everything held about an account, decrypted; after its erasure, what is left, with none of the
personal values; every access audited with counts only; a refused request changes nothing.

The account lives on the real stack, as in test_erasure_scan.py: reported with consent through
the API, texted by the worker, answered through the signed Twilio webhook, disputed with a
reason that names the customer, paid, erased.
"""

from __future__ import annotations

import json
import random
import string
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from overdue.number_refs import number_ref
from overdue.store.api_keys import Scope
from overdue.store.sealed_texts import ERASED
from overdue.subject_access import ACCESSED_KIND
from tests.integration.conftest import Stack
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.test_erasure_scan import pay_in_full
from tests.integration.side_effects.test_twilio_webhooks import (
    INBOUND_PATH,
    inbound_params,
    post_signed,
)
from tests.integration.support import (
    assert_problem,
    client,
    eventually,
    key_with,
    new_account,
    overdue_body,
)

pytestmark = pytest.mark.integration


def _person() -> tuple[str, str]:
    """A name and a Chinese mobile number no other test uses."""
    rng = random.Random(uuid.uuid4().int)
    name = " ".join(
        rng.choice(string.ascii_uppercase) + "".join(rng.choices(string.ascii_lowercase, k=9))
        for _ in range(2)
    )
    return name, "+86137" + "".join(rng.choices(string.digits, k=8))


async def _account(stack: Stack, twilio_stack: TwilioStack, name: str, phone: str) -> str:
    account = new_account()
    body = overdue_body()
    body["customer"] = {**body["customer"], "name": name, "phone": phone}
    given = (datetime.now(UTC) - timedelta(days=30)).isoformat()
    body["consents"] = [{"channel": "sms", "source": "contract", "given_at": given}]
    answer = await stack.api.put(f"/v1/accounts/{account}/overdue", json=body)
    assert answer.status_code == 201, answer.text
    await eventually(
        lambda: stack.pool.fetchval(
            "SELECT 1 FROM contact_ledger WHERE account_id = $1 AND channel = 'sms' "
            "AND status <> 'pending'",
            account,
        )
    )
    for text in ("call me", "STOP"):
        code, _ = await post_signed(twilio_stack, INBOUND_PATH, inbound_params(phone, text))
        assert code == 200
    dispute = {"dispute_id": "d-1", "reason": f"{name} disputes the fee"}
    answer = await stack.api.post(f"/v1/accounts/{account}/disputes", json=dispute)
    assert answer.status_code == 202, answer.text
    await eventually(
        lambda: stack.pool.fetchval("SELECT 1 FROM free_texts WHERE account_id = $1", account)
    )
    return account


async def _accesses(stack: Stack, account: str) -> list[dict[str, Any]]:
    rows = await stack.pool.fetch(
        "SELECT actor, details FROM audit_events WHERE account_id = $1 AND kind = $2 "
        "ORDER BY chain_seq",
        account,
        ACCESSED_KIND,
    )
    return [{"actor": r["actor"], **json.loads(r["details"])} for r in rows]


async def test_the_export_holds_everything_and_after_erasure_none_of_it(
    stack: Stack, twilio_stack: TwilioStack
) -> None:
    name, phone = _person()
    account = await _account(stack, twilio_stack, name, phone)
    sent_bodies = {m.body for m, _ in stack.sender.sent.values() if m.to == phone}
    assert sent_bodies

    answer = await stack.api.get(f"/v1/accounts/{account}/personal-data")
    assert answer.status_code == 200, answer.text
    data = answer.json()
    assert data["account_id"] == account and data["erased"] is None
    assert (data["contact"]["name"], data["contact"]["phone"]) == (name, phone)
    assert {s["body"] for s in data["sms_sent"]} == sent_bodies
    assert [(s["kind"], s["body"]) for s in data["sms_received"]] == [
        ("reply", "call me"),
        ("opt_out", "STOP"),
    ]
    # The number's opt-out, by keyed reference: the number itself is in `contact`.
    assert [(o["number_ref"], o["opted_out"]) for o in data["sms_opt_outs"]] == [
        (number_ref(phone).hex(), True)
    ]
    assert f"{name} disputes the fee" in [t["text"] for t in data["free_texts"]]
    assert [(c["channel"], c["granted"]) for c in data["consents"]] == [("sms", True)]
    assert data["audit_events"] and data["compliance_receipts"]
    assert data["retention_days"]["consent_events"] == data["retention_days"]["collection_records"]
    # Audited: who, and how many of each, never a value.
    (access,) = await _accesses(stack, account)
    assert access["actor"].startswith("api:")
    assert access["counts"]["sms_sent"] == len(data["sms_sent"])
    assert access["counts"]["free_texts"] == len(data["free_texts"])
    assert name not in json.dumps(access) and phone.removeprefix("+") not in json.dumps(access)

    await pay_in_full(stack, account)
    erased = await stack.api.post(f"/v1/accounts/{account}/erasure")
    assert erased.status_code == 200, erased.text
    answer = await stack.api.get(f"/v1/accounts/{account}/personal-data")
    assert answer.status_code == 200, answer.text
    tombstone = answer.json()
    text = answer.text
    for needle in (name, *name.split(), phone.removeprefix("+"), phone.removeprefix("+86")):
        assert needle not in text, needle
    assert tombstone["erased"]["erased_by"].startswith("api:")
    assert (tombstone["contact"]["name"], tombstone["contact"]["phone"]) == (ERASED, "")
    assert tombstone["sms_sent"] and {s["body"] for s in tombstone["sms_sent"]} == {ERASED}
    assert {t["text"] for t in tombstone["free_texts"]} == {ERASED}
    assert tombstone["sms_received"] == []  # blanked with the number: no longer the account's
    # The record stays: the same audit events (and the erasure's, the access's), receipts.
    assert len(tombstone["compliance_receipts"]) == len(data["compliance_receipts"])
    kinds = [e["kind"] for e in tombstone["audit_events"]]
    assert "privacy.erased" in kinds and ACCESSED_KIND in kinds
    assert len(await _accesses(stack, account)) == 2


async def test_refused_requests_answer_precisely_and_change_nothing(stack: Stack) -> None:
    account = new_account()
    answer = await stack.api.put(f"/v1/accounts/{account}/overdue", json=overdue_body())
    assert answer.status_code == 201, answer.text
    path = f"/v1/accounts/{account}/personal-data"
    before = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE kind = $1", ACCESSED_KIND
    )
    assert_problem(await stack.api.get(path, headers={"Authorization": ""}), 401)
    # Access is its own scope: neither reading accounts nor erasing them allows it.
    for scopes in ((Scope.ACCOUNTS_READ, Scope.ACCOUNTS_WRITE), (Scope.PRIVACY_ERASE,)):
        async with client(stack, await key_with(stack, *scopes)) as api:
            assert_problem(await api.get(path), 403)
    unknown = assert_problem(
        await stack.api.get(f"/v1/accounts/{new_account()}/personal-data"), 404
    )
    assert "unknown" in unknown["title"].lower()
    assert_problem(await stack.api.get("/v1/accounts/bad%20id!/personal-data"), 422)
    after = await stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE kind = $1", ACCESSED_KIND
    )
    assert after == before
    # A key with only this scope may.
    async with client(stack, await key_with(stack, Scope.PRIVACY_ACCESS)) as api:
        answer = await api.get(path)
    assert answer.status_code == 200, answer.text
    assert answer.json()["contact"]["phone"] == overdue_body()["customer"]["phone"]
    (access,) = await _accesses(stack, account)
    assert access["actor"].startswith("api:t-")
