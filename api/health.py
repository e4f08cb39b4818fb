"""Liveness and readiness, without authentication (for load balancers and orchestrators)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from datetime import timedelta

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.dependencies import ServicesDep
from overdue.store.transactions import ping

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


# Each check gives up after this; they run side by side, so /readyz answers within about it
# whatever is down (a load balancer's probe typically times out at 2-5 s).
CHECK_SECONDS = 1.5


async def _check(name: str, probe: Awaitable[object]) -> tuple[str, str]:
    try:
        async with asyncio.timeout(CHECK_SECONDS):
            await probe
    except TimeoutError:
        return name, f"no answer within {CHECK_SECONDS:g} s"
    except Exception as err:  # any failure means not ready; say which
        return name, f"unreachable: {type(err).__name__}"
    return name, "ok"


@router.get(
    "/readyz",
    response_model=dict[str, str],
    responses={503: {"model": dict[str, str], "description": "A dependency is unreachable."}},
)
async def readyz(services: ServicesDep) -> JSONResponse | dict[str, str]:
    """Temporal and Postgres are reachable (each checked for at most 1.5 s, concurrently)."""
    results = await asyncio.gather(
        _check("postgres", ping(services.pool)),
        _check(
            "temporal",
            services.temporal.service_client.check_health(timeout=timedelta(seconds=CHECK_SECONDS)),
        ),
    )
    checks = dict(results)
    if all(v == "ok" for v in checks.values()):
        return checks
    return JSONResponse(checks, status_code=503, headers={"Retry-After": "5"})
