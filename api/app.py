"""The FastAPI application: backend REST API (and, later, the agent console and webhooks)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from api import accounts, problems
from api.dependencies import Services, ServicesDep
from overdue.db import create_pool
from overdue.policy_files import load_policy
from overdue.settings import Settings
from overdue.temporal_client import connect


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        policy = load_policy(settings.policy_file)  # fail at start, not on the first request
        pool = await create_pool(settings)
        try:
            temporal = await connect(settings)
            app.state.services = Services(
                settings=settings, pool=pool, temporal=temporal, policy=policy
            )
            yield
        finally:
            await pool.close()

    app = FastAPI(
        title="overdue-reminders API",
        version="0.1.0",
        description="Start overdue-account processes, report payments, read status.",
        lifespan=lifespan,
    )
    problems.install(app)
    app.include_router(accounts.router)

    @app.get("/healthz", tags=["health"])
    async def healthz() -> dict[str, str]:
        """The process is up."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["health"], response_model=None)
    async def readyz(services: ServicesDep) -> JSONResponse | dict[str, str]:
        """Temporal and Postgres are reachable."""
        checks: dict[str, str] = {}
        try:
            await services.pool.fetchval("SELECT 1")
            checks["postgres"] = "ok"
        except Exception as err:  # any failure means not ready; say which
            checks["postgres"] = f"unreachable: {type(err).__name__}"
        try:
            await services.temporal.service_client.check_health()
            checks["temporal"] = "ok"
        except Exception as err:
            checks["temporal"] = f"unreachable: {type(err).__name__}"
        if all(v == "ok" for v in checks.values()):
            return checks
        return JSONResponse(checks, status_code=503)

    return app
