"""The SMS activity: exactly one message per idempotency key.

1. The ledger row (UNIQUE key) is written before the provider is called, with the body
   rendered once in the customer's locale, the recipient and the segment count.
2. Each attempt claims the row (`attempted_at`). A row another attempt claimed less than the
   sender's `reconcile_after` ago may still be in flight: this attempt retries later.
3. A row an earlier attempt claimed has an unknown outcome: the provider is asked first
   (`SmsSender.find`) and a message found there is adopted instead of sending again.
4. Just before the provider is called, a payment the workflow had not seen when it decided
   (`contact_gate`) withholds the message: the row becomes `withheld`, nothing is sent.
5. Refusals are recorded and raised non-retryable (`SmsFailure`), other failures are recorded
   in `contact_events` and raised retryable, for Temporal's backoff.

Nothing personal reaches logs, exceptions or the workflow's history: keys, stage ids and
error codes only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.sms_segments import count_segments
from activities.sms_senders import SmsSender
from activities.sms_types import (
    OutboundSms,
    Refusal,
    SentSms,
    SmsNotSent,
    SmsOutcomeUnknown,
    SmsRefused,
)
from activities.templates import pick_locale, render
from overdue.store import audit, contact_gate, sms_consent
from overdue.store.contact_ledger import (
    PROVIDER_STATUSES,
    FailureKind,
    Source,
    advance,
    record_failure,
)
from workflows.contact_types import SendSmsInput, SendSmsResult, SmsFailure

logger = logging.getLogger(__name__)

# ApplicationError types besides workflows.types.SmsFailure (all non-retryable).
SMS_REFUSED = "SmsRefused"  # the provider refused the message for another permanent reason
MISSING_CONTACT = "MissingContact"
TEMPLATE_ERROR = "TemplateError"
KEY_CONFLICT = "IdempotencyKeyConflict"
LEDGER_ROW_INCOMPLETE = "LedgerRowIncomplete"
# Retryable ApplicationError types.
SMS_NOT_SENT = "SmsNotSent"
SMS_OUTCOME_UNKNOWN = "SmsOutcomeUnknown"
SMS_ATTEMPT_IN_FLIGHT = "SmsAttemptInFlight"

# Our error code for a send we blocked ourselves: the number opted out in our records.
BLOCKED_OPTED_OUT = "opted_out"
_REFUSAL_BY_CODE = {
    BLOCKED_OPTED_OUT: Refusal.OPTED_OUT,
    "21610": Refusal.OPTED_OUT,
    "21211": Refusal.UNREACHABLE,
    "21614": Refusal.UNREACHABLE,
}


@dataclass(frozen=True)
class _Row:
    id: int
    status: str
    recipient: str
    body: str
    provider_id: str | None
    error_code: str | None
    segments: int | None  # None on rows written before segments were counted
    encoding: str | None
    created_at: datetime


class SmsActivities:
    def __init__(self, pool: asyncpg.Pool, sender: SmsSender) -> None:
        self._pool = pool
        self._sender = sender

    @activity.defn
    async def send_sms(self, input: SendSmsInput) -> SendSmsResult:
        """Send the stage's SMS once; a retry or a duplicate never sends a second message."""
        row = await self._open_row(input)
        if row.status != "pending":
            return self._finished(input, row)
        row, reconcile = await self._claim(input, row)
        if row.status != "pending":
            return self._finished(input, row)
        message = OutboundSms(
            idempotency_key=input.idempotency_key,
            reference=str(row.id),
            to=row.recipient,
            body=row.body,
        )
        if reconcile:
            adopted = await self._reconcile(input, row, message)
            if adopted is not None:
                return self._finished(input, adopted)
        unseen = await contact_gate.unseen_payments(self._pool, input.account_id, input.basis)
        if unseen:
            await contact_gate.mark_withheld(
                self._pool,
                ledger_id=row.id,
                channel="sms",
                account_id=input.account_id,
                idempotency_key=input.idempotency_key,
                stage_id=input.stage_id,
                unseen=unseen,
            )
            raise contact_gate.withheld(unseen)
        if await sms_consent.is_opted_out(self._pool, row.recipient):
            await self._refuse(
                input, row, BLOCKED_OPTED_OUT, None, refusal=Refusal.OPTED_OUT, status="blocked"
            )
            raise _refusal_error(Refusal.OPTED_OUT, "the number opted out of SMS", "opted_out")
        try:
            sent = await self._sender.send(message)
        except SmsRefused as err:
            await self._refuse(input, row, err.code, err.provider_message, refusal=err.refusal)
            raise _refusal_error(err.refusal, str(err), err.code) from None
        except SmsNotSent as err:
            # Certainly not created: the next attempt may send at once, no reconciliation.
            await self._failed(row, "provider_error", err, clear_claim=True)
            raise ApplicationError(str(err), {"error_code": err.code}, type=SMS_NOT_SENT) from None
        except SmsOutcomeUnknown as err:
            await self._failed(row, "outcome_unknown", err, clear_claim=False)
            raise ApplicationError(
                f"{err}; the next attempt reconciles before any resend",
                {"error_code": err.code},
                type=SMS_OUTCOME_UNKNOWN,
                next_retry_delay=self._sender.reconcile_after,
            ) from None
        try:
            recorded = await self._record_sent(input, row, sent, Source.ACTIVITY)
        except asyncpg.UniqueViolationError:
            # While this request was in flight, a sibling key with the very same text to the
            # same number reconciled and adopted this message; the sibling's own message is
            # still unowned, and the next attempt's lookup adopts it. One message per key.
            logger.info(
                "sms adopted by a sibling with identical text; reconciling",
                extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
            )
            raise ApplicationError(
                "the message was claimed by another key with identical text; the next attempt "
                "reconciles",
                type=SMS_OUTCOME_UNKNOWN,
            ) from None
        logger.info(
            "sms accepted by %s",
            sent.provider,
            extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
        )
        return self._result(input, recorded, already_sent=False)

    # --- the ledger row ----------------------------------------------------------------

    async def _open_row(self, input: SendSmsInput) -> _Row:
        async with self._pool.acquire() as conn:
            row = await self._fetch(conn, input)
            if row is not None:
                return row
            contact = await conn.fetchrow(
                "SELECT full_name, phone_e164, locale FROM customer_contacts WHERE account_id = $1",
                input.account_id,
            )
            if contact is None:
                raise ApplicationError(
                    f"no contact details stored for account {input.account_id!r}",
                    type=MISSING_CONTACT,
                    non_retryable=True,
                )
            body = _render(input, contact["full_name"], contact["locale"])
            segments = count_segments(body)
            await conn.execute(
                """
                INSERT INTO contact_ledger
                    (idempotency_key, account_id, workflow_run_id, channel, stage_id,
                     template_id, body, recipient, segments, encoding, status, provider)
                VALUES ($1, $2, $3, 'sms', $4, $5, $6, $7, $8, $9, 'pending', $10)
                ON CONFLICT (idempotency_key) DO NOTHING
                """,
                input.idempotency_key,
                input.account_id,
                activity.info().workflow_run_id,
                input.stage_id,
                input.template_id,
                body,
                contact["phone_e164"],
                segments.segments,
                segments.encoding,
                self._sender.name,
            )
            # Re-read: a concurrent duplicate may have inserted the row first.
            row = await self._fetch(conn, input)
        assert row is not None
        return row

    async def _fetch(self, conn: asyncpg.Connection, input: SendSmsInput) -> _Row | None:
        found = await conn.fetchrow(
            """
            SELECT id, account_id, channel, status, recipient, body, provider_id, error_code,
                   segments, encoding, created_at
              FROM contact_ledger WHERE idempotency_key = $1
            """,
            input.idempotency_key,
        )
        if found is None:
            return None
        if (found["channel"], found["account_id"]) != ("sms", input.account_id):
            raise ApplicationError(
                f"idempotency key {input.idempotency_key!r} already belongs to a "
                f"{found['channel']} contact of account {found['account_id']!r}",
                type=KEY_CONFLICT,
                non_retryable=True,
            )
        if found["recipient"] is None or found["body"] is None:
            # Only rows written before recipients were recorded can lack them.
            raise ApplicationError(
                f"ledger row for {input.idempotency_key!r} has no recipient or body to send; "
                "resolve it by hand",
                type=LEDGER_ROW_INCOMPLETE,
                non_retryable=True,
            )
        return _Row(
            id=found["id"],
            status=found["status"],
            recipient=found["recipient"],
            body=found["body"],
            provider_id=found["provider_id"],
            error_code=found["error_code"],
            segments=found["segments"],
            encoding=found["encoding"],
            created_at=found["created_at"],
        )

    async def _claim(self, input: SendSmsInput, row: _Row) -> tuple[_Row, bool]:
        """Take the row for this attempt; True when an earlier attempt must be reconciled."""
        async with self._pool.acquire() as conn, conn.transaction():
            current = await conn.fetchrow(
                """
                SELECT status, attempted_at, now() - attempted_at AS age
                  FROM contact_ledger WHERE id = $1 FOR UPDATE
                """,
                row.id,
            )
            assert current is not None
            if current["status"] != "pending":
                fresh = await self._fetch(conn, input)
                assert fresh is not None
                return fresh, False
            if current["age"] is not None and current["age"] < self._sender.reconcile_after:
                raise ApplicationError(
                    "another attempt for this key may still be in flight; retrying later",
                    type=SMS_ATTEMPT_IN_FLIGHT,
                    # Come back when the lookup can be trusted, not on every backoff step.
                    next_retry_delay=self._sender.reconcile_after - current["age"],
                )
            await conn.execute(
                """
                UPDATE contact_ledger
                   SET attempts = attempts + 1, attempted_at = now(), updated_at = now()
                 WHERE id = $1
                """,
                row.id,
            )
        return row, current["attempted_at"] is not None

    async def _reconcile(self, input: SendSmsInput, row: _Row, message: OutboundSms) -> _Row | None:
        """Adopt a message an earlier attempt created, if the provider has one."""
        try:
            candidates = await self._sender.find(message, row.created_at)
        except SmsNotSent as err:
            await self._failed(row, "reconcile_failed", err, clear_claim=False)
            raise ApplicationError(
                f"{err}; an earlier attempt's outcome is still unknown",
                {"error_code": err.code},
                type=SMS_OUTCOME_UNKNOWN,
            ) from None
        for candidate in candidates:
            try:
                adopted = await self._record_sent(input, row, candidate, Source.RECONCILIATION)
            except asyncpg.UniqueViolationError:
                continue  # another ledger row owns that message
            logger.info(
                "sms found at %s after an unknown outcome; not sent again",
                candidate.provider,
                extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
            )
            return adopted
        return None

    async def _record_sent(
        self, input: SendSmsInput, row: _Row, sent: SentSms, source: Source
    ) -> _Row:
        status = sent.status if sent.status in PROVIDER_STATUSES else "queued"
        async with self._pool.acquire() as conn, conn.transaction():
            # `newly_owned` is NULL when another message owns the row, false when a status
            # callback already recorded this one (and audited it), true when this call did.
            newly_owned = await conn.fetchval(
                """
                WITH old AS (
                    SELECT provider_id FROM contact_ledger WHERE id = $1 FOR UPDATE
                )
                UPDATE contact_ledger l
                   SET provider = $2, provider_id = $3, attempted_at = NULL, updated_at = now()
                  FROM old
                 WHERE l.id = $1 AND (old.provider_id IS NULL OR old.provider_id = $3)
                RETURNING old.provider_id IS NULL
                """,
                row.id,
                sent.provider,
                sent.provider_id,
            )
            if newly_owned is None:
                if source is Source.ACTIVITY:
                    # A status callback recorded a different message for this row: two
                    # messages went out for one key. Keep the first; make the second visible.
                    logger.error(
                        "a second provider message was created for one key",
                        extra={
                            "idempotency_key": input.idempotency_key,
                            "stage_id": input.stage_id,
                        },
                    )
            else:
                await advance(conn, row.id, status, source=source)
            if newly_owned:
                await audit.record_event(
                    conn,
                    account_id=input.account_id,
                    actor="system",
                    kind="sms.accepted",
                    details={
                        "idempotency_key": input.idempotency_key,
                        "stage_id": input.stage_id,
                        "provider": sent.provider,
                        "provider_id": sent.provider_id,
                        "segments": row.segments,
                        "learned_from": "provider_lookup"
                        if source is Source.RECONCILIATION
                        else "send",
                    },
                )
            fresh = await self._fetch(conn, input)
        assert fresh is not None
        return fresh

    async def _refuse(
        self,
        input: SendSmsInput,
        row: _Row,
        code: str | None,
        provider_message: str | None,
        *,
        refusal: Refusal,
        status: str = "rejected",
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE contact_ledger SET attempted_at = NULL WHERE id = $1", row.id
            )
            await advance(
                conn,
                row.id,
                status,
                source=Source.ACTIVITY,
                error_code=code,
                error_message=provider_message,
            )
            await audit.record_event(
                conn,
                account_id=input.account_id,
                actor="system",
                kind=f"sms.{status}",
                details={
                    "idempotency_key": input.idempotency_key,
                    "stage_id": input.stage_id,
                    "error_code": code,
                    "refusal": refusal.value,
                },
            )
            if refusal is Refusal.OPTED_OUT and status == "rejected":
                # The provider knows of an opt-out we did not: every account with this number
                # stops getting SMS, not just this one.
                if await sms_consent.set_consent(
                    conn, row.recipient, opted_out=True, source="provider_error"
                ):
                    await audit.record_event(
                        conn,
                        account_id=input.account_id,
                        actor="twilio",
                        kind="sms.consent_changed",
                        details={"opted_out": True, "source": "provider_error"},
                    )
        logger.warning(
            "sms %s (error %s)",
            status,
            code,
            extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
        )

    async def _failed(
        self,
        row: _Row,
        kind: FailureKind,
        err: SmsNotSent | SmsOutcomeUnknown,
        *,
        clear_claim: bool,
    ) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            if clear_claim:
                await conn.execute(
                    "UPDATE contact_ledger SET attempted_at = NULL WHERE id = $1", row.id
                )
            await record_failure(
                conn,
                row.id,
                kind=kind,
                source=Source.ACTIVITY,
                error_code=err.code,
                detail=str(err),
            )
        logger.warning("sms attempt failed: %s", err, extra={"ledger_id": row.id})

    # --- answers -----------------------------------------------------------------------

    def _finished(self, input: SendSmsInput, row: _Row) -> SendSmsResult:
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
    def _result(input: SendSmsInput, row: _Row, *, already_sent: bool) -> SendSmsResult:
        return SendSmsResult(
            idempotency_key=input.idempotency_key,
            status=row.status,
            provider_id=row.provider_id,
            already_sent=already_sent,
            segments=row.segments,
            encoding=row.encoding,
        )


def _render(input: SendSmsInput, name: str, customer_locale: str) -> str:
    locale = pick_locale(input.templates, customer_locale, input.default_locale)
    text = input.templates.get(locale)
    if text is None:
        raise ApplicationError(
            f"template {input.template_id!r} has no text for locale {locale!r}",
            type=TEMPLATE_ERROR,
            non_retryable=True,
        )
    try:
        body = render(
            text,
            name=name,
            amount_minor=input.amount_minor,
            currency=input.currency,
            due_date=input.due_date,
            days_past_due=input.days_past_due,
        )
    except (KeyError, IndexError, ValueError) as err:
        raise ApplicationError(
            f"template {input.template_id!r} ({locale}) cannot be rendered: "
            f"{type(err).__name__} {err}",
            type=TEMPLATE_ERROR,
            non_retryable=True,
        ) from None
    if not body.strip():
        raise ApplicationError(
            f"template {input.template_id!r} ({locale}) renders an empty message",
            type=TEMPLATE_ERROR,
            non_retryable=True,
        )
    return body


def _refusal_error(refusal: Refusal, message: str, code: str | None) -> ApplicationError:
    kind = {
        Refusal.OPTED_OUT: SmsFailure.RECIPIENT_OPTED_OUT.value,
        Refusal.UNREACHABLE: SmsFailure.UNREACHABLE_NUMBER.value,
        Refusal.OTHER: SMS_REFUSED,
    }[refusal]
    return ApplicationError(message, {"error_code": code}, type=kind, non_retryable=True)
