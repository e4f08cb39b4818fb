"""The one-time code's SMS (docs/self-service.md "The one-time code"): the stage SMS's activity
with its own body.

`SelfServiceCodeActivities.send_selfservice_code` is `SmsActivities.send_sms` (one ledger row
per idempotency key, claims, reconciliation, the pre-send check, the opt-out and revocation
checks, the compliance receipt) with two differences:

- the ledger row's body is the text with the code masked (`******`): the ledger, the console
  and the compliance audit never see the code;
- the message handed to the provider carries the code, opened from the request's row, where it
  is kept sealed with the account's data key until the provider accepted it (so that a retry
  sends the same code, and reconciliation can find the message by its text), then cleared.

The code is made here (`secrets`, 6 digits) and stored as a hash bound to the link
(`overdue.store.selfservice_codes`): it never reaches Temporal (the activity's input carries
the form's key, its result the ledger row's status) nor a log line.
"""

from __future__ import annotations

import dataclasses
import secrets
from datetime import UTC, datetime, timedelta

from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.sms import MISSING_CONTACT, SMS_REFUSED, SmsActivities
from activities.sms_types import OutboundSms, Refusal, SentSms
from activities.templates import pick_locale
from overdue.store import accounts, selfservice_codes
from overdue.store.contact_ledger import LedgerRow, NewContact
from overdue.store.sealed_texts import open_text, seal_text
from workflows.contact_types import SendSmsInput, SendSmsResult

MASK = "******"  # what the ledger keeps in place of the code
CODE_DIGITS = 6
CODE_REQUEST_UNKNOWN = "CodeRequestUnknown"  # non-retryable: no such request for the account
CODE_NOT_KEPT = "CodeNotKept"  # retryable: the request's code could not be read back
CODE_EXPIRED = "code_expired"  # the ledger's error code: the code went stale before it went
# The texts, in the languages of the borrower's pages; `{code}` and `{minutes}`.
TEXTS = {
    "en": "Your one-time code is {code}. It works for {minutes} minutes. Never share it: we "
    "never ask for it.",
    "zh-CN": "您的验证码为{code}，{minutes}分钟内有效。请勿告诉他人，我们不会向您索要。",  # noqa: RUF001
}


def now() -> datetime:
    return datetime.now(UTC)


def new_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def request_key_of(input: SendSmsInput) -> str:
    """The form's key: the last segment of the ledger key (workflows.selfservice_code)."""
    return input.idempotency_key.rsplit("/", 1)[-1]


def code_text(locale: str, code: str, lifetime: timedelta) -> str:
    return TEXTS[locale].format(code=code, minutes=int(lifetime.total_seconds() // 60))


class SelfServiceCodeActivities(SmsActivities):
    @activity.defn(name="send_selfservice_code")
    async def send_selfservice_code(self, input: SendSmsInput) -> SendSmsResult:
        """Send the request's code once; a retry or a duplicate never sends a second SMS."""
        return await self.send_sms(input)

    async def _new_row(self, input: SendSmsInput) -> NewContact:
        """The row of the request's SMS, its code made and kept (hashed, and sealed until
        sent) before the row exists: every attempt after this one sends that code."""
        request = await selfservice_codes.code_request(self._pool, request_key_of(input))
        if request is None or request.account_id != input.account_id:
            raise ApplicationError(
                "no code request for this key and account",
                type=CODE_REQUEST_UNKNOWN,
                non_retryable=True,
            )
        contact = await accounts.contact_details(self._pool, input.account_id)
        if contact is None:
            raise ApplicationError(
                f"no contact details stored for account {input.account_id!r}",
                type=MISSING_CONTACT,
                non_retryable=True,
            )
        code = new_code()
        kept = await selfservice_codes.keep_code(
            self._pool,
            request.request_key,
            selfservice_codes.code_hash(request.token_hash, code),
            await seal_text(self._pool, input.account_id, code),
        )
        if kept is None:
            raise ApplicationError("the request's code is not kept; retrying", type=CODE_NOT_KEPT)
        locale = pick_locale(TEXTS, contact.locale, input.default_locale)
        locale = locale if locale in TEXTS else "en"
        masked, sent = (code_text(locale, c, request.lifetime) for c in (MASK, code))
        return self._row(input, contact.phone_e164, masked, sent)

    async def _outbound(self, row: LedgerRow, input: SendSmsInput) -> OutboundSms:
        """The row's message with the code in place of the mask. A code that can no longer
        open anything (expired while the provider was down, used, the account erased) is not
        sent: the row is refused (`code_expired`) and the borrower asks again."""
        message = await super()._outbound(row, input)
        request = await selfservice_codes.code_request(self._pool, request_key_of(input))
        made = request.code_at if request is not None else None
        if request is not None and made is not None and made + request.lifetime > now():
            code = await open_text(self._pool, request.code_sealed, erased=None)
            if code is not None:
                return dataclasses.replace(message, body=message.body.replace(MASK, code, 1))
        await self._refuse(row, CODE_EXPIRED, None, refusal=Refusal.OTHER)
        raise ApplicationError(
            "the code expired or is gone before it could be sent; not sent",
            {"error_code": CODE_EXPIRED},
            type=SMS_REFUSED,
            non_retryable=True,
        )

    # Once the provider has the message (sent now, or found after an unknown outcome), only
    # the hash stays.
    async def _record_sent(self, input: SendSmsInput, row: LedgerRow, sent: SentSms) -> LedgerRow:
        recorded = await super()._record_sent(input, row, sent)
        await selfservice_codes.forget_sealed_code(self._pool, request_key_of(input))
        return recorded

    async def _reconcile(
        self, input: SendSmsInput, row: LedgerRow, message: OutboundSms
    ) -> LedgerRow | None:
        adopted = await super()._reconcile(input, row, message)
        if adopted is not None:
            await selfservice_codes.forget_sealed_code(self._pool, request_key_of(input))
        return adopted
