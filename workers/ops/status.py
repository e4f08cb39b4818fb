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

from temporalio.client import Client, WorkflowExecutionDescription
from temporalio.service import RPCError, RPCStatusCode

from api.account_list import summary
from api.schemas import AccountSummary
from api.workflow_calls import account_handle, workflow_id
from workers.ops.errors import OpsError
from workflows.currencies import format_minor
from workflows.decisions import days_past_due
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import ACCOUNT_ID_PATTERN, AccountStatus

QUERY_TIMEOUT = timedelta(seconds=10)


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
    now = datetime.now(UTC)
    current = current.model_copy(
        update={"days_past_due": days_past_due(current.due_date, current.time_zone, now)}
    )
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


def render(report: StatusReport, now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    ex = report.execution
    lines = [
        f"Account      {ex.account_id}",
        f"Workflow     {ex.workflow_id} (run {ex.run_id}, {ex.execution_status})",
    ]
    status = report.status
    if status is None:
        lines += [
            f"State        {ex.state or '?'} (search attributes; status query unanswered)",
            f"Stage        {ex.stage or '-'}",
            f"Days due     {ex.days_past_due if ex.days_past_due is not None else '?'}",
        ]
        return "\n".join(lines) + "\n"
    money = f"{format_minor(status.balance_minor, status.currency)} {status.currency}"
    lines += [
        f"State        {status.state.value}",
        f"Stage        {status.stage or '- (none acted on yet)'}",
        f"Balance      {money}, due {status.due_date} ({status.time_zone}), "
        f"{status.days_past_due} days past due",
        f"Policy       {status.policy_id} v{status.policy_version}",
    ]
    if status.next_action:
        step = status.next_action
        lines.append(f"Next         {step.label} at {_when(step.at, now)}")
    else:
        lines.append("Next         - (waiting for an event)")
    if status.pause:
        lines.append(
            f"Paused       since {_when(status.pause.since, now)} by {status.pause.actor}: "
            f"{status.pause.reason}"
        )
    if status.promise:
        p = status.promise
        lines.append(
            f"Promise      {format_minor(p.amount_minor, status.currency)} by {p.promised_date} "
            f"(by {p.actor})"
        )
    if status.plan:
        plan = status.plan
        lines.append(
            f"Plan         {len(plan.instalments)} instalments, "
            f"{format_minor(plan.paid_minor, status.currency)} paid"
        )
    if status.open_disputes:
        lines.append(f"Disputes     {', '.join(status.open_disputes)}")
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
        lines.append(f"Flags        {', '.join(flags)}")
    lines.append(f"Stages done  {', '.join(status.stages_done) or '-'}")
    if status.recent_contacts:
        lines.append("Recent contacts (newest first)")
        for c in status.recent_contacts:
            stamp = c.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            lines.append(f"  {stamp}  {c.channel:<6} {c.stage_id:<20} {c.outcome}")
    if status.notes:
        lines.append("Notes (newest first)")
        lines += [f"  {note}" for note in status.notes]
    return "\n".join(lines) + "\n"
