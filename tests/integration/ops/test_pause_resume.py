"""`overdue pause` / `resume`: a Temporal batch job signalling many workflows at once."""

from __future__ import annotations

import asyncio
import json
import re
import uuid

import pytest

from overdue.store.sealed_texts import open_text
from tests.integration.conftest import Stack
from tests.integration.ops.support import ops
from tests.integration.support import eventually, start_account, state_of
from workflows.names import workflow_id

pytestmark = pytest.mark.integration


async def states(stack: Stack, accounts: list[str]) -> set[str]:
    return {await state_of(stack, account) for account in accounts}


async def test_pause_and_resume_every_matching_account(stack: Stack) -> None:
    product = f"batch_{uuid.uuid4().hex[:8]}"
    accounts = [await start_account(stack, product=product) for _ in range(3)]
    bystander = await start_account(stack)
    query = f"Product = '{product}'"

    async def all_visible() -> bool:
        ran = await ops(stack.settings, "pause", "--query", query, "--reason", "x", "--dry-run")
        return "3 running accounts match" in ran.out

    await eventually(all_visible)

    paused = await ops(
        stack.settings, "pause", "--query", query, "--reason", "incident 42", "--yes",
        "--actor", "ops:oncall",
    )  # fmt: skip
    assert paused.code == 0, paused.err
    assert "signal pause_by_ops delivered to 3 of 3 running accounts, 0 failed" in paused.out
    assert " 3/3 accounts 100% " in paused.err
    assert await states(stack, accounts) == {"paused"}
    assert await state_of(stack, bystander) == "active"
    status = (await stack.api.get(f"/v1/accounts/{accounts[0]}")).json()
    assert status["pause"]["actor"] == "ops:oncall"
    assert status["pause"]["reason"] == "incident 42"
    job_id = re.search(r"batch job (overdue-pause-[0-9a-f-]+)", paused.out)
    assert job_id is not None
    audited = await stack.pool.fetch(
        "SELECT kind, actor, details FROM audit_events WHERE details->>'job_id' = $1 ORDER BY id",
        job_id.group(1),
    )
    assert [(r["kind"], r["actor"]) for r in audited] == [
        ("ops.batch_pause", "ops:oncall"),
        ("ops.batch_pause_finished", "ops:oncall"),
    ]
    details = json.loads(audited[0]["details"])
    assert details == {
        "job_id": job_id.group(1), "query": query, "text_id": details["text_id"], "matched": 3
    }  # fmt: skip
    reason = await stack.pool.fetchval(
        "SELECT text FROM free_texts WHERE id = $1", details["text_id"]
    )
    assert (
        await open_text(stack.pool, reason) == "incident 42"
    )  # the reason stays in Postgres; the signal has its id

    resumed = await ops(
        stack.settings, "resume", "--query", query, "--reason", "incident over", "--yes"
    )
    assert resumed.code == 0, resumed.err
    assert "resume_by_ops delivered to 3 of 3" in resumed.out
    await eventually(lambda: _all_active(stack, accounts))


async def _all_active(stack: Stack, accounts: list[str]) -> bool:
    return await states(stack, accounts) == {"active"}


async def test_nothing_matching_does_nothing(stack: Stack) -> None:
    ran = await ops(
        stack.settings, "pause", "--query", "Product = 'nothing_has_this'", "--reason", "x"
    )
    assert ran.code == 0
    assert "no running account matches" in ran.out


async def test_without_a_terminal_it_asks_for_yes(stack: Stack) -> None:
    account = await start_account(stack)
    query = f"WorkflowId = '{workflow_id(account)}'"
    await eventually(lambda: _visible(stack, query))
    ran = await ops(stack.settings, "pause", "--query", query, "--reason", "x")
    assert ran.code == 2
    assert "Pause 1 running account matching" in ran.err and "pass --yes" in ran.err
    await asyncio.sleep(0.2)
    assert await state_of(stack, account) == "active"


async def _visible(stack: Stack, query: str) -> bool:
    ran = await ops(stack.settings, "pause", "--query", query, "--reason", "x", "--dry-run")
    return "1 running account matches" in ran.out


async def test_bad_reason_and_query_are_refused_before_any_job(stack: Stack) -> None:
    long_reason = await ops(
        stack.settings, "pause", "--query", "Product = 'x'", "--reason", "r" * 501
    )
    assert long_reason.code == 2
    assert "--reason: String should have at most 500 characters" in long_reason.err
    bad_query = await ops(stack.settings, "resume", "--query", "Nope = 1", "--reason", "x")
    assert bad_query.code == 2 and "invalid --query 'Nope = 1'" in bad_query.err
