"""The FastAPI application: backend REST API, agent console and Twilio webhooks."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline

from api import (
    account_events,
    account_list,
    accounts,
    alibaba_receipts,
    consents,
    erasure,
    forbearance,
    forbearance_end,
    health,
    problems,
    risk_score_routes,
    subject_access,
    timeline,
    vulnerability,
    webhooks,
)
from api.body_limit import BodySizeLimitMiddleware
from api.console import mount_console
from api.console.login_throttle import LoginThrottle
from api.dependencies import Services
from api.relay import run_relay
from api.request_id import RequestIdMiddleware
from api.security_headers import SecurityHeadersMiddleware
from api.selfservice import mount_selfservice
from api.workflow_calls import with_deadlines
from overdue.db import create_pool
from overdue.policy_files import load_policy
from overdue.privacy_keys import keyring_from, use_keyring
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
        # Fail at start, not on the first request; routes need registered templates.
        policy = load_policy(settings.policy_file, sms_senders=settings.sms_route_map().values())
        use_keyring(keyring_from(settings))  # so do the privacy keys (docs/privacy.md)
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

    # /docs with Swagger UI from a pinned package, served by us: no CDN, so it renders offline
    # and no third party learns who reads our docs. No /redoc: ReDoc's bundle still fetches
    # its logo from Redocly's CDN.
    app = FastAPIOffline(
        redoc_url=None,
        title="overdue-reminders API",
        version="0.2.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.state.login_throttle = LoginThrottle(
        settings.login_attempts_per_minute,
        settings.login_client_attempts_per_minute,
        settings.login_max_lockout_seconds,
    )
    problems.install(app)
    # Outermost last: security headers on every answer (the request id's 500s too), the
    # request id around everything else, the size limit around the app.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_bytes=settings.api_max_body_bytes,
        # The borrower's evidence files: their own, larger limit (docs/self-service.md).
        larger={"/s/": settings.selfservice_max_body_bytes},
    )
    app.add_middleware(RequestIdMiddleware)
    hsts = settings.hsts_max_age_seconds if settings.public_url_is_https else None
    app.add_middleware(SecurityHeadersMiddleware, hsts_max_age=hsts)
    app.include_router(account_list.router)
    app.include_router(accounts.router)
    app.include_router(account_events.router)
    app.include_router(vulnerability.router)
    app.include_router(forbearance.router)
    app.include_router(forbearance_end.router)
    app.include_router(consents.router)
    app.include_router(timeline.router)
    app.include_router(risk_score_routes.router)
    app.include_router(erasure.router)
    app.include_router(subject_access.router)
    app.include_router(health.router)
    app.include_router(webhooks.router)  # Twilio signs these: no API key
    app.include_router(alibaba_receipts.router)  # a shared token in the URL: no API key
    mount_console(app)
    mount_selfservice(app)  # the borrower's pages (docs/self-service.md)
    return app
