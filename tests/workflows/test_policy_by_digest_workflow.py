"""Release policy-by-digest-2026-12 (workflows/policy_shelf.py) on the time-skipping server: the
start and every continue-as-new name the policy by digest, the process decides with the shelf's
policy across runs, and its histories carry no policy text."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from temporalio.client import WorkflowHistory

import workflows.policy_shelf as shelf
from tests.workflows.harness import Recorder, Scenario, account_of, payment
from tests.workflows.test_overdue_account import POLICY
from workflows.overdue_account import OverdueAccountWorkflow

DAY = timedelta(days=1)
HISTORIES = Path(__file__).resolve().parents[1] / "histories"


def start_inputs(history: WorkflowHistory) -> list[bytes]:
    return [
        event.workflow_execution_started_event_attributes.input.payloads[0].data
        for event in history.events
        if event.HasField("workflow_execution_started_event_attributes")
    ]


def continued_inputs(history: WorkflowHistory) -> list[bytes]:
    return [
        event.workflow_execution_continued_as_new_event_attributes.input.payloads[0].data
        for event in history.events
        if event.HasField("workflow_execution_continued_as_new_event_attributes")
    ]


async def test_the_policy_travels_by_digest_across_runs(
    scenario: Scenario, recorder: Recorder
) -> None:
    ref = shelf.shelve(POLICY)
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, history_event_bound=100)
    account = account_of(handle)
    [started] = start_inputs(await handle.fetch_history())
    assert json.loads(started)["policy_ref"]["digest"] == ref.digest
    assert b'"policy"' not in started and b"templates" not in started
    assert len(started) < 2_000, len(started)

    for n in range(60):  # events enough to pass the bound: at least one continue-as-new
        await handle.signal(OverdueAccountWorkflow.report_payment, payment(f"p-{n}", 1_000))
        if n % 10 == 0:
            await scenario.sleep_until(due + (n // 10 + 1) * DAY)
    await scenario.sleep_until(due + 8 * DAY)
    assert recorder.sms_stages(account) == ["d1_sms", "d7_sms"]  # the shelf's stages, in order
    assert recorder.call_stages(account) == ["d2_call"]

    first_run = scenario.env.client.get_workflow_handle(
        handle.id, run_id=handle.first_execution_run_id
    )
    history = await first_run.fetch_history()  # ends in the continue-as-new
    [carried] = continued_inputs(history)
    body = json.loads(carried)
    assert body["policy_ref"]["digest"] == ref.digest
    assert body["carried"]["policy_ref"]["digest"] == ref.digest
    assert "policy" not in body and "policy" not in body["carried"]
    assert b"templates" not in carried
    await scenario.keep_history(first_run, "policy_by_digest_continued")
    latest = scenario.env.client.get_workflow_handle(handle.id)
    assert (await latest.describe()).run_id != handle.first_execution_run_id
    status = await latest.query(OverdueAccountWorkflow.status)
    assert (status.policy_id, status.policy_version) == (POLICY.id, POLICY.version)
    await latest.terminate("test over")
