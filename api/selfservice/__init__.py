"""Borrower self-service (docs/self-service.md): the pages a signed link in an SMS opens."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from api.selfservice import code_pages, pages, plan_pages
from api.selfservice.access import AccessRefused

STATIC_PATH = "/selfservice/static"


def mount_selfservice(app: FastAPI) -> None:
    app.include_router(pages.router)
    app.include_router(plan_pages.router)
    app.include_router(code_pages.router)
    app.mount(
        STATIC_PATH,
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="selfservice-static",
    )

    @app.exception_handler(AccessRefused)
    async def _refused(request: Request, exc: AccessRefused) -> Response:
        return pages.message_page(request, exc.status, exc.key)
