"""Fixtures for side-effect tests: the API with Twilio settings, and a fake Twilio per test.

Uses the session's embedded Postgres and Temporal dev server (tests/integration/conftest.py);
runs no worker, so it never competes with the `stack` fixture's worker for tasks.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import httpx
import pytest
import uvicorn
from temporalio.client import Client

from api.app import create_app
from overdue.db import create_pool
from overdue.ports import free_tcp_ports
from overdue.settings import Settings
from overdue.temporal_client import connect
from tests.integration.conftest import ROOT
from tests.integration.side_effects.support import (
    TWILIO_ACCOUNT_SID,
    TWILIO_AUTH_TOKEN,
    TWILIO_FROM,
)
from workers.devstack.local_postgres import LocalPostgres
from workers.devstack.local_temporal import TemporalDevServer
from workers.fakes.twilio import FakeTwilio


@dataclass(frozen=True)
class TwilioStack:
    """The API (webhooks signed with TWILIO_AUTH_TOKEN), a pool and a Temporal client."""

    settings: Settings
    api: httpx.AsyncClient
    pool: asyncpg.Pool
    temporal: Client


@pytest.fixture(scope="session")
async def twilio_stack(
    postgres: LocalPostgres, temporal_dev_server: TemporalDevServer
) -> AsyncIterator[TwilioStack]:
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
    )
    temporal = await connect(settings)
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
            yield TwilioStack(settings=settings, api=api, pool=pool, temporal=temporal)
    finally:
        server.should_exit = True
        await serving
        await pool.close()


@pytest.fixture
async def fake_twilio(twilio_stack: TwilioStack) -> AsyncIterator[FakeTwilio]:
    """A fresh fake on a free port; its status callbacks reach twilio_stack's webhooks."""
    async with FakeTwilio(
        TWILIO_ACCOUNT_SID, TWILIO_AUTH_TOKEN, hang_seconds=3.0, callback_delay=0.01
    ) as fake:
        yield fake
