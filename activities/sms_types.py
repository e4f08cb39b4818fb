"""What an SMS sender takes and answers: the message, the provider's receipt, and its failures.

Failures come in three kinds that decide what the activity does next. Their messages never
carry personal data; a provider's own error text (which can quote the phone number) travels
separately, for the ledger only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Protocol


@dataclass(frozen=True)
class TemplateMessage:
    """The message as a provider that sends no free text takes it: a registered signature and
    template code, and the values of the template's variables (activities.template_params)."""

    sign_name: str
    template_code: str
    params: dict[str, str] = field(repr=False)  # personal data (the name); never logged


@dataclass(frozen=True)
class OutboundSms:
    idempotency_key: str
    reference: str  # our ledger row id: lets a status callback find the row before its sid
    to: str  # E.164; never logged
    body: str  # personal data (the name); never logged
    jurisdiction: str | None = None  # the account's (ISO code), when the workflow said
    # provider -> the message as that provider's registered template, where one is mapped
    templates: dict[str, TemplateMessage] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class SentSms:
    provider: str
    provider_id: str
    status: str


class Refusal(StrEnum):
    OPTED_OUT = "opted_out"
    UNREACHABLE = "unreachable"
    OTHER = "other"


class SmsSendError(Exception):
    """A send or lookup that failed; `str()` is safe to log and to put in workflow history."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.code = code


class SmsRefused(SmsSendError):
    """The provider refused this message for good; sending it again cannot help."""

    def __init__(
        self, message: str, *, refusal: Refusal, code: str | None, provider_message: str | None
    ) -> None:
        super().__init__(message, code=code)
        self.refusal = refusal
        self.provider_message = provider_message  # may quote the number: ledger only


class SmsNotSent(SmsSendError):
    """Certainly not sent (rate limited, not reachable, misconfigured): retry later."""


class SmsOutcomeUnknown(SmsSendError):
    """The request may have created the message (timeout, dropped answer, 5xx): reconcile."""


class SmsSender(Protocol):
    name: str
    # After an attempt whose outcome is unknown, how long until `find` can be trusted: the
    # request may still be in flight until its timeout, and a provider's list can lag.
    reconcile_after: timedelta

    async def send(self, message: OutboundSms) -> SentSms:
        """Hand the message to the provider; raise an SmsSendError on failure."""
        ...

    async def find(self, message: OutboundSms, since: datetime) -> list[SentSms]:
        """Messages created since `since` to the same number with the same body, newest first.

        Raises SmsNotSent when the provider cannot be asked right now.
        """
        ...

    async def close(self) -> None: ...
