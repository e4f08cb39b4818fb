"""A worker with recording stand-ins for the activities, for workflow tests on the test server."""

from __future__ import annotations

import asyncio
import json
import os
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from temporalio import activity
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.workflow.v1 import WorkflowExecutionInfo
from temporalio.api.workflowservice.v1 import DescribeWorkflowExecutionRequest
from temporalio.client import Client, WorkflowHandle, WorkflowHistory
from temporalio.common import SearchAttributeKey
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import workflows.policy_shelf as policy_shelf
from overdue.store import contact_gate
from tests.clock import DST_ZONE, next_dst_change, next_local_instant
from workers.sandbox import workflow_runner
from workflows.closing import CloseProcessInput, CloseProcessResult
from workflows.consent import ConsentChanged
from workflows.contact_types import (
    CancelCallTasksInput,
    CancelCallTasksResult,
    CreateCallTaskInput,
    CreateCallTaskResult,
    NotifyInput,
    NotifyResult,
    SendSmsInput,
    SendSmsResult,
)
from workflows.event_audit import RecordEventsInput, RecordEventsResult
from workflows.names import OVERDUE_TASK_QUEUE, SMS_TASK_QUEUE, account_id_of, workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.patches import RELEASES
from workflows.policy import Policy
from workflows.publishing import start_attributes
from workflows.types import (
    AccountOutcome,
    ContactCeased,
    DisputeOpened,
    OverdueAccountInput,
    PaymentReported,
)

ROOT = Path(__file__).resolve().parents[2]
TZ = "Asia/Shanghai"
Handle = WorkflowHandle[OverdueAccountWorkflow, AccountOutcome]


@dataclass
class Recorder:
    """Stand-ins for the side effects: what was asked, and at which workflow time."""

    sms: list[tuple[SendSmsInput, datetime]] = field(default_factory=list)
    calls: list[tuple[CreateCallTaskInput, datetime]] = field(default_factory=list)
    notices: list[tuple[NotifyInput, datetime]] = field(default_factory=list)
    cancels: list[tuple[CancelCallTasksInput, datetime]] = field(default_factory=list)
    audited: list[RecordEventsInput] = field(default_factory=list)
    closes: list[CloseProcessInput] = field(default_factory=list)  # closing-2026-12
    sms_failures: dict[str, str] = field(default_factory=dict)  # stage id -> error type
    sms_outage: set[str] = field(default_factory=set)  # stage ids whose sends fail, retryably
    call_outage: set[str] = field(default_factory=set)  # the same for call-task creation
    # stage id -> a payment the backend reports while that stage's first attempt is in flight;
    # the stand-in then withholds the contact, as the real activities' check does.
    pay_during: dict[str, PaymentReported] = field(default_factory=dict)
    # stage id -> a cease-contact request or a dispute reported while that stage's first
    # attempt is in flight; withheld, like a payment, when the decision did not know of it.
    # A consent withdrawal too: withheld when the decision relied on that channel's consent.
    event_during: dict[str, ContactCeased | DisputeOpened | ConsentChanged] = field(
        default_factory=dict
    )
    withheld: list[str] = field(default_factory=list)  # keys of the attempts withheld
    # A dispute reported while the first audit activity runs (the run loop's chores).
    dispute_during_audit: DisputeOpened | None = None
    client: Client | None = None
    env: WorkflowEnvironment | None = None

    async def _when(self) -> datetime:
        """When the activity ran, on the test server's clock. A local activity is scheduled by
        the worker on the machine's own clock, which time skipping does not move; the server's
        clock stands still while the workflow task that runs it is open."""
        info = activity.info()
        if not info.is_local or self.env is None:  # no env: a worker on real time (bench/)
            return info.current_attempt_scheduled_time
        return await self.env.get_current_time()

    def sms_stages(self, account_id: str) -> list[str]:
        return [i.stage_id for i, _ in self.sms if i.account_id == account_id]

    def call_stages(self, account_id: str) -> list[str]:
        return [i.stage_id for i, _ in self.calls if i.account_id == account_id]

    def notice_stages(self, account_id: str) -> list[str]:
        return [i.stage_id for i, _ in self.notices if i.account_id == account_id]

    def contacts_after(self, account_id: str, when: datetime) -> list[str]:
        every: list[tuple[SendSmsInput | CreateCallTaskInput | NotifyInput, datetime]] = [
            *self.sms,
            *self.calls,
            *self.notices,
        ]
        return [i.stage_id for i, t in every if i.account_id == account_id and t > when]

    async def _payment_in_flight(
        self, input: SendSmsInput | CreateCallTaskInput | NotifyInput
    ) -> None:
        await self._event_in_flight(input)
        payment = self.pay_during.pop(input.stage_id, None)
        if payment is None:
            return
        assert self.client is not None, "running_worker sets the client"
        handle = self.client.get_workflow_handle(activity.info().workflow_id)
        await handle.signal(OverdueAccountWorkflow.report_payment, payment)
        unseen = input.basis is not None and payment.payment_id not in input.basis.payments_known
        if unseen:
            self.withheld.append(input.idempotency_key)
        # Let the workflow see the payment first: when it resolves the account, it gives the
        # attempt up, and the test server (unlike Temporal's) refuses a cancel request that
        # races the attempt's own failure ("ACTIVITY_UNKNOWN") and then stops skipping time.
        await asyncio.sleep(0.5)
        if unseen:
            raise contact_gate.withheld(1)

    async def _event_in_flight(
        self, input: SendSmsInput | CreateCallTaskInput | NotifyInput
    ) -> None:
        event = self.event_during.pop(input.stage_id, None)
        if event is None:
            return
        assert self.client is not None, "running_worker sets the client"
        handle = self.client.get_workflow_handle(activity.info().workflow_id)
        basis = input.basis
        if isinstance(event, ConsentChanged):
            await handle.signal(OverdueAccountWorkflow.consent_changed, event)
            channel = event.channel.value
            if basis is not None and basis.consent_channel == channel and not event.granted:
                self.withheld.append(input.idempotency_key)
                raise contact_gate.withheld(
                    contact_gate.Withholding(
                        {"reason": "consent_withdrawn", "channel": channel}, "a withdrawal was"
                    )
                )
            return
        if isinstance(event, ContactCeased):
            await handle.signal(OverdueAccountWorkflow.cease_contact, event)
            reason = "contact_ceased"
            unseen = basis is not None and basis.ceased_known is False
        else:
            await handle.signal(OverdueAccountWorkflow.open_dispute, event)
            reason = "dispute_opened"
            known = basis.disputes_known if basis is not None else None
            unseen = known is not None and event.dispute_id not in known
        if unseen:
            self.withheld.append(input.idempotency_key)
            raise contact_gate.withheld(
                contact_gate.Withholding({"reason": reason}, f"a {reason} was")
            )

    def activities(self) -> list[Callable[..., Any]]:
        @activity.defn(name="send_sms")
        async def send_sms(input: SendSmsInput) -> SendSmsResult:
            now = activity.info().current_attempt_scheduled_time
            self.sms.append((input, now))
            await self._payment_in_flight(input)
            if input.stage_id in self.sms_outage:
                raise ApplicationError("provider unavailable", type="SmsNotSent")
            failure = self.sms_failures.get(input.stage_id)
            if failure is not None:
                raise ApplicationError("provider refused", type=failure, non_retryable=True)
            return SendSmsResult(
                idempotency_key=input.idempotency_key,
                status="sent",
                provider_id="TEST",
                already_sent=False,
            )

        @activity.defn(name="send_selfservice_code")
        async def send_selfservice_code(input: SendSmsInput) -> SendSmsResult:
            return await send_sms(input)  # the same fake: stage id `selfservice_code`

        @activity.defn(name="create_call_task")
        async def create_call_task(input: CreateCallTaskInput) -> CreateCallTaskResult:
            self.calls.append((input, activity.info().current_attempt_scheduled_time))
            await self._payment_in_flight(input)
            if input.stage_id in self.call_outage:
                raise ApplicationError("database unavailable", type="ConnectionError")
            return CreateCallTaskResult(task_id=len(self.calls), created=True)

        @activity.defn(name="send_notification")
        async def send_notification(input: NotifyInput) -> NotifyResult:
            self.notices.append((input, activity.info().current_attempt_scheduled_time))
            await self._payment_in_flight(input)
            return NotifyResult(idempotency_key=input.idempotency_key, status_code=200)

        @activity.defn(name="cancel_open_call_tasks")
        async def cancel_open_call_tasks(input: CancelCallTasksInput) -> CancelCallTasksResult:
            self.cancels.append((input, activity.info().current_attempt_scheduled_time))
            return CancelCallTasksResult(cancelled=0)

        @activity.defn(name="record_received_events")
        async def record_received_events(input: RecordEventsInput) -> RecordEventsResult:
            self.audited.append(input)
            dispute, self.dispute_during_audit = self.dispute_during_audit, None
            if dispute is not None:
                assert self.client is not None, "running_worker sets the client"
                handle = self.client.get_workflow_handle(activity.info().workflow_id)
                await handle.signal(OverdueAccountWorkflow.open_dispute, dispute)
                await asyncio.sleep(0.5)  # the signal reaches the workflow before we complete
            return RecordEventsResult(recorded=0)

        @activity.defn(name="close_process")
        async def close_process(input: CloseProcessInput) -> CloseProcessResult:
            """Both parts, kept where the two activities it replaces keep theirs."""
            self.closes.append(input)
            at = await self._when()  # a local activity from release local-close-2026-12
            if input.events:
                self.audited.append(
                    RecordEventsInput(account_id=input.account_id, events=input.events)
                )
            if input.cancel_reason is not None:
                cancel = CancelCallTasksInput(
                    account_id=input.account_id, reason=input.cancel_reason
                )
                self.cancels.append((cancel, at))
            return CloseProcessResult(recorded=0, cancelled=0)

        return [
            send_sms,
            send_selfservice_code,
            create_call_task,
            send_notification,
            cancel_open_call_tasks,
            record_received_events,
            close_process,
        ]


@asynccontextmanager
async def running_worker(env: WorkflowEnvironment, recorder: Recorder) -> AsyncIterator[None]:
    recorder.client = env.client
    recorder.env = env
    activities = recorder.activities()
    sms = [a for a in activities if a.__name__ in ("send_sms", "send_selfservice_code")]
    async with (
        Worker(
            env.client,
            task_queue=OVERDUE_TASK_QUEUE,
            workflows=[OverdueAccountWorkflow],
            activities=[a for a in activities if a not in sms],
            workflow_runner=workflow_runner(),
            # OVERDUE_TEST_WORKFLOW_CACHE=0 replays every workflow task from the history:
            # a test that passes only with the cache is not replay-safe (docs/testing.md).
            max_cached_workflows=int(os.environ.get("OVERDUE_TEST_WORKFLOW_CACHE", "1000")),
        ),
        Worker(env.client, task_queue=SMS_TASK_QUEUE, activities=sms),
    ):
        yield


async def local_today(env: WorkflowEnvironment, zone: str = TZ) -> date:
    return (await env.get_current_time()).astimezone(ZoneInfo(zone)).date()


def local(day: date, clock: time = time.min, zone: str = TZ) -> datetime:
    return datetime.combine(day, clock, tzinfo=ZoneInfo(zone)).astimezone(UTC)


def at(when: datetime, expected: datetime) -> bool:
    """At the expected instant, never early. The slack is processing time, which the
    time-skipping server's clock counts in real time: milliseconds on a quiet machine, seconds
    on a loaded one (a CI run saw more than 1 s). Stages are minutes or hours apart, so 10 s
    cannot mistake one instant for another."""
    return expected <= when < expected + timedelta(seconds=10)


async def start(
    env: WorkflowEnvironment,
    policy: Policy,
    due_date: date,
    amount: int = 150_000,
    time_zone: str = TZ,
    **fields: Any,
) -> Handle:
    """Start as the API does: on this code's release (unless `fields` say otherwise), the
    start's search attributes with the request."""
    account_id = f"acct-{uuid.uuid4().hex[:12]}"
    fields.setdefault("release", max(RELEASES))
    # By digest, as the API starts (the worker's shelf is this process's: the codec's part is
    # tests/integration/test_policy_versions.py); `policy_ref=None` sends it whole.
    fields.setdefault("policy_ref", policy_shelf.shelve(policy))
    input = OverdueAccountInput(
        account_id=account_id,
        product="credit_line",
        amount_due_minor=amount,
        currency="CNY",
        due_date=due_date,
        time_zone=time_zone,
        jurisdiction="CN",
        policy=policy,
        **fields,
    )
    return await env.client.start_workflow(
        OverdueAccountWorkflow.run,
        input,
        id=workflow_id(account_id),
        task_queue=OVERDUE_TASK_QUEUE,
        search_attributes=start_attributes(input),
    )


@dataclass(frozen=True)
class StartAt:
    """Where a scenario begins on the customer's clock: a local time on a Wednesday in a zone.

    `across_dst` starts the day before the zone's next DST change instead, so the scenario's
    stages fall on both sides of it.
    """

    label: str
    clock: time
    zone: str = TZ
    across_dst: bool = False

    def instant(self, server_now: datetime) -> datetime:
        if not self.across_dst:
            return next_local_instant(server_now, self.clock, self.zone)
        # At least two days ahead, so that the day before it is still to come.
        soon = server_now + timedelta(days=2)
        change = next_dst_change(soon, self.zone).astimezone(ZoneInfo(self.zone))
        day = change.date() - timedelta(days=1)
        return datetime.combine(day, self.clock, tzinfo=ZoneInfo(self.zone)).astimezone(UTC)


DEFAULT_START = StartAt("09:15", time(9, 15))
# The hour guard: local starts spread over the day (around the window's edges and midnight),
# and one across a DST change in a DST zone.
GUARD_STARTS = (
    StartAt("00:30", time(0, 30)),
    StartAt("07:45", time(7, 45)),
    DEFAULT_START,
    StartAt("21:45", time(21, 45)),
    StartAt("23:30", time(23, 30)),
    StartAt("dst-New_York-21:45", time(21, 45), zone=DST_ZONE, across_dst=True),
)


@dataclass(frozen=True)
class Scenario:
    """A test's own time-skipping server, its clock moved to the chosen local start."""

    env: WorkflowEnvironment
    start_at: StartAt

    @classmethod
    async def begin(cls, env: WorkflowEnvironment, start_at: StartAt) -> Scenario:
        now = await env.get_current_time()
        await env.sleep(start_at.instant(now) - now)
        return cls(env=env, start_at=start_at)

    @property
    def zone(self) -> str:
        return self.start_at.zone

    async def keep_history(self, handle: Handle, name: str) -> None:
        """`keep_history`, from the default start only: the hour guard's runs would overwrite it."""
        if self.start_at == DEFAULT_START:
            await keep_history(handle, name)

    async def now(self) -> datetime:
        return await self.env.get_current_time()

    async def today(self) -> date:
        return await local_today(self.env, self.zone)

    def local(self, day: date, clock: time = time.min) -> datetime:
        return local(day, clock, self.zone)

    def local_time(self, when: datetime) -> time:
        return when.astimezone(ZoneInfo(self.zone)).time()

    async def sleep_until(self, day: date, clock: time = time(12)) -> None:
        """Skip to `clock` on `day`, local: an absolute target, whatever the start hour was."""
        target = self.local(day, clock)
        now = await self.now()
        assert target > now, f"{target} is not after the server's clock ({now})"
        await self.env.sleep(target - now)

    async def start(self, policy: Policy, due_date: date, **fields: Any) -> Handle:
        return await start(self.env, policy, due_date, time_zone=self.zone, **fields)


async def execution_info(handle: Handle) -> WorkflowExecutionInfo:
    """The execution's raw description. `describe()` fails on the test server once a Datetime
    search attribute was unset (NextActionAt, while a process waits only for events): the
    server answers it in a form the SDK's typed reader refuses."""
    client = handle._client  # the handle's own client, for the raw call
    description = await client.workflow_service.describe_workflow_execution(
        DescribeWorkflowExecutionRequest(
            namespace=client.namespace, execution=WorkflowExecution(workflow_id=handle.id)
        )
    )
    return description.workflow_execution_info


async def search_attribute(handle: Handle, key: SearchAttributeKey[Any]) -> Any:
    fields = (await execution_info(handle)).search_attributes.indexed_fields
    return json.loads(fields[key.name].data) if key.name in fields else None


def account_of(handle: Handle) -> str:
    account_id = account_id_of(handle.id)
    assert account_id is not None, handle.id
    return account_id


def payment(payment_id: str, amount: int) -> PaymentReported:
    return PaymentReported(
        payment_id=payment_id, amount_minor=amount, currency="CNY", paid_at=datetime.now(UTC)
    )


async def keep_history(handle: Handle, name: str) -> None:
    """With RECORD_HISTORIES=1, save this run's history for the replay test (tests/histories)."""
    if os.environ.get("RECORD_HISTORIES") == "1":
        history = await handle.fetch_history()
        (ROOT / "tests" / "histories" / f"{name}.json").write_text(history.to_json())
        keep_named_policies(history)


def keep_named_policies(history: WorkflowHistory) -> None:
    """The policy a start input names by digest, beside the histories: the replay test puts
    it on the shelf (as the worker reads it from Postgres)."""
    for event in history.events:
        if event.HasField("workflow_execution_started_event_attributes"):
            data = event.workflow_execution_started_event_attributes.input.payloads[0].data
            ref = json.loads(data).get("policy_ref")
            policy = policy_shelf.take(ref["digest"]) if ref else None
            if policy is not None:
                folder = ROOT / "tests" / "histories" / "policies"
                folder.mkdir(exist_ok=True)
                body = policy_shelf.canonical(policy).decode()
                (folder / f"{ref['digest']}.json").write_text(body + "\n")
