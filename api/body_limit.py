"""Refuse request bodies over the configured size with a 413 problem, before they are parsed."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from api.problems import Problem, problem_response


class BodyTooLarge(Problem):
    def __init__(self, max_bytes: int) -> None:
        super().__init__(
            413,
            "Request body too large",
            f"the body is larger than the limit of {max_bytes} bytes",
        )


class BodySizeLimitMiddleware:
    """Checks Content-Length up front and counts streamed (chunked) bodies as they arrive.

    A body found too large while a handler reads it raises `BodyTooLarge`, a `Problem`, so the
    app's problem handler answers it (FastAPI passes HTTP exceptions from body reading through).
    """

    def __init__(self, app: ASGIApp, max_bytes: int, larger: dict[str, int] | None = None) -> None:
        self.app = app
        self.default_max_bytes = max_bytes
        self.larger = larger or {}  # path prefix -> its own limit (pages that take files)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        max_bytes = next(
            (n for prefix, n in self.larger.items() if scope["path"].startswith(prefix)),
            self.default_max_bytes,
        )
        declared = next((v for k, v in scope["headers"] if k == b"content-length"), None)
        if declared is not None and declared.isdigit() and int(declared) > max_bytes:
            too_large = BodyTooLarge(max_bytes)
            response = problem_response(
                413, too_large.title, str(too_large.detail), instance=scope["path"]
            )
            await response(scope, receive, send)
            return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_bytes:
                    raise BodyTooLarge(max_bytes)
            return message

        await self.app(scope, counting_receive, send)
