"""Headers every answer carries, whatever produced it (routers, problem handlers, static files).

- `X-Content-Type-Options: nosniff` on everything: a browser never guesses a type.
- `Cache-Control: no-store` unless the answer set its own or is a static asset (scripts,
  styles, images, fonts): JSON answers and pages carry names, balances and SMS bodies, which no
  browser or proxy cache may keep.
- `Strict-Transport-Security` when the API's public URL is https (OVERDUE_PUBLIC_BASE_URL,
  OVERDUE_HSTS_MAX_AGE_SECONDS): a proxy terminates TLS, so the request we see is plain http
  and cannot tell us; the setting can.

uvicorn's own `server:` header is turned off where it is started (`overdue api`).
"""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

_CACHEABLE_TYPES = ("text/css", "text/javascript", "application/javascript", "image/", "font/")


class SecurityHeadersMiddleware:
    def __init__(self, app: ASGIApp, *, hsts_max_age: int | None) -> None:
        self.app = app
        self._hsts = f"max-age={hsts_max_age}" if hsts_max_age else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                content_type = headers.get("content-type", "")
                if "cache-control" not in headers and not content_type.startswith(_CACHEABLE_TYPES):
                    headers["Cache-Control"] = "no-store"
                if self._hsts is not None:
                    headers["Strict-Transport-Security"] = self._hsts
            await send(message)

        await self.app(scope, receive, send_with_headers)
