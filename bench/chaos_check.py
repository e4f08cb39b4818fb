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

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

# Re-exported: a run kept before bench/chaos_history.py existed names these classes here in
# its evidence.pickle, and `--recheck` must still load it.
from bench.chaos_history import AccountHistory as AccountHistory
from bench.chaos_history import ScheduledContact as ScheduledContact
from workflows.decisions import anchor_time
from workflows.policy import Policy
from workflows.simulation import simulate
from workflows.types import AccountRecord

CUSTOMER_FACING_NOTICES = frozenset({"app_notice", "email"})


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


MUST_BE_ZERO = (
    "missed_stages",
    "duplicate_messages",
    "contacts_after_resolution",
    "outside_window",
    "over_cap",
)


class Findings:
    """What the checks noted: failures (`counts`), "info" counts, and up to 5 examples each."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self.info: Counter[str] = Counter()
        self.examples: dict[str, list[str]] = defaultdict(list)
        self.resolved_accounts: set[str] = set()
        self.drifts: list[float] = []  # seconds from the start to each account's anchor

    def fail(self, kind: str, what: str) -> None:
        self._note(self.counts, kind, what)

    def inform(self, kind: str, what: str) -> None:
        self._note(self.info, kind, what)

    def _note(self, target: Counter[str], kind: str, what: str) -> None:
        target[kind] += 1
        if len(self.examples[kind]) < 5:
            self.examples[kind].append(what)


def check(e: Evidence) -> dict[str, Any]:
    # The order of the checks is the order of each kind's examples in the result.
    found = Findings()
    for account_id, account in e.accounts.items():
        check_account(e, account_id, account, found)
    check_duplicates(e, found)
    check_contacts_after_payment(e, found)
    check_windows_and_caps(e, found)
    return verdict(e, found)


def check_account(e: Evidence, account_id: str, account: AccountHistory, found: Findings) -> None:
    """One account's history: its stages against the oracle, contacts it scheduled after its
    resolution, and how late its anchor is."""
    audit = audit_stages(
        account, e.skipped.get(account_id, set()), e.suppressed.get(account_id, set()), e.until
    )
    for stage in audit.missed:
        found.fail("missed_stages", f"{account_id}/{stage}")
    for stage in audit.skipped_by_catch_up:
        found.inform("skipped_by_catch_up", f"{account_id}/{stage}")
    for stage in audit.suppressed:
        found.inform("suppressed_by_the_workflow", f"{account_id}/{stage}")
    for stage in audit.not_reached:
        found.inform("not_reached_before_payment", f"{account_id}/{stage}")
    for stage in audit.unexpected:
        found.inform("made_though_oracle_says_not", f"{account_id}/{stage}")
    for stage in contacts_after_resolution(account):
        found.fail("contacts_after_resolution", f"{account_id}/{stage}")
    if account.resolution() is not None:
        found.resolved_accounts.add(account_id)
    drift = (account.anchor_source - account.started_at).total_seconds()
    found.drifts.append(drift)
    if drift > 1 and account.input.policy.anchor == "process_start":
        found.inform("anchor_later_than_start_by_over_1s", f"{account_id}: {drift:.1f} s")


def check_duplicates(e: Evidence, found: Findings) -> None:
    """Provider messages per recipient and text; keys in the ledger and call tasks."""
    by_text = Counter((m["to"], m["body"]) for m in e.provider_messages)
    for (to, _), n in by_text.items():
        for _ in range(n - 1):
            found.fail("duplicate_messages", e.phones.get(to, "?"))
    for kind, rows in (("ledger", e.ledger), ("call_tasks", e.call_tasks)):
        for key, n in Counter(r["idempotency_key"] for r in rows).items():
            for _ in range(n - 1):
                found.fail("duplicate_messages", f"{kind}:{key}")
    owners = Counter(r["provider_id"] for r in e.ledger if r.get("provider_id"))
    for sid, n in owners.items():
        for _ in range(n - 1):
            found.fail("duplicate_messages", f"provider message {sid} owned twice")
    owned = set(owners)
    for m in e.provider_messages:
        if m["sid"] not in owned:
            found.inform("orphan_provider_messages", e.phones.get(m["to"], "?"))
    for r in e.ledger:
        if r["channel"] == "sms" and r["status"] in ("pending",):
            found.inform("sms_ledger_rows_unfinished", f"{r['account_id']}/{r['stage_id']}")
    for key, n in Counter(n["key"] for n in e.notices).items():
        if n > 1:
            found.inform("notify_deliveries_repeated", key)


def check_contacts_after_payment(e: Evidence, found: Findings) -> None:
    """Contacts that reached the customer (or an agent's queue) after the resolving payment had
    reached Temporal, whoever scheduled them: e.g. an SMS activity scheduled before the
    payment, still retrying, that sends minutes after it. IN_FLIGHT_GRACE covers an attempt
    already under way when the payment came. Then open call tasks of resolved accounts."""
    paid_at = {}
    for account_id, account in e.accounts.items():
        resolved = account.resolution()
        if resolved is not None:
            paid_at[account_id] = resolved[1]
    cleared = {r["provider_id"]: r["cleared_at"] for r in e.ledger if r.get("provider_id")}
    for account_id, what, at, sid in _contacts_delivered(e):
        paid = paid_at.get(account_id)
        if paid is None or at <= paid + IN_FLIGHT_GRACE:
            continue
        seconds = (at - paid).total_seconds()
        example = f"{account_id}: {what} {seconds:.0f} s after payment"
        cleared_at = cleared.get(sid) if sid else None
        if cleared_at is not None and cleared_at <= paid:
            # Let go by the pre-send check before the payment reached the process: under way
            # when it came, only slow to reach the provider (a loaded machine). Nothing could
            # have stopped it; every attempt after the payment is checked again.
            found.inform("in_flight_at_payment_beyond_grace", example)
        else:
            found.fail("contacts_after_resolution", example)
    for task in e.call_tasks:
        if task["account_id"] in found.resolved_accounts and task["status"] in ("open", "claimed"):
            found.fail("contacts_after_resolution", f"{task['account_id']}/{task['stage_id']} open")


def _contacts_delivered(e: Evidence) -> list[tuple[str, str, datetime, str | None]]:
    """(account_id, what, when, provider id) of every SMS at the provider, call task and first
    notice (the provider id for SMS only)."""
    delivered: list[tuple[str, str, datetime, str | None]] = []
    for m in e.provider_messages:
        account_id = e.phones.get(m["to"], "?")
        delivered.append((account_id, "sms", m["created_at"], m["sid"]))
    for task in e.call_tasks:
        what = f"call_task {task['stage_id']}"
        delivered.append((task["account_id"], what, task["created_at"], None))
    for notice in first_receipt_by_key(e.notices).values():
        what = f"notify {notice['stage_id']}"
        delivered.append((notice["account_id"], what, notice["received_at"], None))
    return delivered


def check_windows_and_caps(e: Evidence, found: Findings) -> None:
    """Windows and caps, from what customers actually got."""
    sms, calls, notices = _instants_by_account(e)
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
                    found.fail("outside_window", f"{account_id}/{channel}@{at.isoformat()}")
        caps = policy.caps
        for _ in range(cap_violations(sms[account_id], tz, caps.sms_per_day, caps.sms_per_week)):
            found.fail("over_cap", f"{account_id}/sms")
        over_calls = cap_violations(
            calls[account_id], tz, caps.calls_per_day, caps.calls_per_7_days
        )
        for _ in range(over_calls):
            found.fail("over_cap", f"{account_id}/call")


_Instants = dict[str, list[datetime]]


def _instants_by_account(e: Evidence) -> tuple[_Instants, _Instants, _Instants]:
    """account_id -> when its SMS reached the provider, its call tasks were created, and its
    customer-facing notices were first received."""
    sms: _Instants = defaultdict(list)
    for m in e.provider_messages:
        owner = e.phones.get(m["to"])
        if owner is not None:
            sms[owner].append(m["created_at"])
    calls: _Instants = defaultdict(list)
    for task in e.call_tasks:
        calls[task["account_id"]].append(task["created_at"])
    notices: _Instants = defaultdict(list)
    for notice in first_receipt_by_key(e.notices).values():
        if notice["kind"] in CUSTOMER_FACING_NOTICES:
            notices[notice["account_id"]].append(notice["received_at"])
    return sms, calls, notices


def verdict(e: Evidence, found: Findings) -> dict[str, Any]:
    return {
        "counts": {k: found.counts.get(k, 0) for k in MUST_BE_ZERO},
        "all_zero": all(found.counts.get(k, 0) == 0 for k in MUST_BE_ZERO),
        "info": dict(found.info),
        "examples": dict(found.examples),
        "anchor_drift_seconds_max": round(max(found.drifts, default=0.0), 1),
        "checked": {
            "accounts": len(e.accounts),
            "resolved": len(found.resolved_accounts),
            "provider_messages": len(e.provider_messages),
            "ledger_rows": len(e.ledger),
            "call_tasks": len(e.call_tasks),
            "notify_deliveries": len(e.notices),
            "contacts_scheduled": sum(len(a.contacts) for a in e.accounts.values()),
        },
    }
