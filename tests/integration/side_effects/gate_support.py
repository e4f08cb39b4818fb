"""Running one contact of each channel through its activity, for the pre-send check's tests
(test_contact_gate.py, test_contact_gate_events.py)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
from temporalio.testing import ActivityEnvironment

from activities.call_tasks import CallTaskActivities
from activities.notify import NotifyActivities
from activities.sms import SmsActivities
from activities.sms_senders import RecordingSmsSender
from activities.sms_types import OutboundSms, SentSms
from overdue.settings import NotifyConfig
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import add_customer, sms_input
from workflows.contact_types import CreateCallTaskInput, DecisionBasis, NotifyInput
from workflows.policy import CallQueue, NotifyKind

CHANNELS = ("sms", "notify", "call_task")
# While the provider is being called: a chance to act (report a payment) before it answers.
DuringSend = Callable[[], Awaitable[None]]


@dataclass
class Contact:
    """One contact of a channel, ready to run: its account, key, stage and the activity call."""

    account_id: str
    idempotency_key: str
    stage_id: str
    run: Callable[[], Awaitable[object]]


async def _nothing() -> None:
    return None


class _SlowSender(RecordingSmsSender):
    """Records the message, after doing `during` while the 'provider' is being called."""

    def __init__(self, during: DuringSend) -> None:
        super().__init__()
        self._during = during

    async def send(self, message: OutboundSms) -> SentSms:
        await self._during()
        return await super().send(message)


async def contact(
    stack: TwilioStack,
    channel: str,
    basis: DecisionBasis,
    during: DuringSend = _nothing,
    *,
    kind: NotifyKind = NotifyKind.APP_NOTICE,
) -> Contact:
    """`kind`: the notice's, for the notify channel."""
    pool = stack.pool
    env = ActivityEnvironment()
    if channel == "sms":
        customer = await add_customer(pool)
        sms = sms_input(customer).model_copy(update={"basis": basis})
        activities = SmsActivities(pool, _SlowSender(during))
        return Contact(
            customer.account_id,
            sms.idempotency_key,
            sms.stage_id,
            lambda: env.run(activities.send_sms, sms),
        )
    account = f"acct-{uuid.uuid4().hex[:10]}"
    if channel == "notify":
        notice = NotifyInput(
            idempotency_key=f"{account}/e/d5_app/1",
            account_id=account,
            stage_id="d5_app",
            kind=kind,
            amount_minor=50_000,
            currency="CNY",
            days_past_due=5,
            basis=basis,
        )

        async def backend(request: httpx.Request) -> httpx.Response:
            await during()
            return httpx.Response(200)

        notify = NotifyActivities(
            pool,
            NotifyConfig(url="http://backend.invalid/notices", secret="s" * 32, timeout_seconds=5),
            transport=httpx.MockTransport(backend),
        )
        return Contact(
            account,
            notice.idempotency_key,
            notice.stage_id,
            lambda: env.run(notify.send_notification, notice),
        )
    task = CreateCallTaskInput(
        idempotency_key=f"{account}/e/d2_call/1",
        account_id=account,
        stage_id="d2_call",
        queue=CallQueue.GENERAL,
        priority=50,
        due_at=datetime.now(UTC),
        basis=basis,
    )
    calls = CallTaskActivities(pool)
    return Contact(
        account,
        task.idempotency_key,
        task.stage_id,
        lambda: env.run(calls.create_call_task, task),
    )


async def ledger_row(pool: asyncpg.Pool, key: str) -> asyncpg.Record:
    row = await pool.fetchrow(
        "SELECT channel, status, attempted_at, cleared_at FROM contact_ledger "
        "WHERE idempotency_key = $1",
        key,
    )
    assert row is not None
    return row


async def audit_rows(pool: asyncpg.Pool, account_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await pool.fetch(
        "SELECT kind, details FROM audit_events WHERE account_id = $1 ORDER BY id", account_id
    )
    return [(r["kind"], json.loads(r["details"])) for r in rows]
