"""Pluggable SMS senders. The activity owns idempotency; a sender only delivers and looks up.

Senders take and answer the types of activities.sms_types, and report failures as its
exceptions, in three kinds that decide what the activity does next.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from activities.sms_types import OutboundSms, SentSms
from overdue.settings import Settings

logger = logging.getLogger(__name__)


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


@dataclass
class RecordingSmsSender:
    """Keeps messages in memory instead of sending them: the dev stack's and tests' sender."""

    name: str = "recording"
    reconcile_after: timedelta = timedelta(0)
    sent: dict[str, tuple[OutboundSms, SentSms]] = field(default_factory=dict)

    async def send(self, message: OutboundSms) -> SentSms:
        result = SentSms(provider=self.name, provider_id=f"REC{uuid.uuid4().hex}", status="sent")
        self.sent[message.idempotency_key] = (message, result)
        logger.info("sms recorded", extra={"idempotency_key": message.idempotency_key})
        return result

    async def find(self, message: OutboundSms, since: datetime) -> list[SentSms]:
        return [
            sent
            for outbound, sent in reversed(self.sent.values())
            if (outbound.to, outbound.body) == (message.to, message.body)
        ]

    async def close(self) -> None:
        pass


def build_sender(settings: Settings) -> SmsSender:
    """The configured sender; call inside the event loop that will use it."""
    if settings.sms_sender == "recording":
        return RecordingSmsSender()
    if settings.sms_sender == "twilio":
        from activities.twilio_sender import TwilioSmsSender

        return TwilioSmsSender(settings.twilio())
    raise ValueError(f"unknown SMS sender {settings.sms_sender!r}")
