"""Liveness and readiness, without authentication (for load balancers and orchestrators)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from api.dependencies import ServicesDep
from overdue.store.transactions import ping

router = APIRouter(tags=["health"])


@router.get("/healthz")
async def healthz() -> dict[str, str]:
    """The process is up."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    response_model=dict[str, str],
    responses={503: {"model": dict[str, str], "description": "A dependency is unreachable."}},
)
async def readyz(services: ServicesDep) -> JSONResponse | dict[str, str]:
    """Temporal and Postgres are reachable."""
    checks: dict[str, str] = {}
    try:
        await ping(services.pool)
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
