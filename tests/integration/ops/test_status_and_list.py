"""`overdue status` and `overdue list` against the dev server, a worker and embedded Postgres."""

from __future__ import annotations

import json
import uuid

import pytest

from tests.integration.conftest import Stack
from tests.integration.ops.support import ops
from tests.integration.support import NAME, PHONE, eventually, start_account
from workflows.names import workflow_id

pytestmark = pytest.mark.integration


async def test_status_shows_the_workflows_own_account(stack: Stack) -> None:
    account = await start_account(stack)

    async def sms_sent() -> bool:
        ran = await ops(stack.settings, "status", account)
        return ran.code == 0 and "t1s_sms" in ran.out.split("Stages done")[-1]

    await eventually(sms_sent)
    ran = await ops(stack.settings, "status", account)
    assert ran.code == 0, ran.err
    assert f"Account      {account}" in ran.out
    assert workflow_id(account) in ran.out and "running" in ran.out
    assert "State        active" in ran.out
    assert "500.00 CNY" in ran.out and "2 days past due" in ran.out
    assert "sms" in ran.out and "sent" in ran.out  # the recent contacts
    assert NAME not in ran.out and PHONE not in ran.out

    as_json = json.loads((await ops(stack.settings, "status", account, "--json")).out)
    assert as_json["execution"]["workflow_id"] == workflow_id(account)
    assert as_json["status"]["state"] == "active"
    assert as_json["status"]["days_past_due"] == 2


async def test_status_of_unknown_and_malformed_accounts(stack: Stack) -> None:
    unknown = await ops(stack.settings, "status", "no-such-account")
    assert unknown.code == 1
    assert "no overdue process for account 'no-such-account'" in unknown.err
    malformed = await ops(stack.settings, "status", "has space")
    assert malformed.code == 2
    assert "'has space' is not an account id" in malformed.err


async def test_list_filters_on_search_attributes(stack: Stack) -> None:
    product = f"ops_{uuid.uuid4().hex[:8]}"
    accounts = {await start_account(stack, product=product) for _ in range(2)}
    other = await start_account(stack)
    query = f"Product = '{product}'"

    async def both_listed() -> str | None:
        ran = await ops(stack.settings, "list", "--query", query)
        return ran.out if all(a in ran.out for a in accounts) else None

    table = await eventually(both_listed)
    lines = table.splitlines()
    assert lines[0].split() == [
        "ACCOUNT", "STATUS", "STATE", "STAGE", "DPD", "AMOUNT_MINOR", "PRODUCT", "NEXT_ACTION_AT"
    ]  # fmt: skip
    assert len(lines) == 3 and other not in table
    assert all(product in line and "running" in line for line in lines[1:])

    rows = (await ops(stack.settings, "list", "--query", query, "--json")).out.splitlines()
    assert {json.loads(row)["account_id"] for row in rows} == accounts

    limited = await ops(stack.settings, "list", "--query", query, "--limit", "1")
    assert len(limited.out.splitlines()) == 2
    assert "1 accounts of 2 matching; --limit 0 shows all" in limited.err


async def test_list_with_a_bad_query_says_what_temporal_said(stack: Stack) -> None:
    ran = await ops(stack.settings, "list", "--query", "NoSuchAttribute = 'x'")
    assert ran.code == 2
    assert "invalid --query \"NoSuchAttribute = 'x'\"" in ran.err
    assert "NoSuchAttribute" in ran.err.split(":", 2)[-1]
    assert ran.out == ""
