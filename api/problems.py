"""RFC 9457 problem details for every error the API returns."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

PROBLEM_JSON = "application/problem+json"


class Problem(HTTPException):
    """An error answer with a title and a precise detail."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(status_code=status, detail=detail)
        self.title = title
        self.extra = extra


def problem_response(status: int, title: str, detail: str, **extra: Any) -> JSONResponse:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def _field(loc: tuple[Any, ...]) -> str:
    # ('body', 'customer', 'phone') -> 'customer.phone'; the location kind is a separate key.
    parts = [str(p) for p in loc[1:]] if loc and loc[0] in {"body", "path", "query"} else loc
    return ".".join(str(p) for p in parts) or str(loc[0] if loc else "")


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {
                "field": _field(tuple(err.get("loc", ()))),
                "in": str(err["loc"][0]) if err.get("loc") else "body",
                "reason": str(err.get("msg", "invalid")).removeprefix("Value error, "),
            }
            for err in exc.errors()
        ]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors)
        return problem_response(422, "Invalid request", detail, errors=errors)

    @app.exception_handler(Problem)
    async def _problem(_request: Request, exc: Problem) -> JSONResponse:
        return problem_response(exc.status_code, exc.title, str(exc.detail), **exc.extra)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem_response(exc.status_code, str(exc.detail), str(exc.detail))
