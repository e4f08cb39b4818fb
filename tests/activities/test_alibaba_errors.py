"""What each Alibaba answer means for the next attempt."""

from __future__ import annotations

import pytest

from activities import alibaba_errors
from activities.sms_types import Refusal, SmsNotSent, SmsOutcomeUnknown, SmsRefused


@pytest.mark.parametrize(
    ("code", "kind", "refusal"),
    [
        ("isv.MOBILE_NUMBER_ILLEGAL", SmsRefused, Refusal.UNREACHABLE),
        ("isv.MOBILE_COUNT_OVER_LIMIT", SmsRefused, Refusal.UNREACHABLE),
        ("isv.SMS_TEMPLATE_ILLEGAL", SmsRefused, Refusal.OTHER),
        ("isv.SMS_SIGNATURE_ILLEGAL", SmsRefused, Refusal.OTHER),
        ("isv.TEMPLATE_MISSING_PARAMETERS", SmsRefused, Refusal.OTHER),
        ("isv.BUSINESS_LIMIT_CONTROL", SmsNotSent, None),
        ("isv.DAY_LIMIT_CONTROL", SmsNotSent, None),
        ("isv.AMOUNT_NOT_ENOUGH", SmsNotSent, None),
        ("isp.RAM_PERMISSION_DENY", SmsNotSent, None),
        ("isp.SYSTEM_ERROR", SmsOutcomeUnknown, None),
    ],
)
def test_business_codes(code: str, kind: type[Exception], refusal: Refusal | None) -> None:
    error = alibaba_errors.classify_code(code, "provider text with 13900001111")
    assert type(error) is kind
    assert error.code == code
    assert "13900001111" not in str(error)  # Alibaba's text stays out of logs and histories
    if isinstance(error, SmsRefused):
        assert error.refusal is refusal
        assert error.provider_message == "provider text with 13900001111"


@pytest.mark.parametrize(
    ("status", "code", "kind"),
    [
        (400, "SignatureDoesNotMatch", SmsNotSent),
        (404, "InvalidAccessKeyId.NotFound", SmsNotSent),
        (400, "Throttling.User", SmsNotSent),
        (500, "InternalError", SmsOutcomeUnknown),
        (503, "ServiceUnavailable", SmsOutcomeUnknown),
    ],
)
def test_gateway_answers(status: int, code: str, kind: type[Exception]) -> None:
    error = alibaba_errors.classify_http(status, code)
    assert type(error) is kind
    if kind is SmsOutcomeUnknown:
        assert error.code == f"http_{status}"
    else:
        assert error.code == code
