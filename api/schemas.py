"""Request and response bodies of the backend API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import phonenumbers
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from api.consent_schemas import StartConsents
from overdue.inputs import AmountMinor, RecentDate, RecentInstant, Text, TimeZoneName
from workflows.currencies import CURRENCIES
from workflows.forbearance_types import Itemization, itemization_problem
from workflows.types import AccountStatus, NextAction

_LOCALE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"
_ID = r"^[A-Za-z0-9_.:-]+$"

# Ids and currency codes are patterns or codes, which hold no control character; every other
# string a caller sends is `Text` (overdue/inputs.py), which refuses them.
EventId = Annotated[str, Field(min_length=1, max_length=128, pattern=_ID)]
Reason = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=500,
        description="Short free text. Kept in Postgres only; the process gets a reference to it.",
    ),
]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. CNY, USD)")
    return value


Currency = Annotated[str, AfterValidator(_currency), Field(examples=["CNY"])]


class CustomerContact(_Body):
    name: Text = Field(min_length=1, max_length=200)
    phone: Text = Field(description="E.164, e.g. +8613800138000", examples=["+8613800138000"])
    time_zone: TimeZoneName = Field(
        description="Canonical IANA time zone name, e.g. Asia/Shanghai (not localtime, "
        "Factory, posix/... or right/...)"
    )
    locale: Text = Field(default="zh-CN", pattern=_LOCALE, examples=["zh-CN", "en"])
    postal_address: list[Annotated[Text, Field(min_length=1, max_length=100)]] | None = Field(
        default=None,
        min_length=1,
        max_length=6,
        description="Where letters go, one line each (1-6 lines). Kept sealed in Postgres "
        "only; a report without it keeps the address known before.",
        examples=[["上海市浦东新区世纪大道100号", "200120"]],
    )
    id_last4: str | None = Field(
        default=None,
        pattern=r"^[0-9]{3}[0-9Xx]$",
        description="Last 4 characters of the customer's ID number: the self-service page's "
        "identity check (docs/self-service.md). Personal data: kept sealed, never in Temporal.",
    )

    @field_validator("phone")
    @classmethod
    def _e164(cls, value: str) -> str:
        if not value.startswith("+"):
            raise ValueError("must be in E.164 form, starting with + and the country code")
        try:
            number = phonenumbers.parse(value, None)
        except phonenumbers.NumberParseException as err:
            raise ValueError(f"not a phone number: {err}") from None
        if not phonenumbers.is_valid_number(number):
            raise ValueError("not a valid phone number for its country code")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Money(_Body):
    amount_minor: AmountMinor
    currency: Currency


class OverdueReport(_Body):
    """An account's bill has gone unpaid: start its overdue process, or add the bill to it."""

    customer: CustomerContact
    product: Text = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    amount_due: Money
    due_date: RecentDate = Field(description="From 10 years back to 1 year ahead of today.")
    bill_id: EventId | None = Field(
        default=None,
        description="The bill's id. Default: `{due_date}:{amount_minor}:{currency}`. A bill "
        "already reported is recognised and adds nothing.",
    )
    vulnerable: bool = Field(default=False, description="Route calls to specialist agents.")
    risk_segment: Text | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,32}$")
    consents: StartConsents = Field(
        default_factory=list,
        description="Consents recorded for the customer (channel, source, given_at), each "
        "channel at most once. Kept in the consent history; the process starts with them.",
    )
    itemization: Itemization | None = Field(
        default=None,
        description="What makes up amount_due (minor units): principal + interest + fees by "
        "kind - payments so far must equal it. Shown in the status; no personal data.",
    )

    @model_validator(mode="after")
    def _itemization_adds_up(self) -> OverdueReport:
        problem = itemization_problem(self.itemization, self.amount_due.amount_minor)
        if problem:
            raise ValueError(problem)
        return self

    def effective_bill_id(self) -> str:
        return self.bill_id or (
            f"{self.due_date.isoformat()}:{self.amount_due.amount_minor}:{self.amount_due.currency}"
        )


class OverdueStarted(BaseModel):
    account_id: str
    workflow_id: str
    run_id: str | None
    created: bool = Field(description="True when this request started the process.")
    bill_id: str
    bill_added: bool = Field(
        description="True when this bill was new to a process already running (200)."
    )
    status_url: str


class PaymentReport(_Body):
    payment_id: EventId
    amount_minor: AmountMinor
    currency: Currency
    paid_at: RecentInstant = Field(description="From 10 years back to 1 year ahead of today.")


class ContactAttempt(BaseModel):
    """One row of the contact ledger: a message sent or a call task created."""

    idempotency_key: str
    channel: str
    stage_id: str
    status: str
    template_id: str | None
    body: str | None
    provider: str | None
    provider_id: str | None
    error_code: str | None
    created_at: AwareDatetime
    updated_at: AwareDatetime


class ContactLedger(BaseModel):
    account_id: str
    contacts: list[ContactAttempt] = Field(description="Newest first.")


class PaymentAccepted(BaseModel):
    account_id: str
    payment_id: str
    status: str = "accepted"


class HardshipReport(_Body):
    report_id: EventId
    reason: Reason
    reported_at: RecentInstant | None = Field(default=None, description="Default: now.")


class DisputeReport(_Body):
    dispute_id: EventId
    reason: Reason


class DisputeClosing(_Body):
    resolution: Reason


class CeaseContactReport(_Body):
    request_id: EventId
    reason: Reason


class EventAccepted(BaseModel):
    """The event was handed to the account's process (signals are durable and deduplicated)."""

    account_id: str
    event: str
    event_id: str
    status: Literal["accepted"] = "accepted"


class TimelineEntry(BaseModel):
    at: AwareDatetime
    source: Literal["audit", "contact"] = Field(
        description="audit: an event in the collection record; contact: a contact attempt."
    )
    id: int
    kind: str = Field(description="The event kind, or contact.<channel>.")
    actor: str
    details: dict[str, Any]


class TimelinePage(BaseModel):
    account_id: str
    entries: list[TimelineEntry] = Field(description="Newest first.")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next, older page.")


class AccountSummary(BaseModel):
    """One account's process as Temporal's visibility store sees it (updated on transitions)."""

    account_id: str
    workflow_id: str
    run_id: str
    execution_status: str = Field(description="running, completed, terminated, ...")
    state: str | None
    stage: str | None
    days_past_due: int | None = Field(description="As of the process's last transition.")
    amount_due_minor: int | None
    product: str | None
    next_action_at: datetime | None
    started_at: datetime
    closed_at: datetime | None


class AccountPage(BaseModel):
    accounts: list[AccountSummary]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page.")


__all__ = [
    "AccountPage",
    "AccountStatus",
    "AccountSummary",
    "CeaseContactReport",
    "ContactAttempt",
    "ContactLedger",
    "CustomerContact",
    "DisputeClosing",
    "DisputeReport",
    "EventAccepted",
    "HardshipReport",
    "Money",
    "NextAction",
    "OverdueReport",
    "OverdueStarted",
    "PaymentAccepted",
    "PaymentReport",
    "TimelineEntry",
    "TimelinePage",
]
