"""Request and response bodies of the backend API."""

from __future__ import annotations

from datetime import date
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import phonenumbers
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from workflows.currencies import CURRENCIES
from workflows.types import AccountStatus, NextAction

_LOCALE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


def _currency(value: str) -> str:
    if value not in CURRENCIES:
        raise ValueError(f"{value!r} is not an ISO 4217 currency code (e.g. CNY, USD)")
    return value


Currency = Annotated[str, AfterValidator(_currency), Field(examples=["CNY"])]


class CustomerContact(_Body):
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(description="E.164, e.g. +8613800138000", examples=["+8613800138000"])
    time_zone: str = Field(description="IANA time zone, e.g. Asia/Shanghai")
    locale: str = Field(default="zh-CN", pattern=_LOCALE, examples=["zh-CN", "en"])

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

    @field_validator("time_zone")
    @classmethod
    def _iana(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)") from None
        return value


class Money(_Body):
    amount_minor: int = Field(gt=0, description="Integer minor units, e.g. fen or cents.")
    currency: Currency


class OverdueReport(_Body):
    """An account's bill has gone unpaid: start its overdue process."""

    customer: CustomerContact
    product: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    amount_due: Money
    due_date: date


class OverdueStarted(BaseModel):
    account_id: str
    workflow_id: str
    run_id: str | None
    created: bool
    status_url: str


class PaymentReport(_Body):
    payment_id: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")
    amount_minor: int = Field(gt=0)
    currency: Currency
    paid_at: AwareDatetime


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


__all__ = [
    "AccountStatus",
    "ContactAttempt",
    "ContactLedger",
    "CustomerContact",
    "Money",
    "NextAction",
    "OverdueReport",
    "OverdueStarted",
    "PaymentAccepted",
    "PaymentReport",
]
