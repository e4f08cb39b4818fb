"""Pluggable SMS senders. The activity owns idempotency; a sender only delivers."""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class OutboundSms:
    idempotency_key: str
    to: str  # E.164; never logged
    body: str


@dataclass(frozen=True)
class SentSms:
    provider: str
    provider_id: str
    status: str


class SmsSender(Protocol):
    name: str

    async def send(self, message: OutboundSms) -> SentSms:
        """Hand the message to the provider; raise on failure."""

    async def find(self, idempotency_key: str) -> SentSms | None:
        """Reconcile an attempt whose outcome is unknown: was this key already accepted?"""


@dataclass
class RecordingSmsSender:
    """Keeps messages in memory instead of sending them: the dev stack's and tests' sender."""

    name: str = "recording"
    sent: dict[str, tuple[OutboundSms, SentSms]] = field(default_factory=dict)

    async def send(self, message: OutboundSms) -> SentSms:
        result = SentSms(provider=self.name, provider_id=f"REC{uuid.uuid4().hex}", status="sent")
        self.sent[message.idempotency_key] = (message, result)
        logger.info("sms recorded", extra={"idempotency_key": message.idempotency_key})
        return result

    async def find(self, idempotency_key: str) -> SentSms | None:
        entry = self.sent.get(idempotency_key)
        return entry[1] if entry else None


def build_sender(name: str) -> SmsSender:
    if name == "recording":
        return RecordingSmsSender()
    raise ValueError(f"unknown SMS sender {name!r}")
