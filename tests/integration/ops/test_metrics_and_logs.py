"""The worker's Prometheus endpoint and JSON logs, from a real `overdue worker` process.

The worker runs against a Temporal dev server of this module's own (so it never competes with
the session's in-process worker), the session's Postgres, and a fake Twilio that refuses one
number with 21610. After two accounts' first stages and a payment, one scrape must show the
SDK's metrics and every product metric, and every line the process wrote must be JSON with
the workflow's and account's ids and no personal data.
"""

from __future__ import annotations

import io
import json
import logging
import os
import re
import sys
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from api.dependencies import Services
from api.overdue_reports import report_bill
from api.schemas import OverdueReport
from overdue.logs import build_handler
from overdue.policy_files import load_policy
from overdue.ports import free_tcp_ports
from overdue.settings import Settings
from overdue.temporal_client import connect
from tests.integration.conftest import ROOT, Stack
from tests.integration.side_effects.support import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
)
from tests.integration.support import NAME, PHONE, eventually, overdue_body
from workers.devstack.local_postgres import LocalPostgres
from workers.devstack.local_temporal import TemporalDevServer
from workers.devstack.processes import ChildProcess
from workers.fakes.twilio import FakeTwilio
from workflows.names import WORKFLOW_TYPE, workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import PaymentReported

pytestmark = pytest.mark.integration

OPTED_OUT_PHONE = "+8613912340000"
READY = "worker polling task queues"
_SAMPLE = re.compile(r"^(?P<name>[a-zA-Z_:][\w:]*)(?:\{(?P<labels>.*)\})? (?P<value>\S+)$")


@dataclass
class ObservedWorker:
    settings: Settings
    services: Services
    metrics_url: str
    lines: list[str]


def samples(text: str) -> list[tuple[str, dict[str, str], float]]:
    """Prometheus text format: (name, labels, value) for every sample line."""
    found = []
    for line in text.splitlines():
        match = _SAMPLE.match(line)
        if match and not line.startswith("#"):
            labels = dict(re.findall(r'(\w+)="([^"]*)"', match["labels"] or ""))
            found.append((match["name"], labels, float(match["value"])))
    return found


def value(scraped: str, name: str, **labels: str) -> float:
    """The sum over samples of `name` whose labels include `labels` (0 when none)."""
    return sum(
        v
        for n, have, v in samples(scraped)
        if n == name and all(have.get(k) == want for k, want in labels.items())
    )


@pytest.fixture(scope="module")
async def observed_worker(postgres: LocalPostgres) -> AsyncIterator[ObservedWorker]:
    (metrics_port,) = free_tcp_ports(1)
    lines: list[str] = []
    async with (
        TemporalDevServer.on_free_ports() as server,
        FakeTwilio(TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN) as fake,
    ):
        fake.fail_number(OPTED_OUT_PHONE, 21610)
        settings = Settings(
            database_url=postgres.url,
            temporal_host=server.host,
            temporal_port=server.port,
            temporal_ui_port=server.ui_port,
            policy_file=ROOT / "tests" / "policies" / "fast.yaml",
        )
        env = {
            **os.environ,
            "DATABASE_URL": postgres.url,
            "OVERDUE_TEMPORAL_PORT": str(server.port),
            "OVERDUE_WORKER_METRICS_ADDRESS": f"127.0.0.1:{metrics_port}",
            "OVERDUE_LOG_FORMAT": "json",
            "OVERDUE_LOG_LEVEL": "INFO",
            "OVERDUE_SMS_SENDER": "twilio",
            "OVERDUE_TWILIO_ACCOUNT_SID": TWILIO_ACCOUNT_SID,
            "OVERDUE_TWILIO_AUTH_TOKEN": TWILIO_AUTH_TOKEN,
            "OVERDUE_TWILIO_FROM": TWILIO_FROM,
            "OVERDUE_TWILIO_API_BASE": fake.url,
            "PYTHONUNBUFFERED": "1",
        }
        worker = await ChildProcess.spawn(
            "worker",
            [sys.executable, "-m", "workers.cli.main", "worker"],
            on_line=lines.append,
            env=env,
        )
        pool = await asyncpg.create_pool(postgres.url, min_size=1, max_size=4)
        assert pool is not None
        try:

            async def ready() -> bool:
                if worker.returncode is not None:
                    raise AssertionError("worker exited:\n" + "\n".join(lines))
                return any(READY in line for line in lines)

            await eventually(ready, within=60)
            services = Services(
                settings=settings,
                pool=pool,
                temporal=await connect(settings),
                policy=load_policy(settings.policy_file),
            )
            yield ObservedWorker(settings, services, f"http://127.0.0.1:{metrics_port}", lines)
        finally:
            await worker.stop(grace=15)
            await pool.close()


async def start(services: Services, phone: str) -> str:
    account = f"obs-{uuid.uuid4().hex[:10]}"
    body = overdue_body()
    body["customer"]["phone"] = phone
    await report_bill(services, account, OverdueReport.model_validate(body), "ops:test")
    return account


async def test_the_worker_serves_sdk_and_product_metrics(observed_worker: ObservedWorker) -> None:
    services = observed_worker.services
    paying = await start(services, PHONE)
    opted_out = await start(services, OPTED_OUT_PHONE)

    async def ledger(account: str, channel: str) -> str | None:
        status: str | None = await services.pool.fetchval(
            "SELECT status FROM contact_ledger WHERE account_id = $1 AND channel = $2",
            account,
            channel,
        )
        return None if status in (None, "pending") else status

    assert await eventually(lambda: ledger(opted_out, "sms")) == "rejected"
    await eventually(lambda: ledger(paying, "sms"))
    await eventually(lambda: ledger(paying, "call_task"))  # t3s_call, 3 s after the start
    handle = services.temporal.get_workflow_handle_for(
        OverdueAccountWorkflow.run, workflow_id(paying)
    )
    await handle.signal(
        OverdueAccountWorkflow.report_payment,
        PaymentReported(
            payment_id="P-1", amount_minor=50_000, currency="CNY", paid_at=datetime.now(UTC)
        ),
    )
    await handle.result()

    async with httpx.AsyncClient(timeout=5) as http:

        async def scraped() -> str | None:
            text = (await http.get(f"{observed_worker.metrics_url}/metrics")).text
            done = value(text, "temporal_workflow_completed_total") >= 1 and value(
                text, "overdue_signal_to_effect_seconds_count", signal="report_payment"
            )
            return text if done else None

        text = await eventually(scraped)

    # The SDK's own metrics, named as Temporal's dashboards expect.
    assert value(text, "temporal_workflow_completed_total", workflow_type=WORKFLOW_TYPE)
    assert value(
        text, "temporal_activity_execution_latency_seconds_count", activity_type="send_sms"
    )
    # The product's.
    assert value(text, "overdue_reminders_total", channel="sms", stage="t1s_sms") >= 1
    assert value(text, "overdue_reminders_total", channel="call_task", stage="t3s_call") >= 1
    assert (
        value(
            text,
            "overdue_provider_errors_total",
            channel="sms",
            code="21610",
            kind="RecipientOptedOut",
        )
        == 1
    )
    assert value(text, "overdue_signal_to_effect_seconds_count", signal="report_payment") == 1
    latency = value(text, "overdue_signal_to_effect_seconds_sum", signal="report_payment")
    assert 0 <= latency < 30
    for queue in ("general", "specialist", "supervisor"):
        assert any(
            n == "overdue_open_call_tasks"
            and labels == {**labels, "queue": queue, "status": "open"}
            for n, labels, _ in samples(text)
        ), queue
    assert "overdue_oldest_due_call_task_age_seconds" in text
    # The relay's outboxes, read from Postgres like the call tasks (what the API left there).
    for outbox in ("event", "bill"):
        for state in ("pending", "given_up"):
            assert any(
                n == "overdue_relay_reports"
                and labels.get("outbox") == outbox
                and labels.get("state") == state
                and v >= 0
                for n, labels, v in samples(text)
            ), (outbox, state)
        assert value(text, "overdue_relay_oldest_pending_age_seconds", outbox=outbox) >= 0

    # Every line the worker wrote is JSON; activity lines name the workflow and the account.
    records = [json.loads(line) for line in observed_worker.lines]
    sms_lines = [r for r in records if r.get("activity_type") == "send_sms"]
    assert {r["account_id"] for r in sms_lines} >= {paying, opted_out}
    assert all(r["workflow_id"] == workflow_id(r["account_id"]) for r in sms_lines)
    assert any(r["level"] == "WARNING" and r["account_id"] == opted_out for r in sms_lines)
    everything = "\n".join(observed_worker.lines)
    assert NAME not in everything and PHONE not in everything
    assert OPTED_OUT_PHONE not in everything


async def test_json_api_lines_carry_the_request_id(stack: Stack) -> None:
    stream = io.StringIO()
    handler = build_handler("json", stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    account = f"json-{uuid.uuid4().hex[:8]}"
    try:
        answer = await stack.api.put(
            f"/v1/accounts/{account}/overdue",
            json=overdue_body(),
            headers={"X-Request-ID": "req-json-1"},
        )
        assert answer.status_code == 201, answer.text

        async def sms_logged() -> bool:
            return f'"workflow_id": "{workflow_id(account)}"' in stream.getvalue()

        await eventually(sms_logged, within=timedelta(seconds=20).total_seconds())
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    started = next(r for r in records if r["message"] == "overdue process started")
    assert started["request_id"] == "req-json-1" and started["account_id"] == account
    access = next(r for r in records if r["logger"] == "api.access")
    assert access["request_id"] == "req-json-1"
    activity_line = next(r for r in records if r.get("workflow_id") == workflow_id(account))
    assert activity_line["account_id"] == account and activity_line["activity_type"]
    assert NAME not in stream.getvalue() and PHONE not in stream.getvalue()
