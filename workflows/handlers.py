"""The account workflow's signals and updates as pure functions of the record.

One entry per handler of `OverdueAccountWorkflow`, under the name the workflow gives it:

- a **signal** (backends, ops batch jobs) is never rejected: it applies its event and says
  whether anything changed (a replayed payment id, a pause while paused: nothing, or a note);
- an **update** (agents, supervisors) is validated first, with the validator the workflow runs
  before accepting it: a `RequestRejected` changes nothing; an accepted one is then applied.

The simulator (`workflows.simulation`) receives every event through this table, so an event
means the same there as in the workflow; `tests/workflows/test_simulation_parity.py` checks the
table against the workflow's handlers and the two runs against each other. Pure: no Temporal,
no I/O.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

from workflows import account as acct
from workflows import (
    consent_rules,
    forbearance,
    forbearance_end,
    policy_change,
    review_deadlines,
    revocation,
)
from workflows import customer_requests as customer
from workflows import selfservice_code_types as selfservice_code
from workflows import selfservice_requests as selfservice
from workflows.consent import ConsentChanged
from workflows.forbearance_types import ForbearanceDecision, ForbearanceEnd, ForbearanceRequested
from workflows.types import (
    AccountRecord,
    CallOutcome,
    ContactCeased,
    ContactPreferences,
    DisputeClosed,
    DisputeOpened,
    Escalation,
    HardshipDecision,
    HardshipReported,
    OverdueAmountReported,
    PauseRequest,
    PaymentReported,
    PromiseToPay,
    ResumeRequest,
    RevocationDecision,
    RevocationRequested,
    SmsConsentChanged,
    VulnerabilityChange,
)

P = TypeVar("P", bound=BaseModel)


@dataclass(frozen=True)
class Signal(Generic[P]):
    name: str  # the workflow's signal
    payload: type[P]
    apply: Callable[[AccountRecord, P, datetime], bool]  # whether anything changed


@dataclass(frozen=True)
class Update(Generic[P]):
    name: str  # the workflow's update
    payload: type[P]
    validate: Callable[[AccountRecord, P, datetime], None]  # raises acct.RequestRejected
    apply: Callable[[AccountRecord, P, datetime], None]


@dataclass(frozen=True)
class Message(Generic[P]):
    """One signal or update with its payload: what a caller sends the workflow."""

    handler: Signal[P] | Update[P]
    payload: P


@dataclass(frozen=True)
class Receipt:
    changed: bool
    rejected: str | None = None  # why an update was rejected (then nothing changed)


def receive(record: AccountRecord, message: Message[Any], now: datetime) -> Receipt:
    """Apply a message as the workflow's handler does: a signal at once; an update once its
    validator accepts it."""
    handler = message.handler
    if isinstance(handler, Signal):
        return Receipt(changed=handler.apply(record, message.payload, now))
    try:
        handler.validate(record, message.payload, now)
    except acct.RequestRejected as err:
        return Receipt(changed=False, rejected=str(err))
    handler.apply(record, message.payload, now)
    return Receipt(changed=True)


# --- signals ----------------------------------------------------------------------------


def _payment(record: AccountRecord, payment: PaymentReported, now: datetime) -> bool:
    changed = acct.apply_payment(record, payment)
    if changed:
        forbearance.note_payment(record, payment.amount_minor)  # toward a settlement
    return changed


def _bill(record: AccountRecord, bill: OverdueAmountReported, now: datetime) -> bool:
    changed = acct.apply_new_bill(record, bill)
    if changed:
        forbearance.note_bill(record, bill, now)  # its itemization, if any, is the latest
    return changed


def _opened(record: AccountRecord, dispute: DisputeOpened, now: datetime) -> bool:
    changed = acct.apply_dispute_opened(record, dispute)
    if changed:
        review_deadlines.start(record, dispute.dispute_id, now)  # where the policy has one
    return changed


def _closed(record: AccountRecord, dispute: DisputeClosed, now: datetime) -> bool:
    changed = acct.apply_dispute_closed(record, dispute)
    review_deadlines.close(record, dispute.dispute_id)
    return changed


def _ceased(record: AccountRecord, request: ContactCeased, now: datetime) -> bool:
    return acct.apply_cease_contact(record, request)


def _consent(record: AccountRecord, change: SmsConsentChanged, now: datetime) -> bool:
    changed = acct.apply_sms_consent(record, change)
    return revocation.settle_by_opt_out(record) or changed


def _resume_by_ops(record: AccountRecord, request: ResumeRequest, now: datetime) -> bool:
    return acct.apply_resume_by_ops(record, request)


REPORT_PAYMENT = Signal("report_payment", PaymentReported, _payment)
REPORT_OVERDUE_AMOUNT = Signal("report_overdue_amount", OverdueAmountReported, _bill)
REPORT_HARDSHIP = Signal("report_hardship", HardshipReported, acct.apply_hardship_report)
OPEN_DISPUTE = Signal("open_dispute", DisputeOpened, _opened)
CLOSE_DISPUTE = Signal("close_dispute", DisputeClosed, _closed)
CEASE_CONTACT = Signal("cease_contact", ContactCeased, _ceased)
SMS_CONSENT_CHANGED = Signal("sms_consent_changed", SmsConsentChanged, _consent)
PAUSE_BY_OPS = Signal("pause_by_ops", PauseRequest, acct.apply_pause_by_ops)
RESUME_BY_OPS = Signal("resume_by_ops", ResumeRequest, _resume_by_ops)
REVOCATION_REQUESTED = Signal("revocation_requested", RevocationRequested, revocation.apply_request)


def _consent_changed(record: AccountRecord, change: ConsentChanged, now: datetime) -> bool:
    return consent_rules.apply_change(record, change)


CONSENT_CHANGED = Signal("consent_changed", ConsentChanged, _consent_changed)
REQUEST_FORBEARANCE = Signal("request_forbearance", ForbearanceRequested, forbearance.apply_request)

# --- updates ----------------------------------------------------------------------------


def _check_escalation(record: AccountRecord, escalation: Escalation, now: datetime) -> None:
    acct.validate_escalation(record, escalation)


def _check_pause(record: AccountRecord, request: PauseRequest, now: datetime) -> None:
    acct.validate_pause(record, request)


def _check_resume(record: AccountRecord, request: ResumeRequest, now: datetime) -> None:
    acct.validate_resume(record, request)


def _resume(record: AccountRecord, request: ResumeRequest, now: datetime) -> None:
    acct.apply_resume(record, request)


RECORD_CALL_OUTCOME = Update(
    "record_call_outcome", CallOutcome, acct.validate_call_outcome, acct.apply_call_outcome
)
PROMISE_TO_PAY = Update("promise_to_pay", PromiseToPay, acct.validate_promise, acct.apply_promise)
DECIDE_HARDSHIP = Update(
    "decide_hardship",
    HardshipDecision,
    acct.validate_hardship_decision,
    acct.apply_hardship_decision,
)
ESCALATE = Update("escalate", Escalation, _check_escalation, acct.apply_escalation)
PAUSE = Update("pause", PauseRequest, _check_pause, acct.apply_pause)
RESUME = Update("resume", ResumeRequest, _check_resume, _resume)
SET_VULNERABILITY = Update(
    "set_vulnerability",
    VulnerabilityChange,
    customer.validate_vulnerability,
    customer.apply_vulnerability,
)
SET_CONTACT_PREFERENCES = Update(
    "set_contact_preferences",
    ContactPreferences,
    customer.validate_preferences,
    customer.apply_preferences,
)
DECIDE_REVOCATION = Update(
    "decide_revocation",
    RevocationDecision,
    revocation.validate_decision,
    revocation.apply_decision,
)
ADOPT_POLICY = Update(
    "adopt_policy",
    policy_change.PolicyChange,
    policy_change.validate_policy_change,
    policy_change.apply_policy_change,
)
DECIDE_FORBEARANCE = Update(
    "decide_forbearance",
    ForbearanceDecision,
    forbearance.validate_decision,
    forbearance.apply_decision,
)
END_FORBEARANCE = Update(
    "end_forbearance", ForbearanceEnd, forbearance_end.validate_end, forbearance_end.apply_end
)
REQUEST_REPAYMENT_PLAN = Update(
    "request_repayment_plan",
    selfservice.PlanRequested,
    selfservice.validate_plan_request,
    selfservice.apply_plan_request,
)

SEND_SELFSERVICE_CODE = Update(
    "send_selfservice_code",
    selfservice_code.CodeRequested,
    selfservice_code.validate_code_request,
    selfservice_code.apply_code_request,
)

SIGNALS: tuple[Signal[Any], ...] = (
    REPORT_PAYMENT,
    REPORT_OVERDUE_AMOUNT,
    REPORT_HARDSHIP,
    OPEN_DISPUTE,
    CLOSE_DISPUTE,
    CEASE_CONTACT,
    SMS_CONSENT_CHANGED,
    PAUSE_BY_OPS,
    RESUME_BY_OPS,
    REVOCATION_REQUESTED,
    CONSENT_CHANGED,
    REQUEST_FORBEARANCE,
)
UPDATES: tuple[Update[Any], ...] = (
    RECORD_CALL_OUTCOME,
    PROMISE_TO_PAY,
    DECIDE_HARDSHIP,
    ESCALATE,
    PAUSE,
    RESUME,
    SET_VULNERABILITY,
    SET_CONTACT_PREFERENCES,
    DECIDE_REVOCATION,
    ADOPT_POLICY,
    DECIDE_FORBEARANCE,
    REQUEST_REPAYMENT_PLAN,
    END_FORBEARANCE,
    SEND_SELFSERVICE_CODE,
)

# A bare event is the signal that carries its type (a pause or resume: the ops batch job's).
_SIGNAL_FOR: dict[type[BaseModel], Signal[Any]] = {s.payload: s for s in SIGNALS}
assert len(_SIGNAL_FOR) == len(SIGNALS), "two signals carry the same payload type"


def signal_of(event: BaseModel) -> Message[Any]:
    """The signal a backend or an ops batch job sends with `event`."""
    return Message(_SIGNAL_FOR[type(event)], event)
