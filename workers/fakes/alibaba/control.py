"""The fake's control API for dev use (JSON), doing what FakeAlibaba's in-process methods do:

GET  /_fake/messages      every message, oldest first (BizId, OutId, number, code, Content)
GET  /_fake/faults        the faults injected so far
POST /_fake/faults        {"queue": [...], "rate": 0.2, "seed": 1, "kinds": [...],
                           "receipt_loss": 0.2}
POST /_fake/numbers       {"number": "139...", "send_error": "isv.BUSINESS_LIMIT_CONTROL"}
                          {"number": "139...", "delivery_error": "IC:0015"}
POST /_fake/reset

Every /_fake/* call needs `Authorization: Bearer <control token>` (401 otherwise): the
messages carry names and numbers, and the dev stack's fake listens on a fixed port.
"""

from __future__ import annotations

from typing import Protocol

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, model_validator

from workers.fakes.alibaba.sms_api import FakeSms
from workers.fakes.control_http import parse_body, token_guard
from workers.fakes.twilio.faults import FaultKind, FaultPlan, InjectedFault

_NUMBER = r"^\+?[0-9]{6,15}$"
_CODE = r"^[A-Za-z0-9_.:-]{1,64}$"


class Controlled(Protocol):
    """What the control API works on: the fake (workers.fakes.alibaba.server.FakeAlibaba)."""

    messages: list[FakeSms]
    injected: list[InjectedFault]
    faults: FaultPlan
    receipt_loss: float

    def fail_number(self, number: str, code: str) -> None: ...

    def fail_delivery(self, number: str, err_code: str) -> None: ...

    def reset(self) -> None: ...


class _FaultsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: list[FaultKind] = Field(default_factory=list)
    rate: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int | None = None
    kinds: list[FaultKind] = Field(default_factory=lambda: list(FaultKind))
    receipt_loss: float = Field(default=0.0, ge=0.0, le=1.0)


class _NumberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(pattern=_NUMBER)
    send_error: str | None = Field(default=None, pattern=_CODE)
    delivery_error: str | None = Field(default=None, pattern=_CODE)

    @model_validator(mode="after")
    def _one(self) -> _NumberBody:
        if (self.send_error is None) == (self.delivery_error is None):
            raise ValueError("give exactly one of send_error and delivery_error")
        return self


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
        app.router.add_post("/_fake/reset", guarded(self._reset))

    async def _messages(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(
            [
                {"BizId": m.biz_id, "SignName": m.sign_name, **m.detail()}
                for m in self._fake.messages
            ]
        )

    async def _injected(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(
            [
                {"kind": f.kind.value, "action": f.method, "created_biz_id": f.created_sid}
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
        self._fake.receipt_loss = body.receipt_loss
        return web.json_response({"queued": len(body.queue), "rate": body.rate})

    async def _numbers(self, request: web.Request) -> web.StreamResponse:
        body = await parse_body(request, _NumberBody)
        if isinstance(body, web.Response):
            return body
        if body.send_error is not None:
            self._fake.fail_number(body.number, body.send_error)
        if body.delivery_error is not None:
            self._fake.fail_delivery(body.number, body.delivery_error)
        return web.json_response({"ok": True})

    async def _reset(self, _request: web.Request) -> web.StreamResponse:
        self._fake.reset()
        return web.json_response({"ok": True})
