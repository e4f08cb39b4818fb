"""`overdue status ACCOUNT`: what the account's workflow says about itself.

The execution comes from `describe` (works with no worker running); the status from the
workflow's `status` query, as the API's `GET /v1/accounts/{id}` answers it, days past due
recomputed for now. When no worker answers the query, what describe knows (search
attributes) is shown with a warning.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.table import Table
from rich.text import Text
from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode

from api.account_list import summary
from api.schemas import AccountSummary
from api.workflow_calls import account_handle
from overdue.account_status import days_past_due_now
from workers.ops.errors import OpsError
from workflows.currencies import format_minor
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import ACCOUNT_ID_PATTERN, AccountStatus, PauseState

QUERY_TIMEOUT = timedelta(seconds=10)
LABEL_WIDTH = 12


@dataclass(frozen=True)
class StatusReport:
    execution: AccountSummary
    status: AccountStatus | None  # None: the query was not answered
    query_problem: str | None


def check_account_id(account_id: str) -> str:
    if not re.fullmatch(ACCOUNT_ID_PATTERN, account_id):
        raise OpsError(
            f"ACCOUNT {account_id!r} is not an account id: 1 to 64 of A-Z a-z 0-9 _ . : - "
            "starting with a letter or digit",
            exit_code=2,
        )
    return account_id


async def fetch_status(client: Client, account_id: str) -> StatusReport:
    handle = account_handle(client, account_id)
    try:
        description: WorkflowExecutionDescription = await handle.describe()
    except RPCError as err:
        if err.status == RPCStatusCode.NOT_FOUND:
            raise OpsError(
                f"no overdue process for account {account_id!r} "
                f"(no workflow {workflow_id(account_id)!r} in this namespace)"
            ) from None
        raise OpsError(f"Temporal refused to describe {workflow_id(account_id)}: {err}") from None
    try:
        current = await handle.query(OverdueAccountWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
    except Exception as err:  # no worker, or the workflow's own query failure: say which
        problem = (
            f"no worker answered the status query within {QUERY_TIMEOUT.seconds} s "
            "(is `overdue worker` running?)"
            if isinstance(err, RPCError) and err.status == RPCStatusCode.DEADLINE_EXCEEDED
            else f"the status query failed: {err}"
        )
        return StatusReport(summary(description), None, problem)
    current = current.model_copy(update={"days_past_due": days_past_due_now(current)})
    return StatusReport(summary(description), current, None)


def as_json(report: StatusReport) -> str:
    body: dict[str, Any] = {
        "execution": report.execution.model_dump(mode="json"),
        "status": report.status.model_dump(mode="json") if report.status else None,
    }
    if report.query_problem:
        body["problem"] = report.query_problem
    return json.dumps(body, indent=2, ensure_ascii=False)


def _when(at: datetime, now: datetime) -> str:
    seconds = int((at - now).total_seconds())
    hours, rest = divmod(abs(seconds), 3600)
    span = f"{hours // 24}d {hours % 24}h" if hours >= 24 else f"{hours}h {rest // 60}m"
    stamp = at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"{stamp} (in {span})" if seconds >= 0 else f"{stamp} ({span} ago)"


Field = tuple[str, str]


def render(report: StatusReport, now: datetime | None = None) -> RenderableType:
    """What `overdue status` prints: one field a line, then recent contacts and notes."""
    now = now or datetime.now(UTC)
    status = report.status
    fields = _execution_fields(report.execution, answered=status is not None)
    if status is None:
        return _fields_table(fields)
    fields += _account_fields(status, now) + _arrangement_fields(status, now)
    fields.append(("Stages done", ", ".join(status.stages_done) or "-"))
    parts: list[RenderableType] = [_fields_table(fields)]
    if status.recent_contacts:
        parts += [Text("Recent contacts (newest first)"), _indented(_contacts_table(status))]
    if status.notes:
        parts += [Text("Notes (newest first)"), _indented(Group(*map(Text, status.notes)))]
    return Group(*parts)


def _execution_fields(ex: AccountSummary, *, answered: bool) -> list[Field]:
    fields = [
        ("Account", ex.account_id),
        ("Workflow", f"{ex.workflow_id} (run {ex.run_id}, {ex.execution_status})"),
    ]
    if not answered:  # what the search attributes say
        fields += [
            ("State", f"{ex.state or '?'} (search attributes; status query unanswered)"),
            ("Stage", ex.stage or "-"),
            ("Days due", str(ex.days_past_due) if ex.days_past_due is not None else "?"),
        ]
    return fields


def _account_fields(status: AccountStatus, now: datetime) -> list[Field]:
    money = f"{format_minor(status.balance_minor, status.currency)} {status.currency}"
    step = status.next_action
    return [
        ("State", status.state.value),
        ("Stage", status.stage or "- (none acted on yet)"),
        (
            "Balance",
            f"{money}, due {status.due_date} ({status.time_zone}), "
            f"{status.days_past_due} days past due",
        ),
        ("Policy", f"{status.policy_id} v{status.policy_version}"),
        ("Next", f"{step.label} at {_when(step.at, now)}" if step else "- (waiting for an event)"),
    ]


def _why(pause: PauseState) -> str:
    # What was typed stays in Postgres (console and API show it); Temporal has its id.
    return pause.reason or (f"reason {pause.text_id}" if pause.text_id else "-")


def _arrangement_fields(status: AccountStatus, now: datetime) -> list[Field]:
    """Pause, promise, plan, disputes and flags: each only when there is one."""
    fields: list[Field] = []
    if pause := status.pause:
        fields.append(
            ("Paused", f"since {_when(pause.since, now)} by {pause.actor}: {_why(pause)}")
        )
    if p := status.promise:
        amount = format_minor(p.amount_minor, status.currency)
        fields.append(("Promise", f"{amount} by {p.promised_date} (by {p.actor})"))
    if plan := status.plan:
        paid = format_minor(plan.paid_minor, status.currency)
        fields.append(("Plan", f"{len(plan.instalments)} instalments, {paid} paid"))
    if status.open_disputes:
        fields.append(("Disputes", ", ".join(status.open_disputes)))
    flags = [
        name
        for name, on in (
            ("escalated", status.escalated),
            ("SMS opted out", status.sms_opted_out),
            ("contact ceased", status.contact_ceased),
        )
        if on
    ]
    if flags:
        fields.append(("Flags", ", ".join(flags)))
    return fields


def _fields_table(fields: list[Field]) -> Table:
    grid = Table.grid(padding=(0, 1, 0, 0))
    grid.add_column(min_width=LABEL_WIDTH, style="bold", no_wrap=True)
    grid.add_column(overflow="fold")
    for label, value in fields:
        grid.add_row(label, Text(value))
    return grid


def _contacts_table(status: AccountStatus) -> Table:
    contacts = Table.grid(padding=(0, 1, 0, 0))
    contacts.add_column(min_width=21, no_wrap=True)  # when (20 characters), two spaces
    contacts.add_column(min_width=6)  # channel
    contacts.add_column(min_width=20)  # stage
    contacts.add_column()  # outcome
    for c in status.recent_contacts:
        stamp = c.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
        contacts.add_row(stamp, c.channel, Text(c.stage_id), Text(c.outcome))
    return contacts


def _indented(renderable: RenderableType) -> Padding:
    return Padding(renderable, (0, 0, 0, 2), expand=False)
