"""The `notify` channel: an HMAC-signed webhook to the backend, which owns app notices, email
and the other channels. Letters of a policy with a `letters` section are ours: rendered and
kept for the mailroom (activities/letters/maker.py); a letter input from before (no `letter`)
is posted as it always was.

Like SMS, a ledger row (channel 'notify', UNIQUE key) is written first with the exact body;
every attempt POSTs those same bytes with the same `X-Overdue-Idempotency-Key`, so the backend
deduplicates retries and a replay never differs from the original. Headers:

    X-Overdue-Signature: sha256=<hex HMAC-SHA256 of the raw body with OVERDUE_NOTIFY_SECRET>
    X-Overdue-Idempotency-Key: <key>
    X-Overdue-Attempt: <Temporal attempt number>

Just before each POST, a payment, an open dispute, or a cease-contact request (for the
notices a cease stops) the workflow had not seen when it decided withholds the
notice (`contact_gate.clear_to_send`, the check every contact makes under the account's lock):
the row becomes `withheld` and nothing is posted. The POST itself is made after that check's
transaction, holding no lock. All SQL is in `overdue.store`.

A 2xx completes the contact. 408, 429, 5xx and network errors are retried by Temporal; any
other 4xx is a refusal, recorded and raised non-retryable (`NotifyRejected`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import UTC, datetime
from typing import Any, Literal

import asyncpg
import httpx
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.letters.maker import LetterMaker
from overdue.settings import NotifyConfig
from overdue.store import contact_gate, contact_ledger, receipts
from overdue.store.contact_ledger import LedgerRow, NewContact, Settled, Source
from workflows.contact_types import NotifyInput, NotifyResult
from workflows.decisions import CEASE_BLOCKED_NOTICES

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
        letters: LetterMaker | None = None,
    ) -> None:
        self._pool = pool
        self._config = config
        self._letters = letters or LetterMaker(pool)
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
        """POST the stage's notice to the backend once per key (the backend deduplicates); a
        letter stage's letter is rendered for the mailroom instead (activities/letters/)."""
        if input.letter is not None:
            return await self._letters.make(input, input.letter)
        config, http = self._config, self._http
        if config is None or http is None:
            return await self._record_only(input)
        row = await self._cleared_row(input)
        if row.status == "delivered":
            return NotifyResult(
                idempotency_key=input.idempotency_key,
                status_code=row.response_code or 0,
                already_sent=True,
            )
        if row.status == "rejected":
            raise _rejected(row.response_code)
        assert row.body is not None
        body: bytes = row.body.encode()
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
            await self._failed(row, "outcome_unknown", "no_answer", reason)
            raise ApplicationError(reason, type=NOTIFY_FAILED) from None
        code = response.status_code
        if 200 <= code < 300:
            await self._settle(input, row, "delivered", code)
            return NotifyResult(idempotency_key=input.idempotency_key, status_code=code)
        if code >= 500 or code in _RETRYABLE_4XX:
            reason = f"notify webhook answered HTTP {code}"
            await self._failed(row, "provider_error", f"http_{code}", reason)
            raise ApplicationError(reason, {"status_code": code}, type=NOTIFY_FAILED)
        await self._settle(input, row, "rejected", code)
        raise _rejected(code)

    async def _record_only(self, input: NotifyInput) -> NotifyResult:
        """No webhook configured (the dev stack): the notice is kept in the ledger as sent by
        the `recording` provider, as the recording SMS sender does, so stages never stall."""
        row = await self._cleared_row(input)
        if row.status == "pending":
            await contact_ledger.settle(
                self._pool, row, Settled(status="sent", provider="recording")
            )
        logger.info(
            "notify recorded (OVERDUE_NOTIFY_URL unset)",
            extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
        )
        return NotifyResult(
            idempotency_key=input.idempotency_key,
            status_code=0,
            already_sent=row.status != "pending",
        )

    async def _cleared_row(self, input: NotifyInput) -> LedgerRow:
        """The notice's ledger row, past the pre-send check when it is still to be sent:
        `ContactWithheld` is raised (and the row marked) when a payment came after the
        decision."""
        payload = {
            # The receipt's facts are ours, not the backend's: the body stays as it was.
            **input.model_dump(mode="json", exclude={"facts", *_unset_terms(input)}),
            "created_at": datetime.now(UTC).isoformat(),
        }
        new = NewContact(
            idempotency_key=input.idempotency_key,
            account_id=input.account_id,
            channel="notify",
            stage_id=input.stage_id,
            workflow_run_id=activity.info().workflow_run_id,
            template_id=input.template_id,
            body=json.dumps(payload, sort_keys=True, separators=(",", ":")),
            provider="webhook",
        )
        try:
            row = await contact_ledger.create_or_get(self._pool, new, _receipt(input))
        except contact_ledger.KeyTaken as err:
            raise ApplicationError(str(err), type=KEY_CONFLICT, non_retryable=True) from None
        if row.status in ("delivered", "rejected"):
            return row
        return await contact_gate.clear_to_send(
            self._pool, row, input.basis, cease_applies=input.kind in CEASE_BLOCKED_NOTICES
        )

    async def _settle(
        self,
        input: NotifyInput,
        row: LedgerRow,
        status: Literal["delivered", "rejected"],
        code: int,
    ) -> None:
        """The backend answered for good: delivered (2xx) or refused (another 4xx); audited."""
        details: dict[str, Any] = {
            "idempotency_key": input.idempotency_key,
            "stage_id": input.stage_id,
        }
        if status == "delivered":
            details["notify_kind"] = input.kind.value
        details["status_code"] = code
        await contact_ledger.settle(
            self._pool,
            row,
            Settled(
                status=status,
                error_code=None if status == "delivered" else f"http_{code}",
                response_code=code,
                audit_kind=f"notify.{status}",
                audit_details=details,
            ),
        )
        if status == "delivered":
            logger.info("notify webhook delivered", extra=_ids(input))
        else:
            logger.warning("notify webhook refused with HTTP %s", code, extra=_ids(input))

    async def _failed(
        self,
        row: LedgerRow,
        kind: Literal["provider_error", "outcome_unknown"],
        code: str,
        reason: str,
    ) -> None:
        await contact_ledger.record_failure(
            self._pool, row.id, kind=kind, source=Source.ACTIVITY, error_code=code, detail=reason
        )
        logger.warning("%s", reason, extra={"ledger_id": row.id})


def _receipt(input: NotifyInput) -> receipts.Receipt:
    """The notice's compliance receipt, written with its ledger row (before the POST)."""
    return receipts.from_facts(
        contact_key=input.idempotency_key,
        account_id=input.account_id,
        channel="notify",
        stage_id=input.stage_id,
        facts=input.facts,
        notify_kind=input.kind.value,
    )


def _unset_terms(input: NotifyInput) -> set[str]:
    """A forbearance notice's terms, left out of the body when unset: the bodies of every
    other notice stay byte for byte as they were (a retry across an upgrade matches its row)."""
    return {name for name in ("write_down_minor", "until") if getattr(input, name) is None}


def _ids(input: NotifyInput) -> dict[str, str]:
    return {"idempotency_key": input.idempotency_key, "stage_id": input.stage_id}


def _rejected(code: int | None) -> ApplicationError:
    return ApplicationError(
        f"the notify webhook refused the notice (HTTP {code})",
        {"status_code": code},
        type=NOTIFY_REJECTED,
        non_retryable=True,
    )
