"""The fake's HTTP server: Twilio's Messages API, signed webhooks, and a control API.

Speaks what the `twilio` SDK sends and expects:

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json    create (form, basic auth)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json    list (To, From, DateSent, paging)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json

Each created message gets status callbacks (sent, then delivered, or undelivered/failed with
an ErrorCode), POSTed to its StatusCallback and signed like Twilio signs them
(`X-Twilio-Signature`, HMAC-SHA1 of URL + sorted parameters with the Auth Token).

Control API for dev use (JSON; the in-process methods of FakeTwilio do the same):

    GET  /_fake/messages                 every message, newest last
    GET  /_fake/faults                   the faults injected so far
    POST /_fake/faults                   {"queue": [...], "rate": 0.2, "seed": 1, "kinds": [...]}
    POST /_fake/numbers                  {"number": "+1...", "create_error": 21610}
                                         {"number": "+1...", "delivery_error": 30003}
    POST /_fake/inbound                  {"url": ".../webhooks/twilio/inbound",
                                          "from": "+1...", "body": "STOP"}
    POST /_fake/reset

Logs carry message SIDs and fault kinds, never numbers or bodies.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TypeVar
from urllib.parse import urlencode

import aiohttp
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from twilio.request_validator import RequestValidator

from activities.sms_segments import count_segments
from workers.fakes.twilio.faults import FaultKind, FaultPlan, InjectedFault
from workers.fakes.twilio.resources import (
    API_VERSION,
    FakeMessage,
    error_body,
    new_sid,
)

logger = logging.getLogger(__name__)

MAX_BODY = 1600
DEFAULT_TO = "+15005550006"  # the number inbound messages are addressed to
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ACCOUNT = r"{account_sid:AC[0-9a-f]{32}}"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
M = TypeVar("M", bound=BaseModel)


class _FaultsBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    queue: list[FaultKind] = Field(default_factory=list)
    rate: float = Field(default=0.0, ge=0.0, le=1.0)
    seed: int | None = None
    kinds: list[FaultKind] = Field(default_factory=lambda: list(FaultKind))


class _NumberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(pattern=_E164.pattern)
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
    from_: str = Field(alias="from", pattern=_E164.pattern)
    body: str = Field(max_length=MAX_BODY)
    to: str = Field(default=DEFAULT_TO, pattern=_E164.pattern)


_CREATE_ERRORS = {
    21610: "Attempt to send to unsubscribed recipient",
    21614: "'To' number is not a valid mobile number",
    21211: "The 'To' number {to} is not a valid phone number.",
}


class FakeTwilio:
    """Start with `async with FakeTwilio(sid, token) as fake:` (a free port) or `start()`."""

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        faults: FaultPlan | None = None,
        callback_delay: float = 0.05,
        hang_seconds: float = 30.0,
    ) -> None:
        self.account_sid = account_sid
        self._validator = RequestValidator(auth_token)
        self._auth = f"{account_sid}:{auth_token}"
        self.faults = faults or FaultPlan()
        self.callback_delay = callback_delay
        self.hang_seconds = hang_seconds
        self.messages: dict[str, FakeMessage] = {}
        self.injected: list[InjectedFault] = []
        self.callbacks: list[tuple[str, str, int]] = []  # (sid, status, HTTP answer)
        self.api_calls: list[str] = []  # "POST", "GET" for each authenticated API call
        self._create_errors: dict[str, int] = {}
        self._delivery_errors: dict[str, int] = {}
        self._tasks: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.url = ""

    # --- lifecycle -----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0: a free port); returns the base URL."""
        self._stopping = asyncio.Event()
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        # No access log: request lines of the list endpoint carry phone numbers.
        self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{host}:{bound[1]}"
        logger.info("fake twilio listening on %s", self.url)
        return self.url

    async def stop(self) -> None:
        self._stopping.set()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
        if self._session is not None:
            await self._session.close()

    async def __aenter__(self) -> FakeTwilio:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def settle(self, within: float = 10.0) -> None:
        """Wait until every scheduled status callback has been sent."""
        async with asyncio.timeout(within):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- configuration -------------------------------------------------------------------

    def fail_number(self, number: str, code: int) -> None:
        """Creating a message to `number` answers Twilio error `code` (21610, 21211, 21614)."""
        self._create_errors[number] = code

    def fail_delivery(self, number: str, code: int) -> None:
        """Messages to `number` end undelivered with `code` (30003, 30006, ...)."""
        self._delivery_errors[number] = code

    def reset(self) -> None:
        self.messages.clear()
        self.injected.clear()
        self.callbacks.clear()
        self.api_calls.clear()
        self._create_errors.clear()
        self._delivery_errors.clear()
        self.faults = FaultPlan()

    # --- webhooks to the application -----------------------------------------------------

    def sign(self, url: str, params: dict[str, str]) -> str:
        return str(self._validator.compute_signature(url, params))

    async def post_signed(self, url: str, params: dict[str, str]) -> tuple[int, str]:
        """POST a form to `url` signed as Twilio signs webhooks; the answer's status and text."""
        assert self._session is not None, "start() the fake first"
        async with self._session.post(
            url, data=params, headers={"X-Twilio-Signature": self.sign(url, params)}
        ) as response:
            return response.status, await response.text()

    async def send_inbound(
        self,
        url: str,
        from_: str,
        body: str,
        *,
        to: str = DEFAULT_TO,
        message_sid: str | None = None,
    ) -> tuple[int, str]:
        """A customer's SMS to us, delivered to `url` like Twilio's incoming-message webhook."""
        sid = message_sid or new_sid("SM")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "Body": body,
            "From": from_,
            "MessageSid": sid,
            "NumMedia": "0",
            "NumSegments": str(max(count_segments(body).segments, 1)),
            "SmsMessageSid": sid,
            "SmsSid": sid,
            "SmsStatus": "received",
            "To": to,
        }
        return await self.post_signed(url, params)

    async def send_status_callback(
        self, sid: str, status: str, *, error_code: int | None = None
    ) -> int:
        """A status callback for one of the fake's messages, as Twilio sends it; HTTP answer."""
        message = self.messages[sid]
        if message.status_callback is None:
            raise ValueError(f"message {sid} was created without a StatusCallback")
        params = {
            "AccountSid": self.account_sid,
            "ApiVersion": API_VERSION,
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": message.to,
        }
        if message.from_:
            params["From"] = message.from_
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        code, _ = await self.post_signed(message.status_callback, params)
        self.callbacks.append((sid, status, code))
        return code

    # --- the HTTP app ------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        base = f"/{API_VERSION}/Accounts/{_ACCOUNT}"
        app.router.add_post(f"{base}/Messages.json", self._api(self._create))
        app.router.add_get(f"{base}/Messages.json", self._api(self._list))
        app.router.add_get(f"{base}/Messages/{{sid}}.json", self._api(self._fetch))
        app.router.add_get("/_fake/messages", self._control_messages)
        app.router.add_get("/_fake/faults", self._control_injected)
        app.router.add_post("/_fake/faults", self._control_faults)
        app.router.add_post("/_fake/numbers", self._control_numbers)
        app.router.add_post("/_fake/inbound", self._control_inbound)
        app.router.add_post("/_fake/reset", self._control_reset)
        return app

    def _api(self, handler: Handler) -> Handler:
        """Authentication as Twilio does it, then the handler."""

        async def authenticated(request: web.Request) -> web.StreamResponse:
            if not self._authorized(request.headers.get("Authorization", "")):
                return _error(401, 20003, "Authenticate")
            if request.match_info["account_sid"] != self.account_sid:
                return _error(404, 20404, f"The requested resource {request.path} was not found")
            self.api_calls.append(request.method)
            return await handler(request)

        return authenticated

    def _authorized(self, header: str) -> bool:
        scheme, _, encoded = header.partition(" ")
        if scheme.lower() != "basic":
            return False
        try:
            return base64.b64decode(encoded, validate=True).decode() == self._auth
        except (binascii.Error, UnicodeDecodeError):
            return False

    async def _create(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        to = str(form.get("To", ""))
        from_ = str(form.get("From", "")) or None
        service = str(form.get("MessagingServiceSid", "")) or None
        body = str(form.get("Body", ""))
        if not to:
            return _error(400, 21604, "A 'To' phone number is required.")
        if not _E164.fullmatch(to):
            return _error(400, 21211, _CREATE_ERRORS[21211].format(to=to))
        if from_ is None and service is None:
            return _error(400, 21603, "A 'From' phone number is required.")
        if not body:
            return _error(400, 21602, "Message body is required.")
        if len(body) > MAX_BODY:
            return _error(
                400, 21617, "The concatenated message body exceeds the 1600 character limit."
            )
        if to in self._create_errors:
            code = self._create_errors[to]
            return _error(400, code, _CREATE_ERRORS.get(code, "Invalid request").format(to=to))
        fault = self.faults.next_fault()
        if fault is not None and not fault.creates:
            return await self._inject(request, fault, None)
        now = datetime.now(UTC)
        message = FakeMessage(
            sid=new_sid("SM"),
            account_sid=self.account_sid,
            to=to,
            from_=from_,
            messaging_service_sid=service,
            body=body,
            status="accepted" if service else "queued",
            status_callback=str(form.get("StatusCallback", "")) or None,
            num_segments=count_segments(body).segments,
            date_created=now,
            date_updated=now,
        )
        self.messages[message.sid] = message
        self._spawn(self._deliver(message))
        logger.info("message %s created (%s)", message.sid, message.status)
        if fault is not None:
            return await self._inject(request, fault, message.sid)
        return web.json_response(message.resource(), status=201)

    async def _list(self, request: web.Request) -> web.StreamResponse:
        query = request.query
        try:
            page_size = int(query.get("PageSize", "50"))
            page = int(query.get("Page", "0"))
        except ValueError:
            return _error(400, 20001, "PageSize and Page must be integers")
        if not 1 <= page_size <= 1000 or page < 0:
            return _error(400, 20001, "PageSize must be 1 to 1000 and Page 0 or more")
        fault = self.faults.next_fault()
        if fault is not None:
            return await self._inject(request, fault, None)
        chosen = [
            m
            for m in reversed(self.messages.values())
            if _matches(m, query.get("To"), query.get("From"))
            and _sent_in(m, query.get("DateSent"), query.get("DateSent<"), query.get("DateSent>"))
        ]
        items = chosen[page * page_size : (page + 1) * page_size]
        filters = {k: v for k, v in query.items() if k not in {"Page", "PageSize", "PageToken"}}

        def page_uri(number: int) -> str:
            params = {**filters, "PageSize": str(page_size), "Page": str(number)}
            return f"{request.path}?{urlencode(params)}"

        more = (page + 1) * page_size < len(chosen)
        return web.json_response(
            {
                "messages": [m.resource() for m in items],
                "end": page * page_size + max(len(items) - 1, 0),
                "first_page_uri": page_uri(0),
                "next_page_uri": page_uri(page + 1) if more else None,
                "page": page,
                "page_size": page_size,
                "previous_page_uri": page_uri(page - 1) if page > 0 else None,
                "start": page * page_size,
                "uri": page_uri(page),
            }
        )

    async def _fetch(self, request: web.Request) -> web.StreamResponse:
        fault = self.faults.next_fault()
        if fault is not None:
            return await self._inject(request, fault, None)
        message = self.messages.get(request.match_info["sid"])
        if message is None:
            return _error(404, 20404, f"The requested resource {request.path} was not found")
        return web.json_response(message.resource())

    async def _inject(
        self, request: web.Request, fault: FaultKind, created_sid: str | None
    ) -> web.StreamResponse:
        self.injected.append(
            InjectedFault(kind=fault, method=request.method, created_sid=created_sid)
        )
        logger.info("fault injected: %s on %s", fault.value, request.method)
        if fault is FaultKind.SERVER_ERROR:
            return _error(500, 20500, "Internal Server Error")
        if fault is FaultKind.SERVICE_UNAVAILABLE:
            return _error(503, 20503, "Service Unavailable")
        if fault is FaultKind.TOO_MANY_REQUESTS:
            return _error(429, 20429, "Too Many Requests")
        if fault is FaultKind.RESPONSE_LOST:
            assert request.transport is not None
            request.transport.close()  # the client sees the connection drop, no answer
            return web.Response(status=500)
        # TIMEOUT / ACCEPTED_TIMEOUT: answer only after the client gave up (or at shutdown).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.hang_seconds)
        return _error(503, 20503, "Service Unavailable")

    # --- status callbacks ----------------------------------------------------------------

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message: FakeMessage) -> None:
        failure = self._delivery_errors.get(message.to)
        final = "delivered" if failure is None else "undelivered"
        steps = (["queued"] if message.messaging_service_sid else []) + ["sent", final]
        for status in steps:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.callback_delay)
                return
            now = datetime.now(UTC)
            message.status, message.date_updated = status, now
            if status == "sent":
                message.date_sent = now
            if status == final and failure is not None:
                message.error_code = failure
            if message.status_callback is None:
                continue
            try:
                await self.send_status_callback(
                    message.sid, status, error_code=message.error_code if status == final else None
                )
            except (aiohttp.ClientError, TimeoutError) as err:
                logger.warning("status callback for %s failed: %s", message.sid, type(err).__name__)

    # --- control API -------------------------------------------------------------------

    async def _control_messages(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response([m.resource() for m in self.messages.values()])

    async def _control_injected(self, _request: web.Request) -> web.StreamResponse:
        return web.json_response(
            [
                {"kind": f.kind.value, "method": f.method, "created_sid": f.created_sid}
                for f in self.injected
            ]
        )

    async def _control_faults(self, request: web.Request) -> web.StreamResponse:
        body = await _parse(request, _FaultsBody)
        if isinstance(body, web.Response):
            return body
        self.faults = FaultPlan(
            rate=body.rate, kinds=tuple(body.kinds), seed=body.seed, queued=list(body.queue)
        )
        return web.json_response({"queued": len(body.queue), "rate": body.rate})

    async def _control_numbers(self, request: web.Request) -> web.StreamResponse:
        body = await _parse(request, _NumberBody)
        if isinstance(body, web.Response):
            return body
        if body.create_error is not None:
            self.fail_number(body.number, body.create_error)
        if body.delivery_error is not None:
            self.fail_delivery(body.number, body.delivery_error)
        return web.json_response({"ok": True})

    async def _control_inbound(self, request: web.Request) -> web.StreamResponse:
        body = await _parse(request, _InboundBody)
        if isinstance(body, web.Response):
            return body
        try:
            status, text = await self.send_inbound(body.url, body.from_, body.body, to=body.to)
        except (aiohttp.ClientError, TimeoutError) as err:
            return web.json_response({"error": f"webhook unreachable: {err}"}, status=502)
        return web.json_response({"status": status, "body": text})

    async def _control_reset(self, _request: web.Request) -> web.StreamResponse:
        self.reset()
        return web.json_response({"ok": True})


def _error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(error_body(status, code, message), status=status)


def _matches(message: FakeMessage, to: str | None, from_: str | None) -> bool:
    return (to is None or message.to == to) and (from_ is None or message.from_ == from_)


def _sent_in(message: FakeMessage, on: str | None, before: str | None, after: str | None) -> bool:
    """Twilio's DateSent filters compare the sent date: an unsent message never matches one."""
    if on is None and before is None and after is None:
        return True
    if message.date_sent is None:
        return False
    day = message.date_sent.date().isoformat()
    return (
        (on is None or day == on[:10])
        and (before is None or day <= before[:10])
        and (after is None or day >= after[:10])
    )


async def _parse(request: web.Request, model: type[M]) -> M | web.Response:
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
