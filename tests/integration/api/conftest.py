"""Fixtures of the API's integration tests."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest

from api.app import create_app
from overdue.ports import free_tcp_ports
from overdue.settings import Settings
from overdue.store.api_keys import ALL_SCOPES, add_key
from tests.integration.conftest import Stack


@pytest.fixture
async def cut_off(stack: Stack) -> AsyncIterator[httpx.AsyncClient]:
    """An API whose Temporal is a port nobody listens on."""
    (dead_port,) = free_tcp_ports(1)
    settings = Settings(
        database_url=stack.settings.database_url,
        temporal_host=stack.settings.temporal_host,
        temporal_port=dead_port,
        policy_file=stack.settings.policy_file,
    )
    app = create_app(settings)
    async with stack.pool.acquire() as conn:
        _, key = await add_key(conn, f"t-{uuid.uuid4().hex[:8]}", ALL_SCOPES)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app),
            base_url="http://cut-off",
            headers={"Authorization": f"Bearer {key}"},
            timeout=30,
        ) as client,
    ):
        yield client
