"""Twilio and notify settings: checked as groups, with messages that name the variables."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from overdue.settings import ConfigurationError, Settings

SID = "AC" + "ab" * 16


def test_twilio_group_names_what_is_missing() -> None:
    with pytest.raises(ConfigurationError, match="OVERDUE_TWILIO_AUTH_TOKEN"):
        Settings(twilio_account_sid=SID).twilio()
    with pytest.raises(ConfigurationError, match="exactly one sender"):
        Settings(twilio_account_sid=SID, twilio_auth_token="t").twilio()
    with pytest.raises(ConfigurationError, match="exactly one sender"):
        Settings(
            twilio_account_sid=SID,
            twilio_auth_token="t",
            twilio_from="+15005550006",
            twilio_messaging_service_sid="MG" + "0" * 32,
        ).twilio()


def test_twilio_config_uses_the_public_url_for_callbacks() -> None:
    settings = Settings(
        twilio_account_sid=SID,
        twilio_auth_token="secret-token",
        twilio_from="+15005550006",
        twilio_api_base="http://127.0.0.1:8011/",
        public_base_url="https://overdue.example.com/",
    )
    config = settings.twilio()
    assert config.api_base == "http://127.0.0.1:8011"
    assert config.status_callback_url == "https://overdue.example.com/webhooks/twilio/status"
    assert "secret-token" not in repr(config) and "secret-token" not in repr(settings)
    unset = Settings(api_port=9000)
    assert unset.public_url == "http://127.0.0.1:9000"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("twilio_account_sid", "AC123", "twilio_account_sid"),
        ("twilio_messaging_service_sid", "MGxyz", "twilio_messaging_service_sid"),
        ("twilio_from", "not a number!", "twilio_from"),
        ("twilio_api_base", "ftp://x", "http:// or https://"),
        ("twilio_api_base", "https://api.twilio.com/2010-04-01", "without a path"),
        ("public_base_url", "https://x.example?debug=1", "query"),
        ("twilio_validity_period_seconds", 36_001, "twilio_validity_period_seconds"),
        ("sms_rate_per_second", 0, "sms_rate_per_second"),
        ("sms_sender", "pigeon", "recording, twilio"),
    ],
)
def test_bad_values_name_the_setting(field: str, value: object, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Settings(**{field: value})  # type: ignore[arg-type]


def test_notify_needs_a_long_enough_secret() -> None:
    assert Settings().notify() is None
    with pytest.raises(ConfigurationError, match="OVERDUE_NOTIFY_SECRET"):
        Settings(notify_url="https://backend.example/notices").notify()
    with pytest.raises(ConfigurationError, match="16 characters"):
        Settings(notify_url="https://backend.example/notices", notify_secret="short").notify()
    config = Settings(notify_url="https://backend.example/notices", notify_secret="s" * 16).notify()
    assert config is not None and config.url == "https://backend.example/notices"
    assert "s" * 16 not in repr(config)


def test_the_twilio_sender_needs_its_settings_at_start() -> None:
    from activities.sms_senders import build_sender

    with pytest.raises(ConfigurationError, match="OVERDUE_TWILIO_ACCOUNT_SID"):
        build_sender(Settings(sms_sender="twilio"))
