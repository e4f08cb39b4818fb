"""The fake's HTTP server: Twilio's Messages API, signed webhooks, and a control API.

Speaks what the `twilio` SDK sends and expects:

    POST /2010-04-01/Accounts/{AccountSid}/Messages.json    create (form, basic auth)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages.json    list (To, From, DateSent, paging)
    GET  /2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json

Each created message gets status callbacks (sent, then delivered, or undelivered/failed with
an ErrorCode), POSTed to its StatusCallback and signed like Twilio signs them
(`X-Twilio-Signature`, HMAC-SHA1 of URL + sorted parameters with the Auth Token).

The rules those answers follow are in `messages_api`; a control API for dev use (JSON, the
same as FakeTwilio's in-process methods) is in `control`.

Logs carry message SIDs and fault kinds, never numbers or bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import aiohttp
from aiohttp import web
from twilio.request_validator import RequestValidator

from overdue.sms_segments import count_segments
from workers.fakes.twilio import messages_api
from workers.fakes.twilio.control import ControlApi
from workers.fakes.twilio.faults import FaultKind, FaultPlan, InjectedFault
from workers.fakes.twilio.messages_api import DEFAULT_TO, error
from workers.fakes.twilio.resources import API_VERSION, FakeMessage, new_sid

logger = logging.getLogger(__name__)

_ACCOUNT = r"{account_sid:AC[0-9a-f]{32}}"

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


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
        control_token: str | None = None,
    ) -> None:
        self.account_sid = account_sid
        # The control API's bearer token (/_fake/*); a random one unless the caller chose.
        self.control_token = control_token or secrets.token_urlsafe(24)
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
        ControlApi(self, self.control_token).add_routes(app)
        return app

    def _api(self, handler: Handler) -> Handler:
        """Authentication as Twilio does it, then the handler."""

        async def authenticated(request: web.Request) -> web.StreamResponse:
            if not messages_api.basic_auth_matches(
                request.headers.get("Authorization", ""), self._auth
            ):
                return error(401, 20003, "Authenticate")
            if request.match_info["account_sid"] != self.account_sid:
                return messages_api.not_found(request.path)
            self.api_calls.append(request.method)
            return await handler(request)

        return authenticated

    async def _create(self, request: web.Request) -> web.StreamResponse:
        form = await request.post()
        to = str(form.get("To", ""))
        from_ = str(form.get("From", "")) or None
        service = str(form.get("MessagingServiceSid", "")) or None
        body = str(form.get("Body", ""))
        refusal = messages_api.create_refusal(to, from_, service, body, self._create_errors)
        if refusal is not None:
            return refusal
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
        paging = messages_api.paging(request.query)
        if isinstance(paging, web.Response):
            return paging
        fault = self.faults.next_fault()
        if fault is not None:
            return await self._inject(request, fault, None)
        page_size, page = paging
        newest_first = reversed(self.messages.values())
        return messages_api.list_page(newest_first, request.query, request.path, page_size, page)

    async def _fetch(self, request: web.Request) -> web.StreamResponse:
        fault = self.faults.next_fault()
        if fault is not None:
            return await self._inject(request, fault, None)
        message = self.messages.get(request.match_info["sid"])
        if message is None:
            return messages_api.not_found(request.path)
        return web.json_response(message.resource())

    async def _inject(
        self, request: web.Request, fault: FaultKind, created_sid: str | None
    ) -> web.StreamResponse:
        self.injected.append(
            InjectedFault(kind=fault, method=request.method, created_sid=created_sid)
        )
        logger.info("fault injected: %s on %s", fault.value, request.method)
        if fault is FaultKind.SERVER_ERROR:
            return error(500, 20500, "Internal Server Error")
        if fault is FaultKind.SERVICE_UNAVAILABLE:
            return error(503, 20503, "Service Unavailable")
        if fault is FaultKind.TOO_MANY_REQUESTS:
            return error(429, 20429, "Too Many Requests")
        if fault is FaultKind.RESPONSE_LOST:
            assert request.transport is not None
            request.transport.close()  # the client sees the connection drop, no answer
            return web.Response(status=500)
        # TIMEOUT / ACCEPTED_TIMEOUT: answer only after the client gave up (or at shutdown).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.hang_seconds)
        return error(503, 20503, "Service Unavailable")

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
