"""Data the workflow exchanges with its callers and activities.

Single-argument Pydantic models so fields can be added compatibly. No personal data: the
workflow carries the account id and money; activities read contacts from Postgres.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from workflows.policy import CallQueue, NotifyKind, Policy

ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class AccountState(StrEnum):
    ACTIVE = "active"
    PROMISE = "promise"  # reminders paused until the promised date plus grace
    HARDSHIP_REVIEW = "hardship_review"
    REPAYMENT_PLAN = "repayment_plan"
    DISPUTED = "disputed"
    PAUSED = "paused"
    ESCALATED = "escalated"
    RESOLVED = "resolved"  # paid
    CLOSED = "closed"  # handed over or cancelled


class SmsFailure(StrEnum):
    """ApplicationError types the SMS activity raises (non-retryable) for the workflow to act on."""

    RECIPIENT_OPTED_OUT = "RecipientOptedOut"  # Twilio 21610: record the opt-out
    UNREACHABLE_NUMBER = "UnreachableNumber"  # 21211 / 21614: fall back to a call task


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class OverdueAccountInput(_Model):
    account_id: str = Field(pattern=ACCOUNT_ID_PATTERN)
    product: str
    amount_due_minor: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    due_date: date
    time_zone: str = Field(description="Customer's IANA time zone: not personal on its own.")
    policy: Policy


class PaymentReported(_Model):
    payment_id: str = Field(min_length=1, max_length=128)
    amount_minor: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    paid_at: AwareDatetime


# --- events from backends (signals: durable, accepted even while workers are down) ---------


class OverdueAmountReported(_Model):
    """A new unpaid bill for an account already in its process: adds to the balance."""

    bill_id: str = Field(min_length=1, max_length=128)
    amount_minor: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    due_date: date


class HardshipReported(_Model):
    report_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(max_length=500, description="Category or short text; no personal data.")
    reported_at: AwareDatetime


class DisputeOpened(_Model):
    dispute_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(max_length=500)


class DisputeClosed(_Model):
    dispute_id: str = Field(min_length=1, max_length=128)
    resolution: str = Field(max_length=500)


class ContactCeased(_Model):
    """The customer asked us to stop contacting them (calls only where the policy allows)."""

    request_id: str = Field(min_length=1, max_length=128)
    reason: str = Field(max_length=500)


class SmsConsentChanged(_Model):
    """STOP / START from an inbound SMS, or the provider reporting an opt-out (21610)."""

    opted_out: bool
    source: str = Field(description="inbound_sms, provider_error, backend, agent")


# --- requests from agents and supervisors (updates: validated, answered) -------------------


class CallOutcomeKind(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"
    COMPLAINT = "complaint"
    CALLBACK_REQUESTED = "callback_requested"


class CallOutcome(_Model):
    actor: str = Field(min_length=1, max_length=64, description="Agent id.")
    task_id: int | None = None
    outcome: CallOutcomeKind
    callback_at: AwareDatetime | None = Field(
        default=None, description="Required for callback_requested."
    )
    note: str = Field(default="", max_length=1000)


class PromiseToPay(_Model):
    actor: str = Field(min_length=1, max_length=64)
    amount_minor: int = Field(gt=0)
    promised_date: date


class Instalment(_Model):
    due_date: date
    amount_minor: int = Field(gt=0)


class HardshipDecision(_Model):
    actor: str = Field(min_length=1, max_length=64)
    approve: bool
    plan: list[Instalment] = Field(
        default_factory=list, description="Instalments, required when approving."
    )
    reason: str = Field(default="", max_length=500)


class Escalation(_Model):
    actor: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class PauseRequest(_Model):
    actor: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class ResumeRequest(_Model):
    actor: str = Field(min_length=1, max_length=64)
    reason: str = Field(min_length=1, max_length=500)


class NextAction(_Model):
    stage_id: str
    label: str
    at: datetime


class AccountStatus(_Model):
    account_id: str
    state: AccountState
    stage: str | None = Field(description="Last stage acted on, if any.")
    balance_minor: int
    currency: str
    due_date: date
    time_zone: str
    days_past_due: int = Field(description="As of `as_of`; the API recomputes it for 'now'.")
    as_of: datetime = Field(description="Workflow time of the last timer or event.")
    next_action: NextAction | None
    stages_done: list[str]
    stages_skipped: list[str]
    policy_id: str
    policy_version: int


class AccountOutcome(_Model):
    account_id: str
    state: AccountState
    balance_minor: int
    stages_done: list[str]


# --- activity inputs and results ---------------------------------------------------------


class SendSmsInput(_Model):
    idempotency_key: str
    account_id: str
    stage_id: str
    template_id: str
    templates: dict[str, str] = Field(description="locale -> text for this template")
    default_locale: str
    amount_minor: int
    currency: str
    due_date: date
    days_past_due: int


class SendSmsResult(_Model):
    idempotency_key: str
    status: str
    provider_id: str | None
    already_sent: bool = Field(description="True when a retry found the message already sent.")


class CreateCallTaskInput(_Model):
    idempotency_key: str
    account_id: str
    stage_id: str
    queue: CallQueue
    priority: int
    due_at: datetime


class CreateCallTaskResult(_Model):
    task_id: int
    created: bool


class NotifyInput(_Model):
    """A `notify` stage: an HMAC-signed webhook to the backend, which owns the channel."""

    idempotency_key: str
    account_id: str
    stage_id: str
    kind: NotifyKind
    template_id: str | None = None
    amount_minor: int
    currency: str
    days_past_due: int


class NotifyResult(_Model):
    idempotency_key: str
    status_code: int


class CancelCallTasksInput(_Model):
    account_id: str
    reason: str


class CancelCallTasksResult(_Model):
    cancelled: int
