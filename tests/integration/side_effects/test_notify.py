"""The notify activity against a local backend endpoint and embedded Postgres."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import pytest
from aiohttp import web
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.notify import (
    NOTIFY_FAILED,
    NOTIFY_REJECTED,
    NotifyActivities,
)
from overdue.settings import NotifyConfig
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import (
    Attempts,
    decided_now,
    report_payment,
    run_like_temporal,
)
from workflows.contact_types import CONTACT_WITHHELD, NotifyInput, NotifyResult
from workflows.policy import NotifyKind

pytestmark = pytest.mark.integration

SECRET = "backend-shared-secret-0123456789"


@dataclass
class Backend:
    """A backend endpoint that answers the queued statuses in turn (then 200)."""

    url: str = ""
    answers: list[int | str] = field(default_factory=list)  # a status, or "hang"
    received: list[tuple[bytes, dict[str, str]]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((await request.read(), dict(request.headers)))
        answer = self.answers.pop(0) if self.answers else 200
        if answer == "hang":
            await asyncio.sleep(2)
            answer = 200
        assert isinstance(answer, int)
        return web.json_response({"ok": answer < 300}, status=answer)


@pytest.fixture
async def backend() -> AsyncIterator[Backend]:
    backend = Backend()
    app = web.Application()
    app.router.add_post("/notices", backend.handle)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    backend.url = f"http://127.0.0.1:{runner.addresses[0][1]}/notices"
    yield backend
    await runner.cleanup()


@pytest.fixture
async def notify(twilio_stack: TwilioStack, backend: Backend) -> AsyncIterator[NotifyActivities]:
    activities = NotifyActivities(
        twilio_stack.pool, NotifyConfig(url=backend.url, secret=SECRET, timeout_seconds=0.5)
    )
    yield activities
    await activities.close()


def notice() -> NotifyInput:
    account = f"acct-{uuid.uuid4().hex[:10]}"
    return NotifyInput(
        idempotency_key=f"{account}/e/d5_app/1",
        account_id=account,
        stage_id="d5_app",
        kind=NotifyKind.APP_NOTICE,
        template_id="overdue_app_notice",
        amount_minor=50_000,
        currency="CNY",
        days_past_due=5,
    )


async def ledger(stack: TwilioStack, key: str) -> tuple[str, str | None, int | None]:
    row = await stack.pool.fetchrow(
        "SELECT status, error_code, response_code FROM contact_ledger WHERE idempotency_key = $1",
        key,
    )
    assert row is not None
    return row["status"], row["error_code"], row["response_code"]


async def test_a_signed_notice_is_delivered_once(
    twilio_stack: TwilioStack, backend: Backend, notify: NotifyActivities
) -> None:
    input = notice()
    result = await ActivityEnvironment().run(notify.send_notification, input)
    again = await ActivityEnvironment().run(notify.send_notification, input)

    assert result == NotifyResult(idempotency_key=input.idempotency_key, status_code=200)
    assert (again.status_code, again.already_sent) == (200, True)
    [(body, headers)] = backend.received
    expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Overdue-Signature"] == expected
    assert headers["X-Overdue-Idempotency-Key"] == input.idempotency_key
    assert headers["Content-Type"] == "application/json"
    payload = json.loads(body)
    assert payload["kind"] == "app_notice"
    assert (payload["account_id"], payload["amount_minor"]) == (input.account_id, 50_000)
    assert await ledger(twilio_stack, input.idempotency_key) == ("delivered", None, 200)


@pytest.mark.parametrize("first", [503, 500, 429, 408, "hang"])
async def test_transient_answers_retry_with_the_same_bytes_and_key(
    twilio_stack: TwilioStack, backend: Backend, notify: NotifyActivities, first: int | str
) -> None:
    backend.answers = [first]
    attempts = Attempts()
    input = notice()

    result = await run_like_temporal(notify.send_notification, input, attempts=attempts)

    assert isinstance(result, NotifyResult) and result.status_code == 200
    assert attempts.errors == [NOTIFY_FAILED]
    (body1, headers1), (body2, headers2) = backend.received[:2]
    assert body1 == body2
    assert headers1["X-Overdue-Idempotency-Key"] == headers2["X-Overdue-Idempotency-Key"]
    kind = "outcome_unknown" if first == "hang" else "provider_error"
    failures = await twilio_stack.pool.fetch(
        """
        SELECT e.kind, e.error_code FROM contact_events e
          JOIN contact_ledger l ON l.id = e.ledger_id
         WHERE l.idempotency_key = $1 AND e.kind <> 'status'
        """,
        input.idempotency_key,
    )
    assert [(f["kind"], f["error_code"]) for f in failures] == [
        (kind, "no_answer" if first == "hang" else f"http_{first}")
    ]


async def test_a_refusal_is_final_and_recorded(
    twilio_stack: TwilioStack, backend: Backend, notify: NotifyActivities
) -> None:
    backend.answers = [422]
    input = notice()
    for _ in range(2):
        with pytest.raises(ApplicationError) as refused:
            await ActivityEnvironment().run(notify.send_notification, input)
        assert (refused.value.type, refused.value.non_retryable) == (NOTIFY_REJECTED, True)
    assert len(backend.received) == 1
    assert await ledger(twilio_stack, input.idempotency_key) == ("rejected", "http_422", 422)


async def test_without_a_url_the_notice_is_recorded_once_and_the_stage_goes_on(
    twilio_stack: TwilioStack,
) -> None:
    unconfigured = NotifyActivities(twilio_stack.pool, None)
    input = notice()
    first = await ActivityEnvironment().run(unconfigured.send_notification, input)
    again = await ActivityEnvironment().run(unconfigured.send_notification, input)
    assert (first.already_sent, again.already_sent) == (False, True)
    rows = await twilio_stack.pool.fetch(
        "SELECT status, provider FROM contact_ledger WHERE idempotency_key = $1",
        input.idempotency_key,
    )
    assert [(r["status"], r["provider"]) for r in rows] == [("sent", "recording")]


async def test_a_payment_after_the_decision_withholds_the_notice(
    twilio_stack: TwilioStack, backend: Backend, notify: NotifyActivities
) -> None:
    input = notice()
    basis = await decided_now(twilio_stack.pool)
    await report_payment(twilio_stack.pool, input.account_id, "PAY-1")
    input = input.model_copy(update={"basis": basis})

    for _ in range(2):
        with pytest.raises(ApplicationError) as withheld:
            await ActivityEnvironment().run(notify.send_notification, input)
        assert (withheld.value.type, withheld.value.non_retryable) == (CONTACT_WITHHELD, True)

    assert backend.received == []
    assert await ledger(twilio_stack, input.idempotency_key) == ("withheld", None, None)
