"""Forbearance beyond instalments, and the amount's itemization. Pure: no Temporal, no I/O.

An agent grants one (`ForbearanceDecision`, an update validated against the policy's
`forbearance` section; rejected with the precise reason, nothing changed) or turns down the
borrower's request (`ForbearanceRequested`, a signal: a review task for the section's queue):

- **settlement**: the borrower pays `amount_minor` (at least `settlement_min_percent` of the
  balance) by `pay_by`; contact waits meanwhile, as for a promise. Once the payments since the
  agreement reach it, the workflow reports the balance left as written down (a
  `settlement_write_down` notice to the backend, once) and the account resolves. Unpaid at
  `pay_by` plus `settlement_grace_days`, it lapses and the stages resume at the policy's
  broken-promise stage, as a broken promise does;
- **freeze** of interest and fees until a date: reported to the backend (an `interest_freeze`
  notice), which applies it; contact goes on;
- **payment holiday** until a date: no collection contact until the end of that local day,
  then the stages resume (those that came due meanwhile follow the catch-up rule: no burst).

Notices go through `notices`, which the run loop's chores send (`take_notice`, then
`notice_sent`), the workflow and the simulator alike. All of it is kept in
`record.forbearance` (None in old histories) and shown in the status.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from workflows.account import (
    RequestRejected,
    end_of_local_day,
    reopen_broken_promise_stage,
)
from workflows.contact_rules import local_date
from workflows.forbearance_types import (
    SEEN_REQUESTS,
    ForbearanceDecision,
    ForbearanceKind,
    ForbearanceNotice,
    ForbearanceRequested,
    ForbearanceRules,
    ForbearanceState,
    ItemizationState,
    PendingRequest,
    PeriodState,
    SettlementState,
)
from workflows.policy import NotifyKind
from workflows.steps import SettlementLapsed, WaitForEvents, WaitUntil
from workflows.types import AccountRecord, AccountState, OverdueAccountInput, OverdueAmountReported

REVIEW_TASK = "forbearance_review"


def state(record: AccountRecord) -> ForbearanceState:
    if record.forbearance is None:
        record.forbearance = ForbearanceState()
    return record.forbearance


# --- itemization ----------------------------------------------------------------------------


def start_itemization(input: OverdueAccountInput, now: datetime) -> ItemizationState | None:
    if input.itemization is None:
        return None
    return ItemizationState(
        itemization=input.itemization,
        amount_minor=input.amount_due_minor,
        bill_id=input.bill_id,
        reported_at=now,
    )


def note_bill(record: AccountRecord, bill: OverdueAmountReported, now: datetime) -> None:
    """A new bill's itemization, if it had one, is the latest (the status shows it)."""
    if bill.itemization is not None:
        record.itemization = ItemizationState(
            itemization=bill.itemization,
            amount_minor=bill.amount_minor,
            bill_id=bill.bill_id,
            reported_at=now,
        )


# --- the borrower asks (signal) ---------------------------------------------------------------


def apply_request(record: AccountRecord, request: ForbearanceRequested, now: datetime) -> bool:
    """A borrower's request: a review task, once per request id. Without the policy section
    nobody may grant one: noted, no task."""
    fb = state(record)
    if request.request_id in fb.seen:
        return False
    fb.seen = [*fb.seen[-(SEEN_REQUESTS - 1) :], request.request_id]
    rules = record.policy.forbearance
    if rules is None or record.finished:
        record.note(f"forbearance request {request.request_id}: not offered here")
        return True
    fb.pending.append(PendingRequest(request_id=request.request_id, kind=request.kind, since=now))
    record.request_task(REVIEW_TASK, rules.review_queue, rules.review_priority, now)
    record.note(f"forbearance request {request.request_id} ({request.kind.value}): for review")
    return True


# --- an agent decides (update) ----------------------------------------------------------------


def _rules(record: AccountRecord) -> ForbearanceRules:
    if record.finished:
        raise RequestRejected(f"the account is {record.state.value}; nothing more can be recorded")
    rules = record.policy.forbearance
    if rules is None:
        raise RequestRejected("the account's policy grants no forbearance (no forbearance section)")
    return rules


def validate_decision(record: AccountRecord, decision: ForbearanceDecision, now: datetime) -> None:
    rules = _rules(record)
    pending = {p.request_id for p in (record.forbearance.pending if record.forbearance else [])}
    if decision.request_id is not None and decision.request_id not in pending:
        raise RequestRejected(f"no forbearance request {decision.request_id!r} is waiting")
    if not decision.approve:
        if decision.request_id is None:
            raise RequestRejected("a refusal answers a borrower's request: request_id is required")
        return
    today = local_date(now, record.time_zone)
    if decision.kind == ForbearanceKind.SETTLEMENT:
        _check_settlement(record, rules, decision, today)
        return
    assert decision.until is not None
    limit = (
        rules.freeze_max_days if decision.kind == ForbearanceKind.FREEZE else rules.holiday_max_days
    )
    if decision.until < today:
        raise RequestRejected(f"until {decision.until} is in the past")
    if decision.until > today + timedelta(days=limit):
        latest = today + timedelta(days=limit)
        raise RequestRejected(
            f"a {decision.kind.value} lasts at most {limit} days (until {latest})"
        )
    if decision.kind == ForbearanceKind.HOLIDAY:
        _no_agreement(record, "a payment holiday")


def _no_agreement(record: AccountRecord, what: str) -> None:
    """A promise, a plan or a settlement already says when the borrower pays."""
    if record.state in (AccountState.PROMISE, AccountState.REPAYMENT_PLAN):
        raise RequestRejected(f"{what} cannot be granted while the account is {record.state}")
    if record.forbearance is not None and record.forbearance.settlement is not None:
        raise RequestRejected(f"{what} cannot be granted while a settlement is in force")


def _check_settlement(
    record: AccountRecord, rules: ForbearanceRules, decision: ForbearanceDecision, today: date
) -> None:
    assert decision.amount_minor is not None and decision.pay_by is not None
    _no_agreement(record, "a settlement")
    if record.open_disputes or record.hardship_pending:
        raise RequestRejected(f"a settlement cannot be agreed while the account is {record.state}")
    balance = record.balance_minor
    minimum = -(-balance * rules.settlement_min_percent // 100)  # ceiling
    if decision.amount_minor >= balance:
        raise RequestRejected(f"a settlement is for less than the balance of {balance}")
    if decision.amount_minor < minimum:
        raise RequestRejected(
            f"a settlement must be at least {rules.settlement_min_percent}% of the balance "
            f"({minimum})"
        )
    latest = today + timedelta(days=rules.settlement_max_days)
    if decision.pay_by < today:
        raise RequestRejected(f"pay_by {decision.pay_by} is in the past")
    if decision.pay_by > latest:
        raise RequestRejected(
            f"pay_by must be at most {rules.settlement_max_days} days ahead (by {latest})"
        )


def apply_decision(record: AccountRecord, decision: ForbearanceDecision, now: datetime) -> None:
    fb = state(record)
    fb.pending = [p for p in fb.pending if p.request_id != decision.request_id]
    who = decision.actor
    if not decision.approve:
        record.note(f"forbearance request {decision.request_id} turned down by {who}")
        return
    if decision.kind == ForbearanceKind.SETTLEMENT:
        assert decision.amount_minor is not None and decision.pay_by is not None
        fb.settlement = SettlementState(
            amount_minor=decision.amount_minor,
            pay_by=decision.pay_by,
            balance_at_agreement=record.balance_minor,
            agreed_at=now,
            actor=who,
        )
        record.note(f"settlement for {decision.amount_minor} by {decision.pay_by} agreed by {who}")
        return
    assert decision.until is not None
    period = PeriodState(until=decision.until, since=now, actor=who)
    if decision.kind == ForbearanceKind.FREEZE:
        fb.freeze = period
        notice_id = record.next_task_id("forbearance_freeze")
        fb.notices.append(
            ForbearanceNotice(
                notice_id=notice_id, kind=NotifyKind.INTEREST_FREEZE, until=decision.until
            )
        )
        record.note(f"interest and fees frozen until {decision.until} by {who}")
    else:
        fb.holiday = period
        record.note(f"payment holiday until {decision.until} by {who}: contact paused")


# --- payments, the decision core's step, notices ----------------------------------------------


def note_payment(record: AccountRecord, amount_minor: int) -> None:
    """A payment the record applied: toward the settlement, which it may complete."""
    fb = record.forbearance
    if fb is None or fb.settlement is None:
        return
    settlement = fb.settlement
    if record.balance_minor == 0:  # paid in full: nothing to write down
        fb.settlement = None
        return
    before = settlement.paid_since_minor
    settlement.paid_since_minor += amount_minor
    if before < settlement.amount_minor <= settlement.paid_since_minor:
        fb.notices.append(
            ForbearanceNotice(
                notice_id=record.next_task_id("forbearance_settlement"),
                kind=NotifyKind.SETTLEMENT_WRITE_DOWN,
                amount_minor=record.balance_minor,
            )
        )
        record.note(f"settlement paid: {record.balance_minor} to write down")


def holiday_end(record: AccountRecord) -> datetime | None:
    fb = record.forbearance
    if fb is None or fb.holiday is None:
        return None
    return end_of_local_day(fb.holiday.until, record.time_zone)


def settlement_deadline(record: AccountRecord, settlement: SettlementState) -> datetime:
    rules = record.policy.forbearance
    grace = rules.settlement_grace_days if rules is not None else 0
    return end_of_local_day(settlement.pay_by + timedelta(days=grace), record.time_zone)


def step(
    record: AccountRecord, now: datetime
) -> WaitUntil | WaitForEvents | SettlementLapsed | None:
    """What forbearance in force asks of the decision core, if anything (None: carry on)."""
    fb = record.forbearance
    if fb is None:
        return None
    if fb.settlement is not None:
        if fb.settlement.paid_since_minor >= fb.settlement.amount_minor:
            return WaitForEvents(reason="settlement paid: reporting the write-down")
        deadline = settlement_deadline(record, fb.settlement)
        if now >= deadline:
            return SettlementLapsed()
        label = f"Settlement: {fb.settlement.amount_minor} due by {fb.settlement.pay_by}"
        return WaitUntil(at=deadline, label=label)
    end = holiday_end(record)
    if end is not None and now < end:
        assert fb.holiday is not None
        return WaitUntil(at=end, label=f"Payment holiday until {fb.holiday.until}")
    return None


def lapse(record: AccountRecord, passed: set[str]) -> None:
    fb = state(record)
    assert fb.settlement is not None
    record.note(
        f"settlement lapsed: {fb.settlement.amount_minor} not paid by {fb.settlement.pay_by}"
    )
    fb.settlement = None
    reopen_broken_promise_stage(record, passed)


def take_notice(record: AccountRecord) -> ForbearanceNotice | None:
    """The next notice owed to the backend; none once the account is finished."""
    fb = record.forbearance
    if fb is None or not fb.notices or record.finished:
        return None
    return fb.notices[0]


def notice_sent(record: AccountRecord, notice: ForbearanceNotice, outcome: str) -> None:
    """The notice was delivered (or refused for good: `outcome` says which): done with. A
    settlement's write-down then resolves the account."""
    fb = state(record)
    fb.notices = [n for n in fb.notices if n.notice_id != notice.notice_id]
    record.note(f"{notice.kind.value} notice {outcome}")
    if notice.kind == NotifyKind.SETTLEMENT_WRITE_DOWN and fb.settlement is not None:
        assert notice.amount_minor is not None
        fb.written_down_minor += notice.amount_minor
        fb.settlement = None
        record.balance_minor = max(0, record.balance_minor - notice.amount_minor)
        if record.balance_minor == 0:
            record.cancel_open_tasks = True
        record.note(f"{notice.amount_minor} written down: settlement complete")
