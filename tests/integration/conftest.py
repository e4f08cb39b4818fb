"""The real stack for integration tests: Temporal dev server, embedded Postgres, worker, API.

Everything runs on free ports and in temporary folders, so a running `make run` is unaffected.
"""

from __future__ import annotations

import asyncio
import shutil
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest
import uvicorn
from playwright.async_api import Browser, async_playwright
from temporalio.client import Client

from activities.sms_senders import RecordingSmsSender
from api.app import create_app
from overdue.db import create_pool
from overdue.migrate import upgrade_async
from overdue.ports import free_tcp_ports
from overdue.settings import Settings
from overdue.store.api_keys import ALL_SCOPES, add_key
from overdue.temporal_client import connect
from workers.devstack.local_postgres import LocalPostgres, start_local_postgres_async
from workers.devstack.local_temporal import TemporalDevServer
from workers.main import build_sms_worker, build_worker
from workers.policy_codec import PolicyShelfCodec

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Stack:
    settings: Settings
    api: httpx.AsyncClient
    pool: asyncpg.Pool
    temporal: Client
    sender: RecordingSmsSender
    api_key: str = ""  # every scope; `api` already sends it


@pytest.fixture(scope="session")
async def postgres(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalPostgres]:
    server = await start_local_postgres_async(tmp_path_factory.mktemp("pg") / "data")
    try:
        await upgrade_async(server.url)
        yield server
    finally:
        await server.stop_async()


@pytest.fixture
async def scratch_database(postgres: LocalPostgres) -> AsyncIterator[str]:
    """An empty database on the session's server, dropped afterwards."""
    name = f"migration_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(postgres.admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
        yield urlunsplit(urlsplit(postgres.url)._replace(path=f"/{name}"))
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
async def temporal_dev_server() -> AsyncIterator[TemporalDevServer]:
    async with TemporalDevServer.on_free_ports() as server:
        yield server


@pytest.fixture(scope="session")
async def stack(
    postgres: LocalPostgres, temporal_dev_server: TemporalDevServer
) -> AsyncIterator[Stack]:
    (api_port,) = free_tcp_ports(1)
    settings = Settings(
        database_url=postgres.url,
        temporal_host=temporal_dev_server.host,
        temporal_port=temporal_dev_server.port,
        temporal_ui_port=temporal_dev_server.ui_port,
        api_port=api_port,
        policy_file=ROOT / "tests" / "policies" / "fast.yaml",
        # Every test logs in from 127.0.0.1: the per-client limit is tested on its own.
        login_client_attempts_per_minute=1000,
    )
    pool = await create_pool(settings)
    # The worker's client, as workers/main.py builds it (the API's needs no codec).
    temporal = await connect(settings, payload_codec=PolicyShelfCodec(pool))
    async with pool.acquire() as conn:
        _, api_key = await add_key(conn, f"tests-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    sender = RecordingSmsSender()
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
        async with (
            build_worker(temporal, pool),
            build_sms_worker(temporal, pool, sender, rate_per_second=100),
            httpx.AsyncClient(
                base_url=settings.api_url,
                timeout=30,
                headers={"Authorization": f"Bearer {api_key}"},
            ) as api,
        ):
            while not server.started:
                if serving.done():
                    serving.result()  # raises the start-up error
                await asyncio.sleep(0.05)
            yield Stack(
                settings=settings,
                api=api,
                pool=pool,
                temporal=temporal,
                sender=sender,
                api_key=api_key,
            )
    finally:
        server.should_exit = True
        await serving
        await pool.close()


# Debian's Chromium, never a downloaded one; flags that keep it off the network and quiet.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    chromium = shutil.which("chromium")
    if chromium is None:  # a failure, never a skip: an untested page is not a passing one
        pytest.fail(
            "no `chromium` on PATH: `make test` installs it (scripts/debian-packages); "
            "or run `apt-get install -y chromium fonts-noto-cjk`"
        )
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()
