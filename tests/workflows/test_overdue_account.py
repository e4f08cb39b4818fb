"""OverdueAccountWorkflow on the time-skipping server, with the activities replaced by recorders."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from temporalio import activity
from temporalio.client import WorkflowHandle
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

from overdue.policy_files import load_policy
from workers.sandbox import workflow_runner
from workflows import search_attributes as sa
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy
from workflows.types import (
    AccountOutcome,
    AccountState,
    CancelCallTasksInput,
    CancelCallTasksResult,
    CreateCallTaskInput,
    CreateCallTaskResult,
    OverdueAccountInput,
    PaymentReported,
    SendSmsInput,
    SendSmsResult,
)

ROOT = Path(__file__).resolve().parents[2]
TZ = "Asia/Shanghai"
TASK_QUEUE = "test-overdue"


@dataclass
class Recorder:
    """Stand-ins for the side effects: what was asked, and at which workflow time."""

    sms: list[tuple[SendSmsInput, datetime]] = field(default_factory=list)
    calls: list[tuple[CreateCallTaskInput, datetime]] = field(default_factory=list)
    cancels: list[CancelCallTasksInput] = field(default_factory=list)

    def activities(self) -> list[Callable[..., Any]]:
        @activity.defn(name="send_sms")
        async def send_sms(input: SendSmsInput) -> SendSmsResult:
            self.sms.append((input, activity.info().current_attempt_scheduled_time))
            return SendSmsResult(
                idempotency_key=input.idempotency_key,
                status="sent",
                provider_id="TEST",
                already_sent=False,
            )

        @activity.defn(name="create_call_task")
        async def create_call_task(input: CreateCallTaskInput) -> CreateCallTaskResult:
            self.calls.append((input, activity.info().current_attempt_scheduled_time))
            return CreateCallTaskResult(task_id=len(self.calls), created=True)

        @activity.defn(name="cancel_open_call_tasks")
        async def cancel_open_call_tasks(input: CancelCallTasksInput) -> CancelCallTasksResult:
            self.cancels.append(input)
            return CancelCallTasksResult(cancelled=0)

        return [send_sms, create_call_task, cancel_open_call_tasks]


@pytest.fixture
def policy() -> Policy:
    return load_policy(ROOT / "policies" / "default.yaml")


@pytest.fixture
async def recorder(time_skipping_env: WorkflowEnvironment) -> AsyncIterator[Recorder]:
    rec = Recorder()
    async with Worker(
        time_skipping_env.client,
        task_queue=TASK_QUEUE,
        workflows=[OverdueAccountWorkflow],
        activities=rec.activities(),
        workflow_runner=workflow_runner(),
    ):
        yield rec


async def local_today(env: WorkflowEnvironment) -> date:
    return (await env.get_current_time()).astimezone(ZoneInfo(TZ)).date()


def local_midnight(day: date) -> datetime:
    return datetime.combine(day, datetime.min.time(), tzinfo=ZoneInfo(TZ)).astimezone(UTC)


async def start(
    env: WorkflowEnvironment, policy: Policy, due_date: date, amount: int = 150_000
) -> WorkflowHandle[OverdueAccountWorkflow, AccountOutcome]:
    account_id = f"acct-{uuid.uuid4().hex[:12]}"
    return await env.client.start_workflow(
        OverdueAccountWorkflow.run,
        OverdueAccountInput(
            account_id=account_id,
            product="credit_line",
            amount_due_minor=amount,
            currency="CNY",
            due_date=due_date,
            time_zone=TZ,
            policy=policy,
        ),
        id=f"overdue-{account_id}",
        task_queue=TASK_QUEUE,
    )


def at(when: datetime, expected: datetime) -> bool:
    """At the expected instant (plus the server's milliseconds of processing), never early."""
    return expected <= when < expected + timedelta(seconds=1)


async def keep_history(handle: WorkflowHandle[Any, Any], name: str) -> None:
    """With RECORD_HISTORIES=1, save this run's history for the replay test (tests/histories)."""
    if os.environ.get("RECORD_HISTORIES") == "1":
        history = await handle.fetch_history()
        (ROOT / "tests" / "histories" / f"{name}.json").write_text(history.to_json())


def payment(payment_id: str, amount: int) -> PaymentReported:
    return PaymentReported(
        payment_id=payment_id, amount_minor=amount, currency="CNY", paid_at=datetime.now(UTC)
    )


async def test_never_pays_gets_sms_on_day_one_and_call_on_day_three(
    time_skipping_env: WorkflowEnvironment, policy: Policy, recorder: Recorder
) -> None:
    due = await local_today(time_skipping_env)
    handle = await start(time_skipping_env, policy, due)

    await time_skipping_env.sleep(timedelta(days=5))

    assert [i.stage_id for i, _ in recorder.sms] == ["d1_sms"]
    assert at(recorder.sms[0][1], local_midnight(due) + timedelta(days=1))
    assert [(i.stage_id, i.queue.value) for i, _ in recorder.calls] == [("d3_call", "general")]
    assert at(recorder.calls[0][1], local_midnight(due) + timedelta(days=3))
    assert at(recorder.calls[0][0].due_at, local_midnight(due) + timedelta(days=3))
    sms = recorder.sms[0][0]
    assert sms.amount_minor == 150_000 and sms.days_past_due == 1
    assert sms.idempotency_key.startswith(f"{handle.id.removeprefix('overdue-')}/")
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.state is AccountState.ACTIVE
    assert status.stage == "d3_call"
    assert status.next_action is None
    assert status.days_past_due == 3  # as of the workflow's last timer: D+3
    assert (status.policy_id, status.policy_version) == ("default", 1)
    await keep_history(handle, "never_pays_default_policy")
    await handle.terminate("test over")


async def test_full_payment_after_sms_resolves_and_sends_nothing_more(
    time_skipping_env: WorkflowEnvironment, policy: Policy, recorder: Recorder
) -> None:
    due = await local_today(time_skipping_env)
    handle = await start(time_skipping_env, policy, due)
    await time_skipping_env.sleep(timedelta(days=2))
    assert [i.stage_id for i, _ in recorder.sms] == ["d1_sms"]

    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 150_000))
    outcome = await handle.result()

    assert outcome.state is AccountState.RESOLVED and outcome.balance_minor == 0
    assert outcome.stages_done == ["d1_sms"]
    assert recorder.calls == []
    assert [c.account_id for c in recorder.cancels] == [outcome.account_id]
    await keep_history(handle, "pays_in_full_after_first_sms")
    # The resolved search attributes are checked against the dev server in the integration
    # test: the time-skipping server answers an unset Datetime attribute with a null that the
    # SDK's describe() cannot decode.


async def test_partial_payments_lower_the_balance_and_replays_are_ignored(
    time_skipping_env: WorkflowEnvironment, policy: Policy, recorder: Recorder
) -> None:
    due = await local_today(time_skipping_env)
    handle = await start(time_skipping_env, policy, due)

    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 50_000))
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 50_000))
    await time_skipping_env.sleep(timedelta(days=2))

    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.balance_minor == 100_000
    assert [(i.stage_id, i.amount_minor) for i, _ in recorder.sms] == [("d1_sms", 100_000)]

    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-2", 100_000))
    outcome = await handle.result()
    assert outcome.state is AccountState.RESOLVED
    assert recorder.calls == []
    await keep_history(handle, "partial_then_full_payment")


async def test_late_start_acts_on_the_current_stage_only(
    time_skipping_env: WorkflowEnvironment, policy: Policy, recorder: Recorder
) -> None:
    due = await local_today(time_skipping_env) - timedelta(days=10)
    handle = await start(time_skipping_env, policy, due)
    await time_skipping_env.sleep(timedelta(hours=1))

    assert recorder.sms == []
    assert [i.stage_id for i, _ in recorder.calls] == ["d3_call"]
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.stages_skipped == ["d1_sms"]
    assert status.days_past_due == 10
    await keep_history(handle, "late_start_ten_days_past_due")
    await handle.terminate("test over")


async def test_search_attributes_show_stage_and_next_action(
    time_skipping_env: WorkflowEnvironment, policy: Policy, recorder: Recorder
) -> None:
    due = await local_today(time_skipping_env)
    handle = await start(time_skipping_env, policy, due)
    await time_skipping_env.sleep(timedelta(days=1, hours=1))

    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(sa.OVERDUE_STATE) == "active"
    assert attrs.get(sa.OVERDUE_STAGE) == "d1_sms"
    assert attrs.get(sa.PRODUCT) == "credit_line"
    assert attrs.get(sa.DAYS_PAST_DUE) == 1
    assert attrs.get(sa.NEXT_ACTION_AT) == local_midnight(due) + timedelta(days=3)
    await handle.terminate("test over")
