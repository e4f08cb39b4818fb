"""Helpers for the Alibaba path's tests: the API with a receipt token, the fake, CN inputs."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import asyncpg
import httpx
import pytest
import uvicorn

from activities.alibaba_sender import AlibabaSmsSender
from api.app import create_app
from overdue.db import create_pool
from overdue.ports import free_tcp_ports
from overdue.settings import Settings
from overdue.settings_alibaba import AlibabaConfig
from tests.integration.conftest import ROOT
from tests.integration.side_effects.support import (
    CLIENT_TIMEOUT,
    TEMPLATES,
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
    Customer,
    sms_input,
)
from tests.integration.support import CUSTOMER_ZONE
from workers.devstack.local_postgres import LocalPostgres
from workers.devstack.local_temporal import TemporalDevServer
from workers.fakes.alibaba import FakeAlibaba, registered_text
from workflows.contact_types import ContactFacts, SendSmsInput
from workflows.provider_templates import RegisteredTemplate

KEY_ID = "LTAI5tIntegrationKey"
SECRET = "fake-alibaba-access-key-secret"
RECEIPT_TOKEN = "receipt-token-for-tests-0123456789"
SIGN = "某某消费金融"
CODES = {"zh-CN": "SMS_465000101", "en": "SMS_465000102"}
REGISTERED = {
    "alibaba": {
        locale: RegisteredTemplate(sign_name=SIGN, template_code=code)
        for locale, code in CODES.items()
    }
}


@dataclass(frozen=True)
class AlibabaStack:
    """The API (receipts accepted with RECEIPT_TOKEN, Twilio webhooks as twilio_stack's)."""

    settings: Settings
    api: httpx.AsyncClient
    pool: asyncpg.Pool

    @property
    def receipt_url(self) -> str:
        return f"{self.settings.api_url}/webhooks/alibaba/receipts?token={RECEIPT_TOKEN}"


@pytest.fixture(scope="session")
async def alibaba_stack(
    postgres: LocalPostgres, temporal_dev_server: TemporalDevServer
) -> AsyncIterator[AlibabaStack]:
    (api_port,) = free_tcp_ports(1)
    settings = Settings(
        database_url=postgres.url,
        db_pool_max_size=20,
        temporal_host=temporal_dev_server.host,
        temporal_port=temporal_dev_server.port,
        temporal_ui_port=temporal_dev_server.ui_port,
        api_port=api_port,
        policy_file=ROOT / "tests" / "policies" / "fast.yaml",
        twilio_account_sid=TWILIO_ACCOUNT_SID,
        twilio_auth_token=TWILIO_AUTH_TOKEN,
        twilio_from=TWILIO_FROM,
        alibaba_receipt_token=RECEIPT_TOKEN,
    )
    pool = await create_pool(settings)
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(settings),
            host=settings.api_host,
            port=api_port,
            log_config=None,
            access_log=False,
        )
    )
    serving = asyncio.create_task(server.serve())
    try:
        async with httpx.AsyncClient(base_url=settings.api_url, timeout=30) as api:
            while not server.started:
                if serving.done():
                    serving.result()  # raises the start-up error
                await asyncio.sleep(0.05)
            yield AlibabaStack(settings=settings, api=api, pool=pool)
    finally:
        server.should_exit = True
        await serving
        await pool.close()


def fake_alibaba(receipt_url: str | None) -> FakeAlibaba:
    """The fake with the tests' templates registered; hangs outlast the client's timeout."""
    return FakeAlibaba(
        KEY_ID,
        SECRET,
        receipt_url=receipt_url,
        templates={CODES[locale]: registered_text(TEMPLATES[locale]) for locale in CODES},
        hang_seconds=3.0,
        receipt_delay=0.01,
    )


def alibaba_sender(url: str) -> AlibabaSmsSender:
    config = AlibabaConfig(
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        protocol="HTTP",
        endpoint=url.removeprefix("http://"),
        timeout_seconds=CLIENT_TIMEOUT,
    )
    return AlibabaSmsSender(config, list_settle=timedelta(seconds=0.2))


def cn_facts(jurisdiction: str = "CN") -> ContactFacts:
    return ContactFacts(
        basis="stage",
        decided_at=datetime.now(UTC),
        policy_id="residency-test",
        policy_version=1,
        jurisdiction=jurisdiction,
        time_zone=CUSTOMER_ZONE,
        window_start=time(8),
        window_end=time(22),
        sms_per_day=3,
        sms_per_week=5,
        calls_per_day=2,
        calls_per_7_days=3,
        sms_opted_out=False,
        contact_ceased=False,
        open_disputes=0,
        vulnerable=False,
    )


def routed_input(
    customer: Customer, stage_id: str, *, days_past_due: int = 1, jurisdiction: str = "CN"
) -> SendSmsInput:
    """An SMS input as the workflow writes it under a policy that maps its templates."""
    return sms_input(customer, stage_id, days_past_due=days_past_due).model_copy(
        update={"facts": cn_facts(jurisdiction), "registered": REGISTERED}
    )
