"""Rendering console pages: Jinja2 templates (autoescaped), security headers, language cookie."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from api.console.context import CSRF_FIELD, Console
from workflows.currencies import format_minor

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
TEMPLATES.env.filters["money"] = lambda minor, currency: (
    f"{format_minor(minor, currency)} {currency}" if minor is not None else ""
)
TEMPLATES.env.filters["when"] = lambda moment: (
    moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""
)

# Pages show personal data: never cached, never framed, forms post only to ourselves.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def render(page: Console, template: str, status_code: int = 200, **values: Any) -> Response:
    context: dict[str, Any] = {
        "t": page.t,
        "lang": page.lang,
        "user": page.session.user if page.session else None,
        "csrf_field": CSRF_FIELD,
        "csrf_token": page.session.csrf_token if page.session else "",
        "here": page.request.url.path,
        **values,
    }
    response = TEMPLATES.TemplateResponse(page.request, template, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    return response
