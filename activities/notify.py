"""The `notify` channel: an HMAC-signed webhook to the backend, which owns app notices, email,
letters and the other channels.

Like SMS, a ledger row (channel 'notify', UNIQUE key) is written first with the exact body;
every attempt POSTs those same bytes with the same `X-Overdue-Idempotency-Key`, so the backend
deduplicates retries and a replay never differs from the original. Headers:

    X-Overdue-Signature: sha256=<hex HMAC-SHA256 of the raw body with OVERDUE_NOTIFY_SECRET>
    X-Overdue-Idempotency-Key: <key>
    X-Overdue-Attempt: <Temporal attempt number>

Just before each POST, a payment the workflow had not seen when it decided (`contact_gate`)
withholds the notice: the row becomes `withheld` and nothing is posted.

A 2xx completes the contact. 408, 429, 5xx and network errors are retried by Temporal; any
other 4xx is a refusal, recorded and raised non-retryable (`NotifyRejected`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Literal

import asyncpg
import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from overdue.settings import NotifyConfig
from overdue.store import audit, contact_gate
from overdue.store.contact_ledger import Source, advance, record_failure
from workflows.contact_types import NotifyInput, NotifyResult

logger = logging.getLogger(__name__)

NOTIFY_FAILED = "NotifyFailed"  # retryable
NOTIFY_REJECTED = "NotifyRejected"  # non-retryable
KEY_CONFLICT = "IdempotencyKeyConflict"  # non-retryable

SIGNATURE_HEADER = "X-Overdue-Signature"
IDEMPOTENCY_HEADER = "X-Overdue-Idempotency-Key"
_RETRYABLE_4XX = frozenset({408, 429})


def sign(secret: str, body: bytes) -> str:
    """The signature header's value; the backend recomputes it over the raw body it got."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class NotifyActivities:
    def __init__(
        self,
        pool: asyncpg.Pool,
        config: NotifyConfig | None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self._pool = pool
        self._config = config
        self._http = (
            httpx.AsyncClient(timeout=config.timeout_seconds, transport=transport)
            if config
            else None
        )

    async def close(self) -> None:
        if self._http is not None:
            await self._http.aclose()

    @activity.defn
    async def send_notification(self, input: NotifyInput) -> NotifyResult:
        """POST the stage's notice to the backend once per key (the backend deduplicates)."""
        config, http = self._config, self._http
        if config is None or http is None:
            return await self._record_only(input)
        row = await self._open_row(input)
        if row["status"] == "delivered":
            return NotifyResult(
                idempotency_key=input.idempotency_key,
                status_code=row["response_code"],
                already_sent=True,
            )
        if row["status"] == "rejected":
            raise _rejected(row["response_code"])
        await self._unless_withheld(input, row)
        body: bytes = row["body"].encode()
        try:
            response = await http.post(
                config.url,
                content=body,
                headers={
                    "Content-Type": "application/json",
                    SIGNATURE_HEADER: sign(config.secret, body),
                    IDEMPOTENCY_HEADER: input.idempotency_key,
                    "X-Overdue-Attempt": str(activity.info().attempt),
                },
            )
        except httpx.HTTPError as err:
            reason = f"notify webhook unreachable ({type(err).__name__})"
            await self._failed(row["id"], "outcome_unknown", "no_answer", reason)
            raise ApplicationError(reason, type=NOTIFY_FAILED) from None
        code = response.status_code
        if 200 <= code < 300:
            await self._delivered(input, row["id"], code)
            return NotifyResult(idempotency_key=input.idempotency_key, status_code=code)
        if code >= 500 or code in _RETRYABLE_4XX:
            reason = f"notify webhook answered HTTP {code}"
            await self._failed(row["id"], "provider_error", f"http_{code}", reason)
            raise ApplicationError(reason, {"status_code": code}, type=NOTIFY_FAILED)
        await self._refused(input, row["id"], code)
        raise _rejected(code)

    async def _record_only(self, input: NotifyInput) -> NotifyResult:
        """No webhook configured (the dev stack): the notice is kept in the ledger as sent by
        the `recording` provider, as the recording SMS sender does, so stages never stall."""
        row = await self._open_row(input)
        if row["status"] == "pending":
            await self._unless_withheld(input, row)
            async with self._pool.acquire() as conn, conn.transaction():
                await conn.execute(
                    "UPDATE contact_ledger SET provider = 'recording' WHERE id = $1", row["id"]
                )
                await advance(conn, row["id"], "sent", source=Source.ACTIVITY)
        logger.info(
            "notify recorded (OVERDUE_NOTIFY_URL unset)",
            extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
        )
        return NotifyResult(
            idempotency_key=input.idempotency_key,
            status_code=0,
            already_sent=row["status"] != "pending",
        )

    async def _unless_withheld(self, input: NotifyInput, row: asyncpg.Record) -> None:
        """Raise `ContactWithheld` (and mark the row) when a payment came after the decision."""
        if row["status"] == "withheld":
            raise contact_gate.withheld()
        unseen = await contact_gate.unseen_payments(self._pool, input.account_id, input.basis)
        if not unseen:
            return
        await contact_gate.mark_withheld(
            self._pool,
            ledger_id=row["id"],
            channel="notify",
            account_id=input.account_id,
            idempotency_key=input.idempotency_key,
            stage_id=input.stage_id,
            unseen=unseen,
        )
        raise contact_gate.withheld(unseen)

    async def _open_row(self, input: NotifyInput) -> asyncpg.Record:
        payload = {
            **input.model_dump(mode="json"),
            "created_at": datetime.now(UTC).isoformat(),
        }
        body = json.dumps(payload, sort_keys=True, separators=(",", ":"))
        async with self._pool.acquire() as conn:
            await conn.execute(
                """
                INSERT INTO contact_ledger
                    (idempotency_key, account_id, workflow_run_id, channel, stage_id,
                     template_id, body, status, provider)
                VALUES ($1, $2, $3, 'notify', $4, $5, $6, 'pending', 'webhook')
                ON CONFLICT (idempotency_key) DO NOTHING
                """,
                input.idempotency_key,
                input.account_id,
                activity.info().workflow_run_id,
                input.stage_id,
                input.template_id,
                body,
            )
            row = await conn.fetchrow(
                """
                SELECT id, account_id, channel, status, body, response_code
                  FROM contact_ledger WHERE idempotency_key = $1
                """,
                input.idempotency_key,
            )
        assert row is not None
        if (row["channel"], row["account_id"]) != ("notify", input.account_id):
            raise ApplicationError(
                f"idempotency key {input.idempotency_key!r} already belongs to a "
                f"{row['channel']} contact of account {row['account_id']!r}",
                type=KEY_CONFLICT,
                non_retryable=True,
            )
        return row

    async def _delivered(self, input: NotifyInput, ledger_id: int, code: int) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE contact_ledger SET response_code = $2 WHERE id = $1", ledger_id, code
            )
            await advance(conn, ledger_id, "delivered", source=Source.ACTIVITY)
            await audit.record_event(
                conn,
                account_id=input.account_id,
                actor="system",
                kind="notify.delivered",
                details={
                    "idempotency_key": input.idempotency_key,
                    "stage_id": input.stage_id,
                    "notify_kind": input.kind.value,
                    "status_code": code,
                },
            )
        logger.info(
            "notify webhook delivered",
            extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
        )

    async def _refused(self, input: NotifyInput, ledger_id: int, code: int) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute(
                "UPDATE contact_ledger SET response_code = $2 WHERE id = $1", ledger_id, code
            )
            await advance(
                conn, ledger_id, "rejected", source=Source.ACTIVITY, error_code=f"http_{code}"
            )
            await audit.record_event(
                conn,
                account_id=input.account_id,
                actor="system",
                kind="notify.rejected",
                details={
                    "idempotency_key": input.idempotency_key,
                    "stage_id": input.stage_id,
                    "status_code": code,
                },
            )
        logger.warning(
            "notify webhook refused with HTTP %s",
            code,
            extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
        )

    async def _failed(
        self,
        ledger_id: int,
        kind: Literal["provider_error", "outcome_unknown"],
        code: str,
        reason: str,
    ) -> None:
        async with self._pool.acquire() as conn:
            await record_failure(
                conn, ledger_id, kind=kind, source=Source.ACTIVITY, error_code=code, detail=reason
            )
        logger.warning("%s", reason, extra={"ledger_id": ledger_id})


def _rejected(code: int) -> ApplicationError:
    return ApplicationError(
        f"the notify webhook refused the notice (HTTP {code})",
        {"status_code": code},
        type=NOTIFY_REJECTED,
        non_retryable=True,
    )
