"""What every fake's control API shares: the bearer-token guard and the JSON body parser.

The fakes (Twilio, Alibaba Cloud SMS) differ in their protocol and their control routes; how a
control request is authenticated and how a bad body is answered is the same for both.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from typing import TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


def token_guard(token: str) -> Callable[[Handler], Handler]:
    """A decorator answering 401 unless the request carries `Authorization: Bearer <token>`."""
    expected = f"Bearer {token}".encode()

    def guarded(handler: Handler) -> Handler:
        async def with_token(request: web.Request) -> web.StreamResponse:
            sent = request.headers.get("Authorization", "").encode()
            if not hmac.compare_digest(sent, expected):
                return web.json_response(
                    {"error": "send the control token as `Authorization: Bearer <token>`"},
                    status=401,
                    headers={"WWW-Authenticate": "Bearer"},
                )
            return await handler(request)

        return with_token

    return guarded


async def parse_body(request: web.Request, model: type[M]) -> M | web.Response:
    """The body as `model`, or a 422 answer naming what is wrong."""
    try:
        return model.model_validate(await request.json())
    except ValueError as err:  # JSON errors and ValidationError
        detail = (
            "; ".join(
                f"{'.'.join(str(p) for p in e['loc']) or 'body'}: {e['msg']}" for e in err.errors()
            )
            if isinstance(err, ValidationError)
            else f"not JSON: {err}"
        )
        return web.json_response({"error": detail}, status=422)
