"""Residency: which sender each message goes through, and the configurations refused."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from activities.alibaba_sender import AlibabaSmsSender
from activities.sms_routing import RoutingSmsSender, provider_for
from activities.sms_senders import RecordingSmsSender, build_sender
from activities.sms_types import OutboundSms
from overdue.settings import ConfigurationError, Settings

ALIBABA = {
    "alibaba_access_key_id": "LTAI5tUnitTestKey",
    "alibaba_access_key_secret": "unit-test-secret",
}
TWILIO = {
    "twilio_account_sid": "AC" + "1" * 32,
    "twilio_auth_token": "token",
    "twilio_from": "+15005550006",
}


def router() -> tuple[RoutingSmsSender, RecordingSmsSender, RecordingSmsSender]:
    foreign, domestic = RecordingSmsSender(name="twilio"), RecordingSmsSender(name="alibaba")
    return RoutingSmsSender(foreign, {"cn": domestic}), foreign, domestic


@pytest.mark.parametrize(
    ("to", "jurisdiction", "expected"),
    [
        ("+8613900001111", "CN", "alibaba"),
        ("+8613900001111", None, "alibaba"),  # inputs from before facts: the number decides
        ("+8613900001111", "US", "alibaba"),  # a CN number never goes abroad
        ("+12025550143", "CN", "alibaba"),  # nor a CN account's SMS to a foreign number
        ("+12025550143", "US", "twilio"),
        ("+12025550143", None, "twilio"),
        ("+85291234567", "default", "twilio"),  # Hong Kong is not the CN route
    ],
)
def test_routes(to: str, jurisdiction: str | None, expected: str) -> None:
    sender, _, _ = router()
    assert provider_for(sender, to, jurisdiction) == expected


async def test_send_and_find_go_through_the_routed_sender() -> None:
    sender, foreign, domestic = router()
    message = OutboundSms("k", "1", "+8613900001111", "text", jurisdiction="CN")
    await sender.send(message)
    assert list(domestic.sent) == ["k"] and foreign.sent == {}
    assert len(await sender.find(message, since=datetime.now(UTC))) == 1


def test_a_cn_route_to_a_foreign_provider_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="outside the PRC"):
        build_sender(Settings(sms_sender="twilio", sms_routes="CN=twilio", **TWILIO))
    with pytest.raises(ConfigurationError, match="CN=alibaba"):
        build_sender(Settings(sms_sender="twilio", sms_routes="US=twilio", **TWILIO))


async def test_without_routes_real_twilio_is_refused_and_a_fake_only_warned(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Production (Twilio's real API): no CN route is a refusal, not a warning.
    with pytest.raises(ConfigurationError, match="CN=alibaba"):
        build_sender(Settings(sms_sender="twilio", **TWILIO))
    # The fake Twilio reaches no one: the sender is built and the gap is logged.
    fake = {**TWILIO, "twilio_api_base": "http://127.0.0.1:9"}
    with caplog.at_level("WARNING"):
        sender = build_sender(Settings(sms_sender="twilio", **fake))
    assert sender.name == "twilio"
    assert "OVERDUE_SMS_ROUTES=CN=alibaba" in caplog.text
    await sender.close()


def test_an_alibaba_route_needs_its_access_key() -> None:
    with pytest.raises(ConfigurationError, match="OVERDUE_ALIBABA_ACCESS_KEY_ID"):
        build_sender(Settings(sms_routes="CN=alibaba"))


async def test_the_configured_router_sends_cn_to_alibaba() -> None:
    settings = Settings(sms_sender="twilio", sms_routes="CN=alibaba", **TWILIO, **ALIBABA)
    sender = build_sender(settings)
    assert isinstance(sender, RoutingSmsSender)
    assert isinstance(sender.route("+8613900001111", None), AlibabaSmsSender)
    assert sender.route("+12025550143", "US").name == "twilio"
    await sender.close()


@pytest.mark.parametrize("routes", ["CN", "cn=alibaba", "CN=pigeon", "CN=alibaba;US=twilio"])
def test_malformed_routes_are_refused(routes: str) -> None:
    with pytest.raises(ValueError, match="sms_routes"):
        Settings(sms_routes=routes)
