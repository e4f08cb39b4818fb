"""Data the workflow exchanges with its callers and activities.

Single-argument Pydantic models so fields can be added compatibly. No personal data: the
workflow carries the account id and money; activities read contacts from Postgres.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from workflows.policy import CallQueue, Policy

ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class AccountState(StrEnum):
    ACTIVE = "active"
    RESOLVED = "resolved"


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


class CancelCallTasksInput(_Model):
    account_id: str
    reason: str


class CancelCallTasksResult(_Model):
    cancelled: int
