"""The SMS activity: exactly one message per idempotency key."""

from __future__ import annotations

import logging

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.sms_senders import OutboundSms, SentSms, SmsSender
from activities.templates import pick_locale, render
from workflows.types import SendSmsInput, SendSmsResult

logger = logging.getLogger(__name__)


class SmsActivities:
    def __init__(self, pool: asyncpg.Pool, sender: SmsSender) -> None:
        self._pool = pool
        self._sender = sender

    @activity.defn
    async def send_sms(self, input: SendSmsInput) -> SendSmsResult:
        """Write the ledger row first, then send; a retry finds the row and never sends twice."""
        async with self._pool.acquire() as conn:
            contact = await conn.fetchrow(
                "SELECT full_name, phone_e164, locale FROM customer_contacts WHERE account_id = $1",
                input.account_id,
            )
            if contact is None:
                raise ApplicationError(
                    f"no contact details stored for account {input.account_id!r}",
                    type="MissingContact",
                    non_retryable=True,
                )
            locale = pick_locale(input.templates, contact["locale"], input.default_locale)
            body = render(
                input.templates[locale],
                name=contact["full_name"],
                amount_minor=input.amount_minor,
                currency=input.currency,
                due_date=input.due_date,
                days_past_due=input.days_past_due,
            )
            row = await conn.fetchrow(
                """
                INSERT INTO contact_ledger
                    (idempotency_key, account_id, workflow_run_id, channel, stage_id,
                     template_id, body, status, provider)
                VALUES ($1, $2, $3, 'sms', $4, $5, $6, 'pending', $7)
                ON CONFLICT (idempotency_key) DO UPDATE SET updated_at = contact_ledger.updated_at
                RETURNING status, provider_id, (xmax = 0) AS inserted
                """,
                input.idempotency_key,
                input.account_id,
                activity.info().workflow_run_id,
                input.stage_id,
                input.template_id,
                body,
                self._sender.name,
            )
        assert row is not None
        if row["status"] != "pending":
            return SendSmsResult(
                idempotency_key=input.idempotency_key,
                status=row["status"],
                provider_id=row["provider_id"],
                already_sent=True,
            )
        # A pending row from an earlier attempt may have reached the provider: ask first.
        earlier = None if row["inserted"] else await self._sender.find(input.idempotency_key)
        sent = earlier or await self._sender.send(
            OutboundSms(idempotency_key=input.idempotency_key, to=contact["phone_e164"], body=body)
        )
        await self._record(input.idempotency_key, sent)
        logger.info(
            "sms sent",
            extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
        )
        return SendSmsResult(
            idempotency_key=input.idempotency_key,
            status=sent.status,
            provider_id=sent.provider_id,
            already_sent=earlier is not None,
        )

    async def _record(self, key: str, sent: SentSms) -> None:
        await self._pool.execute(
            """
            UPDATE contact_ledger
               SET status = $2, provider = $3, provider_id = $4, updated_at = now()
             WHERE idempotency_key = $1
            """,
            key,
            sent.status,
            sent.provider,
            sent.provider_id,
        )
