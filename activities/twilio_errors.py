"""What a Twilio error answer means for the next attempt.

Messages are ours, never Twilio's text: Twilio's message can quote the phone number.
"""

from __future__ import annotations

from activities.sms_types import Refusal, SmsNotSent, SmsOutcomeUnknown, SmsRefused, SmsSendError

OPTED_OUT = 21610  # "Attempt to send to unsubscribed recipient"
INVALID_TO = 21211  # "Invalid 'To' Phone Number"
NOT_MOBILE = 21614  # "'To' number is not a valid mobile number"
QUEUE_FULL = 21611  # the sender's queue is full: not processed
TOO_MANY_REQUESTS = 20429

_REFUSALS = {
    OPTED_OUT: (Refusal.OPTED_OUT, "the recipient has unsubscribed (error 21610)"),
    INVALID_TO: (Refusal.UNREACHABLE, "the 'To' number is not a valid phone number (error 21211)"),
    NOT_MOBILE: (Refusal.UNREACHABLE, "the 'To' number is not a mobile number (error 21614)"),
}


def classify(
    http_status: int, code: int | None, provider_message: str | None = None
) -> SmsSendError:
    """The error for a Twilio answer with this HTTP status and Twilio error code."""
    code_text = None if code is None else str(code)
    if http_status == 429 or code == TOO_MANY_REQUESTS:
        return SmsNotSent(
            f"Twilio is rate limiting (HTTP {http_status}, error {code})", code=code_text or "429"
        )
    if code in _REFUSALS:
        refusal, reason = _REFUSALS[code]
        return SmsRefused(
            f"Twilio refused the message: {reason}",
            refusal=refusal,
            code=code_text,
            provider_message=provider_message,
        )
    if http_status >= 500:
        # A server error may come after the message was created: reconcile, never resend blindly.
        return SmsOutcomeUnknown(
            f"Twilio answered HTTP {http_status} (error {code})", code=f"http_{http_status}"
        )
    if http_status in (401, 403, 404) or code == QUEUE_FULL:
        # Credentials, account or a full queue: fixed by ops or time, not by giving up.
        return SmsNotSent(
            f"Twilio did not accept the request (HTTP {http_status}, error {code})",
            code=code_text or f"http_{http_status}",
        )
    if 400 <= http_status < 500:
        return SmsRefused(
            f"Twilio refused the message (HTTP {http_status}, error {code})",
            refusal=Refusal.OTHER,
            code=code_text or f"http_{http_status}",
            provider_message=provider_message,
        )
    return SmsOutcomeUnknown(
        f"unexpected answer from Twilio (HTTP {http_status})", code=f"http_{http_status}"
    )
