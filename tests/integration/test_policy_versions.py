"""Policies by digest on the real stack (workflows/policy_shelf.py, migration 0021): the API
stores the version and starts by digest; a worker that never saw the version reads it from
Postgres through its codec (workers/policy_codec.py); stored versions never change."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date, timedelta
from typing import Any

import asyncpg
import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowHandle, WorkflowHistory, WorkflowQueryFailedError
from temporalio.worker import Worker

import workflows.policy_shelf as shelf
from overdue.store import policy_versions
from overdue.temporal_client import connect
from tests.integration.conftest import Stack
from tests.integration.support import CUSTOMER_ZONE, start_account, state_of
from tests.workflows.harness import Recorder
from workers.policy_codec import PolicyShelfCodec
from workers.sandbox import workflow_runner
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy
from workflows.types import AccountStatus, OverdueAccountInput

pytestmark = pytest.mark.integration


def _start_input(history: WorkflowHistory) -> dict[str, object]:
    for event in history.events:
        if event.HasField("workflow_execution_started_event_attributes"):
            data = event.workflow_execution_started_event_attributes.input.payloads[0].data
            body: dict[str, object] = json.loads(data)
            return body
    raise AssertionError("no start event")


def _fresh_policy() -> Policy:
    """A version no process has seen: its digest is new to every shelf and to Postgres."""
    return Policy.model_validate(
        {
            "id": f"shelf-{uuid.uuid4().hex[:8]}",
            "version": 1,
            "contact_windows": {"default": {"start": "00:00", "end": "23:59"}},
            "stages": [{"id": "d30_sms", "offset": "30d", "channel": "sms", "template": "t"}],
            "templates": {"t": {"en": "Amount {amount} is due. Reply STOP to opt out."}},
        }
    )


def _input(policy: Policy, ref: shelf.PolicyRef) -> OverdueAccountInput:
    return OverdueAccountInput(
        account_id=f"acct-{uuid.uuid4().hex[:10]}",
        product="credit_line",
        amount_due_minor=10_000,
        currency="CNY",
        due_date=date.today() + timedelta(days=5),
        time_zone=CUSTOMER_ZONE,
        policy=policy,
        policy_ref=ref,
        release=3,
    )


async def test_the_api_stores_the_version_and_starts_by_digest(stack: Stack) -> None:
    account = await start_account(stack)
    assert await state_of(stack, account) == "active"
    history = await stack.temporal.get_workflow_handle(workflow_id(account)).fetch_history()
    sent = _start_input(history)
    assert "policy" not in sent
    ref = sent["policy_ref"]
    assert isinstance(ref, dict) and ref["id"] == "fast"
    assert ref["digest"] in await policy_versions.stored_digests(stack.pool)
    stored = await stack.pool.fetchval(
        "SELECT start_input FROM account_bills WHERE account_id = $1", account
    )
    assert "policy" not in json.loads(stored) and json.loads(stored)["policy_ref"] == ref


async def _worker_client(stack: Stack) -> Client:
    return await connect(stack.settings, payload_codec=PolicyShelfCodec(stack.pool))


async def test_a_worker_that_never_saw_the_version_reads_it_from_postgres(stack: Stack) -> None:
    policy = _fresh_policy()
    ref = await policy_versions.keep(stack.pool, policy)
    shelf.clear()  # a cold worker process: nothing on its shelf
    queue = f"shelf-{uuid.uuid4().hex[:8]}"
    client = await _worker_client(stack)
    input = _input(policy, ref)
    handle = await client.start_workflow(
        OverdueAccountWorkflow.run, input, id=workflow_id(input.account_id), task_queue=queue
    )
    async with Worker(
        client,
        task_queue=queue,
        workflows=[OverdueAccountWorkflow],
        activities=Recorder().activities(),
        workflow_runner=workflow_runner(),
    ):
        status = await handle.query(OverdueAccountWorkflow.status)
    assert (status.policy_id, status.policy_version) == (policy.id, 1)
    assert shelf.take(ref.digest) == policy and shelf.wanted() == frozenset()
    history = await handle.fetch_history()
    failed = [
        e for e in history.events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED
    ]
    assert failed == []  # the codec shelved it before the workflow decoded: no miss
    await handle.terminate("test over")


async def test_a_version_not_stored_fails_the_task_not_the_process(stack: Stack) -> None:
    """A digest nobody stored (a start that skipped the API): the workflow task fails and is
    retried, the process stays open with nothing lost; once the version is stored it runs."""
    policy = _fresh_policy()
    ref = shelf.shelve(policy)
    shelf.clear()
    queue = f"shelf-{uuid.uuid4().hex[:8]}"
    client = await _worker_client(stack)
    input = _input(policy, ref)
    handle = await client.start_workflow(
        OverdueAccountWorkflow.run, input, id=workflow_id(input.account_id), task_queue=queue
    )
    async with Worker(
        client,
        task_queue=queue,
        workflows=[OverdueAccountWorkflow],
        activities=Recorder().activities(),
        workflow_runner=workflow_runner(),
    ):
        for _ in range(100):
            history = await handle.fetch_history()
            kinds = [e.event_type for e in history.events]
            if EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED in kinds:
                break
            await asyncio.sleep(0.1)
        assert EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED in kinds
        assert (await handle.describe()).status is not None
        assert ref.digest in shelf.wanted()
        await policy_versions.keep(stack.pool, policy)  # stored now (and shelved here)
        status = await asyncio.wait_for(_status_when_running(handle), timeout=60)
    assert status.policy_id == policy.id
    await handle.terminate("test over")


async def _status_when_running(handle: WorkflowHandle[Any, Any]) -> AccountStatus:
    while True:
        try:
            return await handle.query(OverdueAccountWorkflow.status)
        except WorkflowQueryFailedError:
            await asyncio.sleep(0.5)


async def test_stored_versions_never_change(stack: Stack) -> None:
    ref = await policy_versions.keep(stack.pool, _fresh_policy())
    for statement in (
        "UPDATE policy_versions SET version = 2 WHERE digest = $1",
        "DELETE FROM policy_versions WHERE digest = $1",
    ):
        with pytest.raises(asyncpg.RaiseError, match="never change"):
            await stack.pool.execute(statement, ref.digest)
    assert ref.digest in await policy_versions.stored_digests(stack.pool)
