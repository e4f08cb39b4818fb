"""The customer's postal address, for letters: sent with the overdue report, kept sealed in
Postgres only (never in the workflow's history), kept when a later report leaves it out, and
refused precisely when malformed (nothing stored)."""

from __future__ import annotations

from typing import Any

import pytest

from overdue.store import letters
from tests.integration.conftest import Stack
from tests.integration.support import new_account, overdue_body
from workflows.names import workflow_id

pytestmark = pytest.mark.integration

ADDRESS = ["上海市浦东新区世纪大道100号", "1号楼 2单元 301室", "200120"]


def body(**customer: Any) -> dict[str, Any]:
    return overdue_body(customer={**overdue_body()["customer"], **customer})


async def test_the_address_is_sealed_kept_and_never_in_temporal(stack: Stack) -> None:
    account = new_account()
    first = await stack.api.put(
        f"/v1/accounts/{account}/overdue", json=body(postal_address=ADDRESS)
    )
    assert first.status_code == 201, first.text
    stored = await stack.pool.fetchval(
        "SELECT postal_address FROM customer_contacts WHERE account_id = $1", account
    )
    assert stored.startswith("sealed:v1:") and "世纪大道" not in stored
    # A later report (a new bill) without the address keeps it.
    later = overdue_body(customer=overdue_body()["customer"], bill_id="B-2")
    assert (await stack.api.put(f"/v1/accounts/{account}/overdue", json=later)).status_code == 200
    recipient = await letters.recipient(stack.pool, account)
    assert recipient is not None and list(recipient.postal_address) == ADDRESS

    history = await stack.temporal.get_workflow_handle(workflow_id(account)).fetch_history()
    for event in history.events:
        raw = event.SerializeToString()
        assert "世纪大道".encode() not in raw and b"200120" not in raw


@pytest.mark.parametrize(
    "address",
    [[], ["line"] * 7, ["x" * 101], ["ok", ""], ["bad\nline"], ["nul\x00"]],
)
async def test_a_malformed_address_is_refused_and_nothing_is_stored(
    stack: Stack, address: list[str]
) -> None:
    account = new_account()
    answer = await stack.api.put(
        f"/v1/accounts/{account}/overdue", json=body(postal_address=address)
    )
    assert answer.status_code == 422, answer.text
    fields = {error["field"] for error in answer.json()["errors"]}
    assert any(field.startswith("customer.postal_address") for field in fields), fields
    assert (
        await stack.pool.fetchval("SELECT count(*) FROM accounts WHERE account_id = $1", account)
        == 0
    )
