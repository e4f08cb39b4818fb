"""What an Alibaba Cloud SMS answer means for the next attempt.

SendSms answers HTTP 200 with `Code` "OK" and a `BizId`, or HTTP 200 with an `isv.*` / `isp.*`
business code (nothing was sent); gateway errors (signature, credentials, throttling) are
HTTP 4xx, the service's own failures 5xx. Messages are ours, never Alibaba's text.
"""

from __future__ import annotations

from activities.sms_types import Refusal, SmsNotSent, SmsOutcomeUnknown, SmsRefused, SmsSendError

MOBILE_NUMBER_ILLEGAL = "isv.MOBILE_NUMBER_ILLEGAL"
BUSINESS_LIMIT_CONTROL = "isv.BUSINESS_LIMIT_CONTROL"
SMS_TEMPLATE_ILLEGAL = "isv.SMS_TEMPLATE_ILLEGAL"
SYSTEM_ERROR = "isp.SYSTEM_ERROR"
# Ours: the policy maps no registered template for the text (never sent as free text).
TEMPLATE_NOT_REGISTERED = "template_not_registered"

_UNREACHABLE = frozenset({MOBILE_NUMBER_ILLEGAL, "isv.MOBILE_COUNT_OVER_LIMIT"})
# Fixed by time or by ops (balance, account, per-number frequency limits), not by giving up.
_NOT_SENT = frozenset(
    {
        BUSINESS_LIMIT_CONTROL,  # per-number limits: 1 a minute, 5 an hour, 10 a day
        "isv.DAY_LIMIT_CONTROL",
        "isv.AMOUNT_NOT_ENOUGH",
        "isv.OUT_OF_SERVICE",
        "isv.ACCOUNT_ABNORMAL",
        "isv.ACCOUNT_NOT_EXISTS",
        "isp.RAM_PERMISSION_DENY",
        "isv.PRODUCT_UN_SUBSCRIPT",
    }
)


# How a finished row's refusal is answered again on a retry (activities.sms `_finished`).
REFUSAL_BY_CODE = {code: Refusal.UNREACHABLE for code in _UNREACHABLE}


def classify_code(code: str, provider_message: str | None = None) -> SmsSendError:
    """The error for a SendSms answer (HTTP 200) whose Code is not OK."""
    if code in _UNREACHABLE:
        return SmsRefused(
            f"Alibaba refused the message: the number cannot receive it ({code})",
            refusal=Refusal.UNREACHABLE,
            code=code,
            provider_message=provider_message,
        )
    if code in _NOT_SENT:
        return SmsNotSent(f"Alibaba did not send the message now ({code})", code=code)
    if code == SYSTEM_ERROR:
        return SmsOutcomeUnknown(f"Alibaba answered a system error ({code})", code=code)
    # Template, signature, variables, content: the input carries them, a retry sends the same.
    return SmsRefused(
        f"Alibaba refused the message ({code})",
        refusal=Refusal.OTHER,
        code=code,
        provider_message=provider_message,
    )


def classify_http(http_status: int | None, code: str | None) -> SmsSendError:
    """The error for a gateway answer (HTTP 4xx / 5xx) to SendSms."""
    label = f"HTTP {http_status}, {code}"
    if http_status is not None and http_status >= 500:
        # A server error may come after the message was created: reconcile, never resend blindly.
        return SmsOutcomeUnknown(f"Alibaba answered {label}", code=f"http_{http_status}")
    # Signature, credentials, throttling: the request was refused before it was processed.
    return SmsNotSent(f"Alibaba did not accept the request ({label})", code=code or "http_error")
