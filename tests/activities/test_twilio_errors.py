"""How Twilio answers map to what the SMS activity does next."""

from __future__ import annotations

import pytest

from activities.sms_types import Refusal, SmsNotSent, SmsOutcomeUnknown, SmsRefused
from activities.twilio_errors import classify


@pytest.mark.parametrize(
    ("status", "code", "kind", "refusal"),
    [
        (400, 21610, SmsRefused, Refusal.OPTED_OUT),
        (400, 21211, SmsRefused, Refusal.UNREACHABLE),
        (400, 21614, SmsRefused, Refusal.UNREACHABLE),
        (400, 21408, SmsRefused, Refusal.OTHER),
        (400, 21617, SmsRefused, Refusal.OTHER),
        (429, 20429, SmsNotSent, None),
        (429, None, SmsNotSent, None),
        (400, 21611, SmsNotSent, None),  # queue full: not processed
        (401, 20003, SmsNotSent, None),  # credentials: ops fixes them, messages wait
        (404, 20404, SmsNotSent, None),
        (500, 20500, SmsOutcomeUnknown, None),  # may have been created
        (503, None, SmsOutcomeUnknown, None),
        (302, None, SmsOutcomeUnknown, None),
    ],
)
def test_classification(
    status: int, code: int | None, kind: type[Exception], refusal: Refusal | None
) -> None:
    error = classify(status, code, "The 'To' number +8613900000000 is not valid")
    assert type(error) is kind
    if refusal is not None:
        assert isinstance(error, SmsRefused) and error.refusal is refusal
        assert error.provider_message is not None  # kept for the ledger ...
    assert "+86" not in str(error)  # ... never in the message that is logged and raised
