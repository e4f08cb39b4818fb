"""RFC 9457 problem details for every error the API returns.

Every 4xx (and the rare 5xx) answer is `application/problem+json` with `type`, `title`,
`status`, `detail` and `instance` (the request path), plus `request_id` and, for invalid
input, `errors`: one entry per field with where it was (`in`) and the reason.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

import asyncpg
from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from temporalio.service import RPCError, RPCStatusCode

from overdue.request_context import current_request_id
from overdue.store.sealed_texts import SubjectErased

PROBLEM_JSON = "application/problem+json"
logger = logging.getLogger(__name__)
# How long a client should wait before retrying after a 503: Temporal's dev server restarts in
# about that, and a relay finishes a recorded report in the meantime.
RETRY_AFTER_SECONDS = 5
# Errors that mean Postgres is down or unreachable, not that the request was wrong.
DATABASE_DOWN: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.InterfaceError,
    ConnectionError,
    OSError,
)


def temporal_unavailable(status: RPCStatusCode | None) -> bool:
    """Whether an RPC error means "Temporal did not answer in time" (worth a retry)."""
    return status in {
        RPCStatusCode.UNAVAILABLE,
        RPCStatusCode.DEADLINE_EXCEEDED,
        RPCStatusCode.RESOURCE_EXHAUSTED,
        # What the SDK reports when its own retries against a stopped server give up.
        RPCStatusCode.CANCELLED,
        RPCStatusCode.ABORTED,
    }


def unavailable(title: str, detail: str) -> Problem:
    """503 with Retry-After: a dependency did not answer; the request may be retried as is."""
    return Problem(503, title, detail, headers={"Retry-After": str(RETRY_AFTER_SECONDS)})


class FieldError(BaseModel):
    field: str = Field(description="Dotted path of the field, e.g. customer.phone.")
    in_: str = Field(alias="in", description="body, path, query or header.")
    reason: str


class ProblemDetails(BaseModel):
    """RFC 9457 problem details (the shape of every error answer)."""

    type: str = Field(default="about:blank")
    title: str
    status: int
    detail: str
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = Field(
        default=None, description="For 422: each invalid field and why."
    )


class Problem(HTTPException):
    """An error answer with a title and a precise detail."""

    def __init__(
        self,
        status: int,
        title: str,
        detail: str,
        *,
        headers: Mapping[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(status_code=status, detail=detail, headers=dict(headers or {}) or None)
        self.title = title
        self.extra = extra


def invalid_field(field: str, reason: str, where: str = "body") -> Problem:
    """422 for one field that passed the schema but not a check against stored data."""
    return Problem(
        422,
        "Invalid request",
        f"{field}: {reason}",
        errors=[{"field": field, "in": where, "reason": reason}],
    )


def problem_response(
    status: int,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    body["detail"] = detail
    if instance is not None:
        body["instance"] = instance
    request_id = current_request_id.get()
    if request_id:
        body["request_id"] = request_id
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI `responses=` entries documenting problem+json answers for these statuses."""
    return {
        status: {
            "model": ProblemDetails,
            "description": HTTPStatus(status).phrase,
            "content": {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}},
        }
        for status in statuses
    }


def _field(loc: tuple[Any, ...]) -> str:
    # ('body', 'customer', 'phone') -> 'customer.phone'; the location kind is a separate key.
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in {"body", "path", "query"} else loc
    return ".".join(str(p) for p in parts) or str(loc[0] if loc else "")


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field(tuple(err.get("loc", ()))),
                "in": str(err["loc"][0]) if err.get("loc") else "body",
                "reason": str(err.get("msg", "invalid")).removeprefix("Value error, "),
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem_response(
            422, "Invalid request", detail, instance=request.url.path, errors=errors
        )

    @app.exception_handler(Problem)
    async def _problem(request: Request, exc: Problem) -> JSONResponse:
        return problem_response(
            exc.status_code,
            exc.title,
            str(exc.detail),
            instance=request.url.path,
            headers=exc.headers,
            **exc.extra,
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        title = HTTPStatus(exc.status_code).phrase
        detail = str(exc.detail) if exc.detail != title else _default_detail(exc.status_code)
        return problem_response(
            exc.status_code, title, detail, instance=request.url.path, headers=exc.headers
        )

    @app.exception_handler(RPCError)
    async def _temporal(request: Request, exc: RPCError) -> JSONResponse:
        # Anything the handlers did not translate: Temporal is down or overloaded.
        status = exc.status.name if exc.status else "unknown"
        logger.error("Temporal call failed: %s (%s)", status, type(exc).__name__)
        down = temporal_unavailable(exc.status)
        return problem_response(
            503 if down else 500,
            "Workflow service unavailable" if down else "Internal error",
            "the workflow service did not answer; try again shortly"
            if down
            else "the request failed; quote the request id when reporting it",
            instance=request.url.path,
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)} if down else None,
        )

    @app.exception_handler(SubjectErased)
    async def _erased(request: Request, exc: SubjectErased) -> JSONResponse:
        # A text about an erased account (docs/privacy.md): nothing is kept for it any more.
        return problem_response(
            409,
            "Account erased",
            f"account {exc.subject!r} was erased on request; nothing more is kept for it",
            instance=request.url.path,
        )

    for error in DATABASE_DOWN:
        app.add_exception_handler(error, _database_down)


async def _database_down(request: Request, exc: Exception) -> JSONResponse:
    # TimeoutError is an OSError too: any dependency that did not answer in time lands here.
    logger.error("a dependency is unavailable: %s", type(exc).__name__)
    return problem_response(
        503,
        "Service unavailable",
        "the database (or another dependency) did not answer; try again shortly",
        instance=request.url.path,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def _default_detail(status: int) -> str:
    return {
        404: "no such resource; see /docs for the API's paths",
        405: "this path does not accept this method; see /docs",
    }.get(status, HTTPStatus(status).description)
