"""No request the API accepts can wedge an account's workflow (issue 13).

Requests are drawn from the API's own JSON schemas (tests/workflows/schema_strategies.py), with
realistic values drawn alongside where the schema says only "string" (a phone, a zone, a date in
the window). Each is validated by its pydantic model as the API does (JSON in); an accepted one
is mapped to the workflow's input or signal by `api.workflow_messages`, the functions the routes
use, under the use cases' own checks (the account's currency, bills totalling below 2^53, a
process that has ended takes no event). A lifecycle then runs on the time-skipping server under
the default policy, 130 days: the workflow must complete or wait, with no failed workflow task,
never parked, and with the balance its accepted bills and payments make.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError
from temporalio.api.enums.v1 import WorkflowExecutionStatus
from temporalio.testing import WorkflowEnvironment

from api import workflow_messages as messages
from api.schemas import (
    CeaseContactReport,
    DisputeClosing,
    DisputeReport,
    HardshipReport,
    OverdueReport,
    PaymentReport,
)
from api.workflow_calls import ProcessNotRunning, to_running
from overdue.inputs import MAX_MINOR, date_window, today
from overdue.policy_files import load_policy
from tests.budget import examples
from tests.servers import start_time_skipping
from tests.workflows.harness import (
    DEFAULT_START,
    ROOT,
    Handle,
    Recorder,
    Scenario,
    execution_info,
    running_worker,
)
from tests.workflows.schema_strategies import from_schema, window_instants
from tests.workflows.task_failures import failed_workflow_tasks
from workflows.handlers import signal_of
from workflows.names import OVERDUE_TASK_QUEUE, workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountState

POLICY = load_policy(ROOT / "policies" / "default.yaml")
UNTIL = timedelta(days=130)  # past the default policy's last stage
CURRENCY = "CNY"
RUNNING = WorkflowExecutionStatus.WORKFLOW_EXECUTION_STATUS_RUNNING
FIRST, LAST = date_window()
WINDOW = (datetime.combine(FIRST, time(), UTC), datetime.combine(LAST, time(), UTC))
TODAY = today()  # UTC, as the bounds count it
# Text people type: anything printable (control characters are refused, tests/integration).
TYPED = st.text(st.characters(exclude_categories=("Cc", "Cs")), min_size=1, max_size=60)
REALISTIC: dict[str, st.SearchStrategy[Any]] = {
    "name": TYPED,
    "reason": TYPED,
    "resolution": TYPED,
    "phone": st.sampled_from(["+8613912345678", "+14155552671", "+447911123456", "+919876543210"]),
    "time_zone": st.sampled_from(
        ["Asia/Shanghai", "America/New_York", "Pacific/Kiritimati", "America/St_Johns", "UTC"]
    ),
    "locale": st.sampled_from(["zh-CN", "en"]),
    "currency": st.just(CURRENCY),
    # Mostly around today (a process with stages to run), sometimes anywhere in the window.
    "due_date": st.one_of(
        st.dates(TODAY - timedelta(days=60), TODAY + timedelta(days=20)), st.dates(FIRST, LAST)
    ).map(date.isoformat),
    "paid_at": window_instants(*WINDOW),
    "reported_at": st.one_of(st.none(), window_instants(*WINDOW)),
    "given_at": window_instants(WINDOW[0], datetime.now(UTC)),  # consent: never ahead of now
}
FOLLOW_UPS: dict[str, type[BaseModel]] = {
    "bill": OverdueReport,
    "payment": PaymentReport,
    "hardship": HardshipReport,
    "dispute": DisputeReport,
    "close": DisputeClosing,
    "cease": CeaseContactReport,
}


def bodies(model: type[BaseModel]) -> st.SearchStrategy[dict[str, Any]]:
    return from_schema(model.model_json_schema(), REALISTIC)


@dataclass(frozen=True)
class Request:
    minute: int  # after the process started
    kind: str
    body: dict[str, Any]
    dispute_id: str = "D-1"  # the path's, for a close


follow_ups = st.lists(
    st.sampled_from(sorted(FOLLOW_UPS)).flatmap(
        lambda kind: st.builds(
            Request,
            minute=st.integers(1, 60 * 24 * 100),
            kind=st.just(kind),
            body=bodies(FOLLOW_UPS[kind]),
            dispute_id=st.sampled_from(["D-1", "D-2"]),
        )
    ),
    max_size=6,
)


def accepted(model: type[BaseModel], body: dict[str, Any]) -> Any:
    """The body as the API validates it (JSON in), or None where it answers 422."""
    try:
        return model.model_validate_json(json.dumps(body))
    except ValidationError:
        return None


@dataclass
class Ledger:
    """What the use cases know: the account's bills and payments, to check totals and the
    balance the workflow must show."""

    bills: dict[str, int] = field(default_factory=dict)
    payments: set[str] = field(default_factory=set)
    balance: int = 0

    def bill(self, bill_id: str, amount: int) -> bool:
        """False where report_bill refuses it (total past 2^53) or it adds nothing (known)."""
        if bill_id in self.bills:
            return False
        if sum(self.bills.values()) + amount > MAX_MINOR:
            return False
        self.bills[bill_id] = amount
        self.balance += amount
        return True

    def pay(self, payment_id: str, amount: int) -> None:
        if payment_id not in self.payments:
            self.payments.add(payment_id)
            self.balance = max(0, self.balance - amount)


async def _running(handle: Handle) -> bool:
    return (await execution_info(handle)).status == RUNNING


async def _send(handle: Handle, env: WorkflowEnvironment, request: Request, ledger: Ledger) -> None:
    """One follow-up request, as its route and use case would hand it to the workflow; a
    process that ended in the meantime is the API's 409, as `to_running` makes it."""
    try:
        await _deliver(handle, env, request, ledger)
    except ProcessNotRunning:
        return


async def _deliver(
    handle: Handle, env: WorkflowEnvironment, request: Request, ledger: Ledger
) -> None:
    body = accepted(FOLLOW_UPS[request.kind], request.body)
    if body is None or not await _running(handle):
        return  # 422, or 409 (the process ended): nothing reaches the workflow
    event(f"accepted: {request.kind}")  # --hypothesis-show-statistics: what examples reached
    if isinstance(body, OverdueReport):
        if body.amount_due.currency != CURRENCY:
            return
        if ledger.bill(body.effective_bill_id(), body.amount_due.amount_minor):
            bill = messages.new_bill(messages.bill("prop-1", body))
            await to_running(
                lambda: handle.signal(OverdueAccountWorkflow.report_overdue_amount, bill)
            )
        return
    if isinstance(body, PaymentReport):
        ledger.pay(body.payment_id, body.amount_minor)
        reported: Any = messages.payment(body)
    elif isinstance(body, HardshipReport):
        reported = messages.hardship(body, "txt-" + "0" * 32, await env.get_current_time())
    elif isinstance(body, DisputeReport):
        reported = messages.dispute_opened(body, "txt-" + "0" * 32)
    elif isinstance(body, DisputeClosing):
        reported = messages.dispute_closed(request.dispute_id, "txt-" + "0" * 32)
    else:
        reported = messages.contact_ceased(body, "txt-" + "0" * 32)
    message = signal_of(reported)
    await to_running(lambda: handle.signal(message.handler.name, message.payload))


@settings(
    max_examples=examples(30, 8),  # ~25 s in full: each is a whole lifecycle on its own server
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],  # shrinking would run far past a minute
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
@given(report=bodies(OverdueReport), later=follow_ups)
async def test_no_accepted_request_wedges_the_workflow(
    report: dict[str, Any], later: list[Request]
) -> None:
    start_body = accepted(OverdueReport, report)
    assume(start_body is not None and start_body.amount_due.currency == CURRENCY)
    assert isinstance(start_body, OverdueReport)
    env = await start_time_skipping()
    try:
        scenario = await Scenario.begin(env, DEFAULT_START)
        async with running_worker(env, Recorder()):
            ledger = Ledger()
            ledger.bill(start_body.effective_bill_id(), start_body.amount_due.amount_minor)
            input = messages.process_input("prop-1", start_body, POLICY)
            handle: Handle = await env.client.start_workflow(
                OverdueAccountWorkflow.run,
                input,
                id=workflow_id("prop-1"),
                task_queue=OVERDUE_TASK_QUEUE,
            )
            began = await scenario.now()
            for request in sorted(later, key=lambda r: r.minute):
                await _sleep_until(env, began + timedelta(minutes=request.minute))
                await _send(handle, env, request, ledger)
            await _sleep_until(env, began + UNTIL)
            status = await handle.query(OverdueAccountWorkflow.status)
            assert await failed_workflow_tasks(handle) == []
            assert status.state is not AccountState.PARKED, status.parked
            assert status.balance_minor == ledger.balance
            event(f"ended {status.state.value}")
    finally:
        await env.shutdown()


async def _sleep_until(env: WorkflowEnvironment, when: datetime) -> None:
    now = await env.get_current_time()
    if when > now:
        await env.sleep(when - now)
