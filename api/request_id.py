"""X-Request-ID on every response and every log line of a request; one access-log line each.

A client's X-Request-ID is kept when it is a short token of safe characters; otherwise (absent,
too long, odd characters that could forge log lines) the API makes a new one. The middleware is
the outermost layer, so it also turns an unhandled error into a 500 problem+json that carries
the id, and logs the error once without request data.

Lines name the route's template (`/v1/accounts/{account_id}`), never the path as sent: a path
carries whatever the caller put in it, a phone number where an account id belongs or a forged
line break, even when the request is refused before any route is chosen.
"""

from __future__ import annotations

import logging
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import problem_response
from overdue.request_context import current_request_id

HEADER = "X-Request-ID"
_VALID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:+=/-]{0,127}$")
logger = logging.getLogger("api.access")


UNKNOWN_SEGMENT = "{?}"


def logged_path(scope: Scope) -> str:
    """The path as a log line may show it: the matched route's template, or for a path no
    route matched, its segments that are literal parts of some route, the others `{?}`."""
    route = scope.get("route")
    template = getattr(route, "path_format", None) or getattr(route, "path", None)
    if isinstance(template, str):
        return template
    literal = _literal_segments(getattr(scope.get("app"), "routes", []))
    segments = str(scope.get("path", "")).split("/")
    return "/".join(p if p in literal or not p else UNKNOWN_SEGMENT for p in segments)


def _literal_segments(routes: list[BaseRoute]) -> frozenset[str]:
    paths = [str(getattr(r, "path", "")) for r in routes]
    return frozenset(p for path in paths for p in path.split("/") if p and "{" not in p)


def accepted_or_new(value: str | None) -> str:
    if value and _VALID.fullmatch(value):
        return value
    return uuid.uuid4().hex


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        sent = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), None
        )
        request_id = accepted_or_new(sent)
        token = current_request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        response_started = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                response_started = True
                status = message["status"]
                MutableHeaders(scope=message)[HEADER] = request_id
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error in %s %s", scope["method"], logged_path(scope))
            if not response_started:
                response = problem_response(
                    500,
                    "Internal error",
                    "the request failed; quote the request id when reporting it",
                    instance=scope["path"],
                )
                await response(scope, receive, send_with_id)
        finally:
            elapsed_ms = (time.perf_counter() - started) * 1000
            # The route, not the path as sent (see the module); query strings are left out.
            logger.info(
                "%s %s -> %d in %.0f ms", scope["method"], logged_path(scope), status, elapsed_ms
            )
            current_request_id.reset(token)
