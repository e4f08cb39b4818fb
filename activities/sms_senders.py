"""Pluggable SMS senders. The activity owns idempotency; a sender only delivers and looks up.

Senders take and answer the types of activities.sms_types, and report failures as its
exceptions, in three kinds that decide what the activity does next.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from activities.sms_routing import RESIDENT, RoutingSmsSender
from activities.sms_types import OutboundSms, SentSms, SmsSender
from overdue.settings import ConfigurationError, Settings
from overdue.settings_alibaba import DOMESTIC_CN_SENDERS, AlibabaConfigurationError

__all__ = ["RecordingSmsSender", "SmsSender", "build_sender"]

logger = logging.getLogger(__name__)


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
    """The configured sender, routed by jurisdiction when OVERDUE_SMS_ROUTES names routes;
    call inside the event loop that will use it.

    With routes, or a real provider's API, CN messages must take a domestic sender
    (ConfigurationError otherwise). Without routes, against fakes or the recorder, every message
    takes OVERDUE_SMS_SENDER and a foreign one is logged as a residency warning
    (docs/sms-providers.md)."""
    routes = settings.sms_route_map()
    if "twilio" in {settings.sms_sender, *routes.values()}:
        settings.twilio()  # a missing Twilio setting is named first: it is needed either way
    cn_sender = routes.get(RESIDENT, settings.sms_sender)
    if cn_sender not in DOMESTIC_CN_SENDERS:
        # Strict wherever real customers are reached; a warning on fakes and the recorder,
        # whose +86 test numbers reach no one.
        if routes or settings.sms_reaches_customers:
            raise ConfigurationError(
                f"CN messages would go through {cn_sender!r}, a provider outside the PRC: "
                f"add {RESIDENT}=alibaba to OVERDUE_SMS_ROUTES"
            )
        logger.warning(
            "no SMS routes: CN messages go through %s, outside the PRC; set "
            "OVERDUE_SMS_ROUTES=%s=alibaba to keep them in",
            cn_sender,
            RESIDENT,
        )
    built: dict[str, SmsSender] = {}
    default = _sender(settings, settings.sms_sender, built)
    if not routes:
        return default
    return RoutingSmsSender(
        default, {where: _sender(settings, name, built) for where, name in routes.items()}
    )


def _sender(settings: Settings, name: str, built: dict[str, SmsSender]) -> SmsSender:
    """One sender per name, shared by the routes that name it."""
    if name in built:
        return built[name]
    sender: SmsSender
    if name == "recording":
        sender = RecordingSmsSender()
    elif name == "twilio":
        from activities.twilio_sender import TwilioSmsSender

        sender = TwilioSmsSender(settings.twilio())
    elif name == "alibaba":
        from activities.alibaba_sender import AlibabaSmsSender

        try:
            sender = AlibabaSmsSender(settings.alibaba())
        except AlibabaConfigurationError as err:
            raise ConfigurationError(str(err)) from None
    else:
        raise ValueError(f"unknown SMS sender {name!r}")
    built[name] = sender
    return sender
