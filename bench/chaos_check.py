"""The chaos run's checker: proves from the ledger, the provider and the histories that no
stage was missed, no message sent twice per key, nothing contacted after resolution, outside
a contact window or over a cap.

Definitions (every count must be 0 except the ones marked "info"):

- missed stage: a contact the pure core's simulator (workflows.simulation, the policy and the
  payments at the instants Temporal received them) says was due at t, which the workflow
  neither made nor recorded as skipped or suppressed, although it completed a workflow task at
  or after t before the payment that resolved it arrived, at which it was its turn: no contact
  activity still outstanding and every stage due before it made or skipped (stages act one at
  a time, oldest first, so a stage behind a contact still retrying has not had its chance);
- duplicate message: more than one provider message with the same recipient and text (one
  account, one stage: bodies are rendered once per key), or two ledger rows / call tasks for
  one key, or one provider message owned by two ledger rows;
- contact after resolution: a contact activity scheduled by a workflow task that had already
  seen the resolving payment; an SMS created at the provider, a call task created or a notice
  delivered more than 2 s after the resolving payment reached Temporal (an activity scheduled
  before it but still retrying); or a call task of a resolved account still open at the end;
- outside a window: an SMS at the provider, a call task or a customer-facing notice whose
  local time (the customer's zone) is outside the policy's window;
- over a cap: SMS or call tasks per local day / rolling 7 days above the policy's caps.

Info: stages skipped by the workflow's catch-up rule (several stages due at once after an
outage or a backlog: the latest acts, the others are recorded as skipped), stages not reached
(the worker could not act between their time and the payment), orphan provider messages,
ledger rows left unfinished, notify deliveries repeated per key (the backend deduplicates).
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from temporalio.api.enums.v1 import EventType
from temporalio.api.history.v1 import HistoryEvent

from workflows.decisions import anchor_time
from workflows.patches import ANCHOR_AT_EXECUTION_START
from workflows.policy import Policy
from workflows.simulation import simulate
from workflows.types import AccountRecord, OverdueAccountInput, PaymentReported

CONTACT_ACTIVITIES = frozenset({"send_sms", "create_call_task", "send_notification"})
CUSTOMER_FACING_NOTICES = frozenset({"app_notice", "email"})


@dataclass(frozen=True)
class ScheduledContact:
    index: int
    at: datetime
    activity: str
    stage_id: str
    key: str
    kind: str | None


@dataclass
class AccountHistory:
    """What one account's histories (all runs) say, in event order."""

    workflow_id: str
    first_run_id: str
    input: OverdueAccountInput
    started_at: datetime
    payments: list[tuple[int, datetime, PaymentReported]] = field(default_factory=list)
    contacts: list[ScheduledContact] = field(default_factory=list)
    # index of a contact's ActivityTaskScheduled -> index of the event that closed it
    contact_closed: dict[int, int] = field(default_factory=dict)
    # (index of WorkflowTaskStarted, its time) for tasks that completed
    completed_tasks: list[tuple[int, datetime]] = field(default_factory=list)
    closed_at: datetime | None = None
    close_type: str | None = None
    # The first workflow task's start: what workflow.info().start_time gives the workflow,
    # and so the anchor of a process_start policy before the anchor-at-execution-start patch.
    first_task_started_at: datetime | None = None
    anchors_at_execution_start: bool = False  # the patch's marker is in the history

    @property
    def anchor_source(self) -> datetime:
        if self.anchors_at_execution_start:
            return self.started_at
        return self.first_task_started_at or self.started_at

    @property
    def account_id(self) -> str:
        return self.input.account_id

    def resolution(self) -> tuple[int, datetime] | None:
        """(index, time) of the payment signal that paid the balance in full, if any."""
        seen: set[str] = set()
        paid = 0
        for index, at, payment in self.payments:
            if payment.payment_id in seen:
                continue
            seen.add(payment.payment_id)
            paid += payment.amount_minor
            if paid >= self.input.amount_due_minor:
                return index, at
        return None


def _time(event: HistoryEvent) -> datetime:
    return event.event_time.ToDatetime(tzinfo=ZoneInfo("UTC"))


def _payload(payloads: Any) -> Any:
    return json.loads(payloads.payloads[0].data) if payloads.payloads else None


def parse_history(
    workflow_id: str, first_run_id: str, events: Iterable[HistoryEvent]
) -> AccountHistory:
    """Parse a chain's events (runs concatenated in order; indices count across runs)."""
    account: AccountHistory | None = None
    open_task: tuple[int, datetime] | None = None
    run = 0  # event ids restart with each run of the chain
    open_contacts: dict[tuple[int, int], int] = {}  # (run, event id) -> index
    for index, event in enumerate(events):
        etype = event.event_type
        if etype in _ACTIVITY_CLOSED:
            closed_id = getattr(event, _ACTIVITY_CLOSED[etype]).scheduled_event_id
            opened = open_contacts.pop((run, closed_id), None)
            if opened is not None and account is not None:
                account.contact_closed[opened] = index
            continue
        if etype == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
            run += 1
            attrs = event.workflow_execution_started_event_attributes
            if account is None:
                account = AccountHistory(
                    workflow_id=workflow_id,
                    first_run_id=first_run_id,
                    input=OverdueAccountInput.model_validate(_payload(attrs.input)),
                    started_at=_time(event),
                )
            continue
        assert account is not None, "a history starts with WorkflowExecutionStarted"
        if etype == EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
            signaled = event.workflow_execution_signaled_event_attributes
            if signaled.signal_name == "report_payment":
                payment = PaymentReported.model_validate(_payload(signaled.input))
                account.payments.append((index, _time(event), payment))
        elif etype == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            scheduled = event.activity_task_scheduled_event_attributes
            name = scheduled.activity_type.name
            if name in CONTACT_ACTIVITIES:
                open_contacts[(run, event.event_id)] = index
                body = _payload(scheduled.input) or {}
                account.contacts.append(
                    ScheduledContact(
                        index,
                        _time(event),
                        name,
                        body.get("stage_id", ""),
                        body.get("idempotency_key", ""),
                        body.get("kind"),
                    )
                )
        elif etype == EventType.EVENT_TYPE_MARKER_RECORDED:
            details = event.marker_recorded_event_attributes.details
            if any(
                ANCHOR_AT_EXECUTION_START.encode() in p.data
                for payloads in details.values()
                for p in payloads.payloads
            ):
                account.anchors_at_execution_start = True
        elif etype == EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED:
            open_task = (index, _time(event))
            if account.first_task_started_at is None:
                account.first_task_started_at = open_task[1]
        elif etype == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
            if open_task is not None:
                account.completed_tasks.append(open_task)
            open_task = None
        elif etype in (
            EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
            EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT,
        ):
            open_task = None
        elif etype in _CLOSE_EVENTS:
            account.closed_at = _time(event)
            account.close_type = _CLOSE_EVENTS[etype]
    assert account is not None, f"no history for {workflow_id}"
    return account


_ACTIVITY_CLOSED = {
    EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED: "activity_task_completed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED: "activity_task_failed_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT: "activity_task_timed_out_event_attributes",
    EventType.EVENT_TYPE_ACTIVITY_TASK_CANCELED: "activity_task_canceled_event_attributes",
}

_CLOSE_EVENTS = {
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED: "completed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED: "failed",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED: "terminated",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT: "timed_out",
    EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED: "canceled",
}


def expected_contacts(account: AccountHistory, until: datetime) -> list[tuple[str, datetime]]:
    """(stage_id, time) the pure core would act on, given the payments as Temporal got them."""
    given = account.input
    record = AccountRecord(
        account_id=given.account_id,
        product=given.product,
        currency=given.currency,
        due_date=given.due_date,
        time_zone=given.time_zone,
        jurisdiction=given.jurisdiction,
        risk_segment=given.risk_segment,
        vulnerable=given.vulnerable,
        policy=given.policy,
        episode_id=account.first_run_id,
        anchor_at=anchor_time(given.policy, given.due_date, given.time_zone, account.anchor_source),
        balance_minor=given.amount_due_minor,
    )
    events = [(at, payment) for _, at, payment in account.payments]
    end = min(until, account.closed_at or until)
    return [(c.stage_id, c.at) for c in simulate(record, events, account.started_at, end)]


@dataclass
class StageAudit:
    missed: list[str] = field(default_factory=list)
    skipped_by_catch_up: list[str] = field(default_factory=list)
    suppressed: list[str] = field(default_factory=list)
    not_reached: list[str] = field(default_factory=list)
    unexpected: list[str] = field(default_factory=list)  # made, though the oracle says not


def audit_stages(
    account: AccountHistory, skipped: set[str], suppressed: set[str], until: datetime
) -> StageAudit:
    result = StageAudit()
    made = {c.stage_id for c in account.contacts}
    resolved = account.resolution()
    resolved_index = resolved[0] if resolved else None
    expected = expected_contacts(account, until)
    first_made: dict[str, int] = {}
    for c in account.contacts:
        first_made.setdefault(c.stage_id, c.index)
    for position, (stage_id, due) in enumerate(expected):
        if stage_id in made:
            continue
        if stage_id in skipped:
            result.skipped_by_catch_up.append(stage_id)
            continue
        if stage_id in suppressed:
            result.suppressed.append(stage_id)
            continue
        before = [s for s, _ in expected[:position]]
        had_chance = any(
            at >= due
            and (resolved_index is None or index < resolved_index)
            and _its_turn(account, index, before, skipped, first_made)
            for index, at in account.completed_tasks
        )
        (result.missed if had_chance else result.not_reached).append(stage_id)
    expected_ids = {stage_id for stage_id, _ in expected}
    result.unexpected = sorted(made - expected_ids - _fallbacks(account))
    return result


def _its_turn(
    account: AccountHistory,
    index: int,
    before: list[str],
    skipped: set[str],
    first_made: dict[str, int],
) -> bool:
    """Whether a stage could act at the workflow task starting at `index`: no contact activity
    outstanding then, and every stage due before it made (earlier) or skipped."""
    busy = any(
        c.index < index and account.contact_closed.get(c.index, index + 1) > index
        for c in account.contacts
    )
    return not busy and all(s in skipped or first_made.get(s, index) < index for s in before)


def _fallbacks(account: AccountHistory) -> set[str]:
    """Call tasks the workflow creates outside the stage list (reviews, SMS fallbacks)."""
    return {c.stage_id for c in account.contacts if not _is_stage(account.input.policy, c.stage_id)}


def _is_stage(policy: Policy, stage_id: str) -> bool:
    return any(s.id == stage_id for s in policy.stages)


def contacts_after_resolution(account: AccountHistory) -> list[str]:
    """Contacts scheduled by a workflow task that had seen the resolving payment."""
    resolved = account.resolution()
    if resolved is None:
        return []
    seen_by = next((i for i, _ in account.completed_tasks if i > resolved[0]), None)
    if seen_by is None:
        return []
    return [c.stage_id for c in account.contacts if c.index > seen_by]


def in_window(policy: Policy, jurisdiction: str, time_zone: str, at: datetime) -> bool:
    window = policy.window_for(jurisdiction)
    local = at.astimezone(ZoneInfo(time_zone)).time()
    return window.start <= local < window.end


def cap_violations(instants: list[datetime], time_zone: str, per_day: int, per_week: int) -> int:
    """Contacts beyond a per-local-day cap, plus contacts that make a rolling 7 days too many."""
    ordered = sorted(instants)
    days = Counter(t.astimezone(ZoneInfo(time_zone)).date() for t in ordered)
    over = sum(max(0, n - per_day) for n in days.values())
    for i, t in enumerate(ordered):
        window = [u for u in ordered[: i + 1] if u > t - timedelta(days=7)]
        if len(window) > per_week:
            over += 1
    return over


IN_FLIGHT_GRACE = timedelta(seconds=2)


def first_receipt_by_key(notices: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    first: dict[str, dict[str, Any]] = {}
    for n in sorted(notices, key=lambda n: n["received_at"]):
        first.setdefault(n["key"], n)
    return first


@dataclass
class Evidence:
    """Everything gathered after the run."""

    accounts: dict[str, AccountHistory]  # account_id -> history
    skipped: dict[str, set[str]]  # account_id -> stages the workflow recorded as skipped
    suppressed: dict[str, set[str]]
    phones: dict[str, str]  # phone -> account_id
    provider_messages: list[dict[str, Any]]  # sid, to, body, created_at
    ledger: list[dict[str, Any]]  # idempotency_key, account_id, channel, stage_id, status, ...
    call_tasks: list[dict[str, Any]]  # idempotency_key, account_id, stage_id, status, created_at
    notices: list[dict[str, Any]]  # key, account_id, stage_id, kind, received_at
    until: datetime


def check(e: Evidence) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    info: Counter[str] = Counter()
    examples: dict[str, list[str]] = defaultdict(list)

    def note(kind: str, what: str, target: Counter[str] = counts) -> None:
        target[kind] += 1
        if len(examples[kind]) < 5:
            examples[kind].append(what)

    resolved_accounts = set()
    drifts: list[float] = []
    for account_id, account in e.accounts.items():
        audit = audit_stages(
            account, e.skipped.get(account_id, set()), e.suppressed.get(account_id, set()), e.until
        )
        for stage in audit.missed:
            note("missed_stages", f"{account_id}/{stage}")
        for stage in audit.skipped_by_catch_up:
            note("skipped_by_catch_up", f"{account_id}/{stage}", info)
        for stage in audit.suppressed:
            note("suppressed_by_the_workflow", f"{account_id}/{stage}", info)
        for stage in audit.not_reached:
            note("not_reached_before_payment", f"{account_id}/{stage}", info)
        for stage in audit.unexpected:
            note("made_though_oracle_says_not", f"{account_id}/{stage}", info)
        for stage in contacts_after_resolution(account):
            note("contacts_after_resolution", f"{account_id}/{stage}")
        if account.resolution() is not None:
            resolved_accounts.add(account_id)
        drift = (account.anchor_source - account.started_at).total_seconds()
        drifts.append(drift)
        if drift > 1 and account.input.policy.anchor == "process_start":
            note("anchor_later_than_start_by_over_1s", f"{account_id}: {drift:.1f} s", info)

    # Duplicates: provider messages per recipient and text; keys in the ledger and call tasks.
    by_text = Counter((m["to"], m["body"]) for m in e.provider_messages)
    for (to, _), n in by_text.items():
        for _ in range(n - 1):
            note("duplicate_messages", e.phones.get(to, "?"))
    for kind, rows in (("ledger", e.ledger), ("call_tasks", e.call_tasks)):
        for key, n in Counter(r["idempotency_key"] for r in rows).items():
            for _ in range(n - 1):
                note("duplicate_messages", f"{kind}:{key}")
    owners = Counter(r["provider_id"] for r in e.ledger if r.get("provider_id"))
    for sid, n in owners.items():
        for _ in range(n - 1):
            note("duplicate_messages", f"provider message {sid} owned twice")
    owned = set(owners)
    for m in e.provider_messages:
        if m["sid"] not in owned:
            note("orphan_provider_messages", e.phones.get(m["to"], "?"), info)
    for r in e.ledger:
        if r["channel"] == "sms" and r["status"] in ("pending",):
            note("sms_ledger_rows_unfinished", f"{r['account_id']}/{r['stage_id']}", info)
    for key, n in Counter(n["key"] for n in e.notices).items():
        if n > 1:
            note("notify_deliveries_repeated", key, info)

    # Contacts that reached the customer (or an agent's queue) after the resolving payment had
    # reached Temporal, whoever scheduled them: e.g. an SMS activity scheduled before the
    # payment, still retrying, that sends minutes after it. IN_FLIGHT_GRACE covers an attempt
    # already under way when the payment came.
    paid_at = {}
    for account_id, account in e.accounts.items():
        resolved = account.resolution()
        if resolved is not None:
            paid_at[account_id] = resolved[1]
    late: list[tuple[str, str, datetime]] = []
    for m in e.provider_messages:
        account_id = e.phones.get(m["to"], "?")
        late.append((account_id, "sms", m["created_at"]))
    for task in e.call_tasks:
        late.append((task["account_id"], f"call_task {task['stage_id']}", task["created_at"]))
    for notice in first_receipt_by_key(e.notices).values():
        late.append((notice["account_id"], f"notify {notice['stage_id']}", notice["received_at"]))
    for account_id, what, at in late:
        paid = paid_at.get(account_id)
        if paid is not None and at > paid + IN_FLIGHT_GRACE:
            seconds = (at - paid).total_seconds()
            note("contacts_after_resolution", f"{account_id}: {what} {seconds:.0f} s after payment")

    # Open call tasks of resolved accounts.
    for task in e.call_tasks:
        if task["account_id"] in resolved_accounts and task["status"] in ("open", "claimed"):
            note("contacts_after_resolution", f"{task['account_id']}/{task['stage_id']} open")

    # Windows and caps, from what customers actually got.
    sms: dict[str, list[datetime]] = defaultdict(list)
    for m in e.provider_messages:
        owner = e.phones.get(m["to"])
        if owner is not None:
            sms[owner].append(m["created_at"])
    calls: dict[str, list[datetime]] = defaultdict(list)
    for task in e.call_tasks:
        calls[task["account_id"]].append(task["created_at"])
    notices: dict[str, list[datetime]] = defaultdict(list)
    for notice in first_receipt_by_key(e.notices).values():
        if notice["kind"] in CUSTOMER_FACING_NOTICES:
            notices[notice["account_id"]].append(notice["received_at"])
    for account_id, account in e.accounts.items():
        given = account.input
        policy, tz = given.policy, given.time_zone
        for channel, instants in (
            ("sms", sms[account_id]),
            ("call", calls[account_id]),
            ("notice", notices[account_id]),
        ):
            for at in instants:
                if not in_window(policy, given.jurisdiction, tz, at):
                    note("outside_window", f"{account_id}/{channel}@{at.isoformat()}")
        caps = policy.caps
        for _ in range(cap_violations(sms[account_id], tz, caps.sms_per_day, caps.sms_per_week)):
            note("over_cap", f"{account_id}/sms")
        over_calls = cap_violations(
            calls[account_id], tz, caps.calls_per_day, caps.calls_per_7_days
        )
        for _ in range(over_calls):
            note("over_cap", f"{account_id}/call")

    must_be_zero = (
        "missed_stages",
        "duplicate_messages",
        "contacts_after_resolution",
        "outside_window",
        "over_cap",
    )
    return {
        "counts": {k: counts.get(k, 0) for k in must_be_zero},
        "all_zero": all(counts.get(k, 0) == 0 for k in must_be_zero),
        "info": dict(info),
        "examples": dict(examples),
        "anchor_drift_seconds_max": round(max(drifts, default=0.0), 1),
        "checked": {
            "accounts": len(e.accounts),
            "resolved": len(resolved_accounts),
            "provider_messages": len(e.provider_messages),
            "ledger_rows": len(e.ledger),
            "call_tasks": len(e.call_tasks),
            "notify_deliveries": len(e.notices),
            "contacts_scheduled": sum(len(a.contacts) for a in e.accounts.values()),
        },
    }
