"""The SMS activity: exactly one message per idempotency key.

1. The ledger row (UNIQUE key) is written before the provider is called, with the body
   rendered once in the customer's locale, the recipient and the segment count.
2. Each attempt claims the row (`attempted_at`). A row another attempt claimed less than the
   sender's `reconcile_after` ago may still be in flight: this attempt retries later.
3. A row an earlier attempt claimed has an unknown outcome: the provider is asked first
   (`SmsSender.find`) and a message found there is adopted instead of sending again.
4. Just before the provider is called, a payment, a cease-contact request or an open dispute
   the workflow had not seen when it decided withholds the message
   (`contact_gate.clear_to_send`, the check every contact makes under the account's lock, in
   its own short transaction): the row becomes `withheld`, nothing is sent. The provider is
   called after that transaction, holding no lock.
5. Refusals are recorded and raised non-retryable (`SmsFailure`), other failures are recorded
   in `contact_events` and raised retryable, for Temporal's backoff.

Nothing personal reaches logs, exceptions or the workflow's history: keys, stage ids and
error codes only. All SQL is in `overdue.store` (`contact_ledger`, `sms_ledger`, `accounts`).
"""

from __future__ import annotations

import logging
from typing import Literal

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities import alibaba_errors
from activities.selfservice_link import mint_link, wants_link
from activities.sms_routing import jurisdiction, outbound_message, provider_for
from activities.sms_senders import SmsSender
from activities.sms_types import (
    OutboundSms,
    Refusal,
    SentSms,
    SmsNotSent,
    SmsOutcomeUnknown,
    SmsRefused,
)
from activities.templates import render_sms, with_policy_texts
from overdue.sms_segments import count_segments
from overdue.store import (
    accounts,
    contact_gate,
    contact_ledger,
    receipts,
    revocation_requests,
    sms_ledger,
)
from overdue.store.contact_ledger import FailureKind, LedgerRow, NewContact, Source
from workflows.contact_types import SendSmsInput, SendSmsResult, SmsFailure

logger = logging.getLogger(__name__)

# ApplicationError types besides workflows.types.SmsFailure (all non-retryable).
SMS_REFUSED = "SmsRefused"  # the provider refused the message for another permanent reason
MISSING_CONTACT = "MissingContact"
KEY_CONFLICT = "IdempotencyKeyConflict"
LEDGER_ROW_INCOMPLETE = "LedgerRowIncomplete"
# Retryable ApplicationError types.
SMS_NOT_SENT = "SmsNotSent"
SMS_OUTCOME_UNKNOWN = "SmsOutcomeUnknown"
SMS_ATTEMPT_IN_FLIGHT = "SmsAttemptInFlight"

BLOCKED_OPTED_OUT = "opted_out"  # our code for a send we blocked: opted out in our records
# A free-text request to stop SMS awaits an agent (overdue/store/revocation_requests.py).
BLOCKED_REVOCATION = "revocation_pending"
_REFUSAL_BY_CODE = {
    BLOCKED_OPTED_OUT: Refusal.OPTED_OUT,
    "21610": Refusal.OPTED_OUT,
    "21211": Refusal.UNREACHABLE,
    "21614": Refusal.UNREACHABLE,
    **alibaba_errors.REFUSAL_BY_CODE,
}


class SmsActivities:
    def __init__(self, pool: asyncpg.Pool, sender: SmsSender) -> None:
        self._pool = pool
        self._sender = sender

    @activity.defn
    async def send_sms(self, input: SendSmsInput) -> SendSmsResult:
        """Send the stage's SMS once; a retry or a duplicate never sends a second message."""
        input = with_policy_texts(input)  # templates by the policy version it names, if any
        row, claimed = await self._open_row(input)
        if row.status != "pending":
            return self._finished(input, row)
        reconcile = False
        if not claimed:
            row, reconcile = await self._claim(row)
            if row.status != "pending":
                return self._finished(input, row)
        message = await self._outbound(row, input)
        if reconcile:
            adopted = await self._reconcile(input, row, message)
            if adopted is not None:
                return self._finished(input, adopted)
        row = await contact_gate.clear_to_send(self._pool, row, input.basis)
        if row.status != "pending":
            return self._finished(input, row)
        fences = await revocation_requests.sms_fences(self._pool, message.to)
        if fences.opted_out:
            await self._refuse(
                row, BLOCKED_OPTED_OUT, None, refusal=Refusal.OPTED_OUT, status="blocked"
            )
            raise _refusal_error(Refusal.OPTED_OUT, "the number opted out of SMS", "opted_out")
        if fences.revocation_pending:
            await self._refuse(
                row, BLOCKED_REVOCATION, None, refusal=Refusal.OTHER, status="blocked"
            )
            raise _refusal_error(Refusal.OTHER, "a request to stop SMS awaits", BLOCKED_REVOCATION)
        try:
            sent = await self._sender.send(message)
        except SmsRefused as err:
            await self._refuse(row, err.code, err.provider_message, refusal=err.refusal)
            raise _refusal_error(err.refusal, str(err), err.code) from None
        except SmsNotSent as err:
            # Certainly not created: the next attempt may send at once, no reconciliation.
            await self._failed(row, "provider_error", err, release_claim=True)
            raise ApplicationError(str(err), {"error_code": err.code}, type=SMS_NOT_SENT) from None
        except SmsOutcomeUnknown as err:
            await self._failed(row, "outcome_unknown", err, release_claim=False)
            raise ApplicationError(
                f"{err}; the next attempt reconciles before any resend",
                {"error_code": err.code},
                type=SMS_OUTCOME_UNKNOWN,
                next_retry_delay=self._sender.reconcile_after,
            ) from None
        recorded = await self._record_sent(input, row, sent)
        logger.info("sms accepted by %s", sent.provider, extra=_ids(input))
        return self._result(input, recorded, already_sent=False)

    # --- the ledger row ----------------------------------------------------------------

    async def _open_row(self, input: SendSmsInput) -> tuple[LedgerRow, bool]:
        """The key's row, and whether this attempt claimed it: a new row is written claimed,
        with the body rendered once and its segments (an existing one is claimed apart)."""
        try:
            row, claimed = await self._existing(input), False
            if row is None:
                new = await self._new_row(input)
                row = await contact_ledger.create(self._pool, new, _receipt(input), claim=True)
                claimed = row is not None
                # None: a concurrent attempt wrote it first, and it is claimed apart.
                row = row or await self._existing(input)
            assert row is not None  # rows are never deleted
        except contact_ledger.KeyTaken as err:
            raise ApplicationError(str(err), type=KEY_CONFLICT, non_retryable=True) from None
        if row.recipient is None or row.body is None:
            # Only rows written before recipients were recorded can lack them.
            raise ApplicationError(
                f"ledger row for {input.idempotency_key!r} has no recipient or body to send; "
                "resolve it by hand",
                type=LEDGER_ROW_INCOMPLETE,
                non_retryable=True,
            )
        return row, claimed

    async def _existing(self, input: SendSmsInput) -> LedgerRow | None:
        return await contact_ledger.find(
            self._pool, input.idempotency_key, channel="sms", account_id=input.account_id
        )

    async def _new_row(self, input: SendSmsInput) -> NewContact:
        contact = await accounts.contact_details(self._pool, input.account_id)
        if contact is None:
            raise ApplicationError(
                f"no contact details stored for account {input.account_id!r}",
                type=MISSING_CONTACT,
                non_retryable=True,
            )
        body = render_sms(input, contact.full_name, contact.locale, await self._link(input))
        return self._row(input, contact.phone_e164, body, body)

    def _row(self, input: SendSmsInput, phone: str, body: str, sent_as: str) -> NewContact:
        """This attempt's ledger row: `body` kept, billed as `sent_as` (a masked code's)."""
        segments = count_segments(sent_as)
        return NewContact(
            idempotency_key=input.idempotency_key,
            account_id=input.account_id,
            channel="sms",
            stage_id=input.stage_id,
            workflow_run_id=activity.info().workflow_run_id,
            template_id=input.template_id,
            body=body,
            recipient=phone,
            segments=segments.segments,
            encoding=segments.encoding,
            provider=provider_for(self._sender, phone, jurisdiction(input)),
        )

    async def _outbound(self, row: LedgerRow, input: SendSmsInput) -> OutboundSms:
        return outbound_message(row, input)  # a subclass's body may differ from the row's

    async def _link(self, input: SendSmsInput) -> str:
        """A self-service link when a text of the template asks for one (`{link}`)."""
        wanted = any(wants_link(text) for text in input.templates.values())
        return await mint_link(self._pool, input) if wanted else ""

    async def _claim(self, row: LedgerRow) -> tuple[LedgerRow, bool]:
        """Take the row for this attempt; True when an earlier attempt must be reconciled."""
        after = self._sender.reconcile_after
        claim = await sms_ledger.claim_attempt(self._pool, row, in_flight_for=after)
        if claim.wait is not None:
            raise ApplicationError(
                "another attempt for this key may still be in flight; retrying later",
                type=SMS_ATTEMPT_IN_FLIGHT,
                # Come back when the lookup can be trusted, not on every backoff step.
                next_retry_delay=claim.wait,
            )
        return claim.row, claim.reconcile

    async def _reconcile(
        self, input: SendSmsInput, row: LedgerRow, message: OutboundSms
    ) -> LedgerRow | None:
        """Adopt a message an earlier attempt created, if the provider has one."""
        try:
            candidates = await self._sender.find(message, row.created_at)
        except SmsNotSent as err:
            await self._failed(row, "reconcile_failed", err, release_claim=False)
            raise ApplicationError(
                f"{err}; an earlier attempt's outcome is still unknown",
                {"error_code": err.code},
                type=SMS_OUTCOME_UNKNOWN,
            ) from None
        for candidate in candidates:
            try:
                adopted, _ = await self._record(row, candidate, Source.RECONCILIATION)
            except sms_ledger.ProviderMessageTaken:
                continue  # another ledger row owns that message
            logger.info(
                "sms found at %s after an unknown outcome; not sent again",
                candidate.provider,
                extra=_ids(input),
            )
            return adopted
        return None

    async def _record_sent(self, input: SendSmsInput, row: LedgerRow, sent: SentSms) -> LedgerRow:
        try:
            recorded, owned = await self._record(row, sent, Source.ACTIVITY)
        except sms_ledger.ProviderMessageTaken:
            # While this request was in flight, a sibling key with the very same text to the
            # same number reconciled and adopted this message; the sibling's own message is
            # still unowned, and the next attempt's lookup adopts it. One message per key.
            logger.info(
                "sms adopted by a sibling with identical text; reconciling", extra=_ids(input)
            )
            raise ApplicationError(
                "the message was claimed by another key with identical text; the next attempt "
                "reconciles",
                type=SMS_OUTCOME_UNKNOWN,
            ) from None
        if owned is None:
            # A status callback recorded a different message for this row: two messages went
            # out for one key. Keep the first; make the second visible.
            logger.error("a second provider message was created for one key", extra=_ids(input))
        return recorded

    async def _record(
        self,
        row: LedgerRow,
        sent: SentSms,
        source: Literal[Source.ACTIVITY, Source.RECONCILIATION],
    ) -> tuple[LedgerRow, bool | None]:
        return await sms_ledger.record_message(
            self._pool,
            row,
            provider=sent.provider,
            provider_id=sent.provider_id,
            status=sent.status,
            source=source,
        )

    async def _refuse(
        self,
        row: LedgerRow,
        code: str | None,
        provider_message: str | None,
        *,
        refusal: Refusal,
        status: Literal["rejected", "blocked"] = "rejected",
    ) -> None:
        await sms_ledger.refuse(
            self._pool,
            row,
            status=status,
            error_code=code,
            error_message=provider_message,
            refusal=refusal.value,
            provider_opted_out=refusal is Refusal.OPTED_OUT and status == "rejected",
        )
        logger.warning(
            "sms %s (error %s)",
            status,
            code,
            extra={"idempotency_key": row.idempotency_key, "stage_id": row.stage_id},
        )

    async def _failed(
        self,
        row: LedgerRow,
        kind: FailureKind,
        err: SmsNotSent | SmsOutcomeUnknown,
        *,
        release_claim: bool,
    ) -> None:
        await contact_ledger.record_failure(
            self._pool,
            row.id,
            kind=kind,
            source=Source.ACTIVITY,
            error_code=err.code,
            detail=str(err),
            release_claim=release_claim,
        )
        logger.warning("sms attempt failed: %s", err, extra={"ledger_id": row.id})

    # --- answers -----------------------------------------------------------------------

    def _finished(self, input: SendSmsInput, row: LedgerRow) -> SendSmsResult:
        """The answer for a row a previous attempt completed: the same outcome again."""
        if row.status == "withheld":
            raise contact_gate.withheld()
        if row.status == "blocked":
            raise _refusal_error(Refusal.OPTED_OUT, "the number opted out of SMS", row.error_code)
        if row.status == "rejected":
            refusal = _REFUSAL_BY_CODE.get(row.error_code or "", Refusal.OTHER)
            raise _refusal_error(
                refusal,
                f"the provider refused this message (error {row.error_code})",
                row.error_code,
            )
        return self._result(input, row, already_sent=True)

    @staticmethod
    def _result(input: SendSmsInput, row: LedgerRow, *, already_sent: bool) -> SendSmsResult:
        return SendSmsResult(
            idempotency_key=input.idempotency_key,
            status=row.status,
            provider_id=row.provider_id,
            already_sent=already_sent,
            segments=row.segments,
            encoding=row.encoding,
        )


def _receipt(input: SendSmsInput) -> receipts.Receipt:
    """The SMS's compliance receipt, written with its ledger row (before any provider call)."""
    return receipts.from_facts(
        contact_key=input.idempotency_key,
        account_id=input.account_id,
        channel="sms",
        stage_id=input.stage_id,
        facts=input.facts,
    )


def _ids(input: SendSmsInput) -> dict[str, str]:
    return {"idempotency_key": input.idempotency_key, "stage_id": input.stage_id}


def _refusal_error(refusal: Refusal, message: str, code: str | None) -> ApplicationError:
    kind = {
        Refusal.OPTED_OUT: SmsFailure.RECIPIENT_OPTED_OUT.value,
        Refusal.UNREACHABLE: SmsFailure.UNREACHABLE_NUMBER.value,
        Refusal.OTHER: SMS_REFUSED,
    }[refusal]
    return ApplicationError(message, {"error_code": code}, type=kind, non_retryable=True)
