"""The agent console: server-rendered pages (zh-CN and en) for agents and supervisors."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse
from fastapi.staticfiles import StaticFiles
from starlette.responses import Response

from api.console import (
    auth_pages,
    evidence_pages,
    mailroom_pages,
    report_pages,
    supervisor_pages,
    task_pages,
)
from api.console.context import ConsoleError, LoginRequired, build_console
from api.console.rendering import render
from api.dependencies import get_services


def mount_console(app: FastAPI) -> None:
    app.include_router(auth_pages.router)
    app.include_router(task_pages.router)
    app.include_router(supervisor_pages.router)
    app.include_router(mailroom_pages.router)
    app.include_router(evidence_pages.router)  # borrowers' evidence files, audited
    app.include_router(report_pages.router)
    app.mount(
        "/console/static",
        StaticFiles(directory=Path(__file__).parent / "static"),
        name="console-static",
    )

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, _exc: LoginRequired) -> Response:
        return RedirectResponse("/console/login", status_code=303)

    @app.exception_handler(ConsoleError)
    async def _error(request: Request, exc: ConsoleError) -> Response:
        page = await build_console(request, get_services(request))
        return render(page, "error.html", exc.status, message=exc.message)
