"""The FastAPI application: backend REST API, agent console and Twilio webhooks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api import account_events, account_list, accounts, health, problems, timeline, webhooks
from api.body_limit import BodySizeLimitMiddleware
from api.console import mount_console
from api.dependencies import Services
from api.relay import run_relay
from api.request_id import RequestIdMiddleware
from api.workflow_calls import with_deadlines
from overdue.db import create_pool
from overdue.policy_files import load_policy
from overdue.settings import Settings
from overdue.temporal_client import connect

DESCRIPTION = """\
Start overdue-account processes, report payments and other events, read status and timelines.

Every call needs `Authorization: Bearer <key>` (keys from `overdue api-keys add`, with scopes);
every error is `application/problem+json` (RFC 9457); every answer carries `X-Request-ID`.
See docs/api.md.
"""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        policy = load_policy(settings.policy_file)  # fail at start, not on the first request
        pool = await create_pool(settings)
        try:
            # Lazy: the API starts (and answers 503) while Temporal is down or restarting.
            temporal = with_deadlines(await connect(settings, lazy=True))
            services = Services(settings=settings, pool=pool, temporal=temporal, policy=policy)
            app.state.services = services
            relay = asyncio.create_task(run_relay(services), name="outbox-relay")
            try:
                yield
            finally:
                relay.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await relay
        finally:
            await pool.close()

    app = FastAPI(
        title="overdue-reminders API",
        version="0.2.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    problems.install(app)
    # Outermost last: the request id wraps everything, the size limit everything else.
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=settings.api_max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    app.include_router(account_list.router)
    app.include_router(accounts.router)
    app.include_router(account_events.router)
    app.include_router(timeline.router)
    app.include_router(health.router)
    app.include_router(webhooks.router)  # Twilio signs these: no API key
    mount_console(app)
    return app
