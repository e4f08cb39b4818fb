"""The fake's control API for dev use (JSON), doing what FakeTwilio's in-process methods do:

GET  /_fake/messages                 every message, newest last
GET  /_fake/faults                   the faults injected so far
POST /_fake/faults                   {"queue": [...], "rate": 0.2, "seed": 1, "kinds": [...]}
POST /_fake/numbers                  {"number": "+1...", "create_error": 21610}
                                     {"number": "+1...", "delivery_error": 30003}
POST /_fake/inbound                  {"url": ".../webhooks/twilio/inbound",
                                      "from": "+1...", "body": "STOP"}
POST /_fake/reset

Every /_fake/* call needs `Authorization: Bearer <control token>` (401 otherwise): the
messages it lists carry names and numbers, and the dev stack's fake listens on a fixed port.
"""

from __future__ import annotations

from typing import Protocol

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from workers.fakes.control_http import parse_body, token_guard
from workers.fakes.twilio.faults import FaultKind, FaultPlan, InjectedFault
from workers.fakes.twilio.messages_api import DEFAULT_TO, E164, MAX_BODY
from workers.fakes.twilio.resources import FakeMessage


class Controlled(Protocol):
    """What the control API works on: the fake (workers.fakes.twilio.server.FakeTwilio)."""

    messages: dict[str, FakeMessage]
    injected: list[InjectedFault]
    faults: FaultPlan

    def fail_number(self, number: str, code: int) -> None: ...

    def fail_delivery(self, number: str, code: int) -> None: ...

    def reset(self) -> None: ...

    async def send_inbound(
        self, url: str, from_: str, body: str, *, to: str = DEFAULT_TO
    ) -> tuple[int, str]: ...


class _FaultsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: list[FaultKind] = Field(default_factory=list)
    rate: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int | None = None
    kinds: list[FaultKind] = Field(default_factory=lambda: list(FaultKind))


class _NumberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(pattern=E164.pattern)
    create_error: int | None = Field(default=None, description="e.g. 21610, 21211, 21614")
    delivery_error: int | None = Field(default=None, description="e.g. 30003, 30006, 30007")

    @model_validator(mode="after")
    def _one(self) -> _NumberBody:
        if (self.create_error is None) == (self.delivery_error is None):
            raise ValueError("give exactly one of create_error and delivery_error")
        return self


class _InboundBody(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    url: str = Field(pattern=r"^https?://")
    from_: str = Field(alias="from", pattern=E164.pattern)
    body: str = Field(max_length=MAX_BODY)
    to: str = Field(default=DEFAULT_TO, pattern=E164.pattern)


class ControlApi:
    def __init__(self, fake: Controlled, token: str) -> None:
        self._fake = fake
        self._token = token

    def add_routes(self, app: web.Application) -> None:
        guarded = token_guard(self._token)
        app.router.add_get("/_fake/messages", guarded(self._messages))
        app.router.add_get("/_fake/faults", guarded(self._injected))
        app.router.add_post("/_fake/faults", guarded(self._faults))
        app.router.add_post("/_fake/numbers", guarded(self._numbers))
        app.router.add_post("/_fake/inbound", guarded(self._inbound))
        app.router.add_post("/_fake/reset", guarded(self._reset))

    async def _messages(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response([m.resource() for m in self._fake.messages.values()])

    async def _injected(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(
            [
                {"kind": f.kind.value, "method": f.method, "created_sid": f.created_sid}
                for f in self._fake.injected
            ]
        )

    async def _faults(self, request: web.Request) -> web.StreamResponse:
        body = await parse_body(request, _FaultsBody)
        if isinstance(body, web.Response):
            return body
        self._fake.faults = FaultPlan(
            rate=body.rate, kinds=tuple(body.kinds), seed=body.seed, queued=list(body.queue)
        )
        return web.json_response({"queued": len(body.queue), "rate": body.rate})

    async def _numbers(self, request: web.Request) -> web.StreamResponse:
        body = await parse_body(request, _NumberBody)
        if isinstance(body, web.Response):
            return body
        if body.create_error is not None:
            self._fake.fail_number(body.number, body.create_error)
        if body.delivery_error is not None:
            self._fake.fail_delivery(body.number, body.delivery_error)
        return web.json_response({"ok": True})

    async def _inbound(self, request: web.Request) -> web.StreamResponse:
        body = await parse_body(request, _InboundBody)
        if isinstance(body, web.Response):
            return body
        try:
            status, text = await self._fake.send_inbound(
                body.url, body.from_, body.body, to=body.to
            )
        except (aiohttp.ClientError, TimeoutError) as err:
            return web.json_response({"error": f"webhook unreachable: {err}"}, status=502)
        return web.json_response({"status": status, "body": text})

    async def _reset(self, _request: web.Request) -> web.StreamResponse:
        self._fake.reset()
        return web.json_response({"ok": True})
