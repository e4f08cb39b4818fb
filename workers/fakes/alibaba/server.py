"""The fake's HTTP server: Alibaba Cloud SMS (dysmsapi 2017-05-25), receipts, a control API.

Speaks what the `alibabacloud-dysmsapi20170525` SDK sends and expects:

    POST /   x-acs-action: SendSms            PhoneNumbers, SignName, TemplateCode,
                                              TemplateParam (JSON), OutId
    POST /   x-acs-action: QuerySendDetails   PhoneNumber, SendDate, PageSize, CurrentPage

each signed with ACS3-HMAC-SHA256 (checked in `signature`, with a nonce used once). A sent
message's delivery receipt is pushed (POST, a JSON array in the SmsReport format) to
`receipt_url`; a push that is not answered `{"code": 0}` is tried again, as Alibaba does.

Faults (`workers.fakes.twilio.faults`, the same kinds): 500, 503, throttling (HTTP 400
Throttling.User), a hang, a message created and then left unanswered by a hang, one whose
connection drops; and `receipt_loss`, the share of receipt pushes lost on the way (tried
again later). Logs carry BizIds and fault kinds, never numbers or variables.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Awaitable
from datetime import UTC, datetime

import aiohttp
from aiohttp import web

from workers.fakes.alibaba import sms_api
from workers.fakes.alibaba.control import ControlApi
from workers.fakes.alibaba.signature import SignatureProblem, check
from workers.fakes.alibaba.sms_api import FakeSms, NumberRules, answer, gateway_error
from workers.fakes.twilio.faults import FaultKind, FaultPlan, InjectedFault

logger = logging.getLogger(__name__)

RECEIPT_TRIES = 5


class FakeAlibaba:
    """Start with `async with FakeAlibaba(key_id, secret) as fake:` (a free port) or `start()`.

    `templates` (code -> registered text with `${var}`): known codes, and the text each
    message's Content is filled from; empty: any SMS_ code is accepted, Content lists values.
    """

    def __init__(
        self,
        access_key_id: str,
        access_key_secret: str,
        *,
        receipt_url: str | None = None,
        templates: dict[str, str] | None = None,
        faults: FaultPlan | None = None,
        receipt_loss: float = 0.0,
        receipt_delay: float = 0.05,
        hang_seconds: float = 30.0,
        control_token: str | None = None,
        seed: int | None = None,
    ) -> None:
        self._secrets = {access_key_id: access_key_secret}
        self.control_token = control_token or secrets.token_urlsafe(24)
        self.receipt_url = receipt_url
        self.templates = dict(templates or {})
        self.faults = faults or FaultPlan()
        self.receipt_loss = receipt_loss
        self.receipt_delay = receipt_delay
        self.hang_seconds = hang_seconds
        self.numbers = NumberRules()
        self.messages: list[FakeSms] = []
        self.injected: list[InjectedFault] = []
        self.receipts: list[tuple[str, int]] = []  # (BizId, HTTP answer; 0: lost on the way)
        self.api_calls: list[str] = []  # the action of each authenticated call
        self._nonces: set[str] = set()
        self._rng = random.Random(seed)  # noqa: S311  # test faults, not security
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
        # No access log: query strings carry phone numbers and variables.
        self._runner = web.AppRunner(self._app(), access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.url = f"http://{host}:{self._runner.addresses[0][1]}"
        logger.info("fake alibaba sms listening on %s", self.url)
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

    async def __aenter__(self) -> FakeAlibaba:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def settle(self, within: float = 10.0) -> None:
        """Wait until every scheduled receipt has been pushed (or given up)."""
        async with asyncio.timeout(within):
            while self._tasks:
                await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # --- configuration -------------------------------------------------------------------

    def fail_number(self, number: str, code: str) -> None:
        """SendSms to `number` answers business code `code` (isv.BUSINESS_LIMIT_CONTROL, ...)."""
        self.numbers.send_errors[_mainland(number)] = code

    def fail_delivery(self, number: str, err_code: str) -> None:
        """Messages to `number` end failed, their receipt carrying `err_code`."""
        self.numbers.delivery_errors[_mainland(number)] = err_code

    def reset(self) -> None:
        self.messages.clear()
        self.injected.clear()
        self.receipts.clear()
        self.api_calls.clear()
        self.numbers = NumberRules()
        self.faults = FaultPlan()
        self.receipt_loss = 0.0

    def by_out_id(self, out_id: str) -> list[FakeSms]:
        return [m for m in self.messages if m.out_id == out_id]

    # --- the HTTP app ------------------------------------------------------------------

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/", self._rpc)
        ControlApi(self, self.control_token).add_routes(app)
        return app

    async def _rpc(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k.lower(): v for k, v in request.headers.items()}
        query = dict(request.query)
        try:
            check(
                method=request.method,
                path=request.path,
                query=query,
                headers=headers,
                body=body,
                secrets=self._secrets,
            )
        except SignatureProblem as problem:
            return gateway_error(problem.status, problem.code, str(problem))
        nonce = headers["x-acs-signature-nonce"]
        if nonce in self._nonces:
            return gateway_error(400, "SignatureNonceUsed", "the nonce was used before")
        self._nonces.add(nonce)
        if headers.get("x-acs-version") != sms_api.VERSION:
            return gateway_error(400, "InvalidVersion", "dysmsapi speaks 2017-05-25")
        action = headers.get("x-acs-action", "")
        self.api_calls.append(action)
        if action == "SendSms":
            return await self._send(request, query)
        if action == "QuerySendDetails":
            return await self._query(request, query)
        return gateway_error(404, "InvalidAction.NotFound", f"no action {action!r}")

    async def _send(self, request: web.Request, query: dict[str, str]) -> web.StreamResponse:
        refusal, params = sms_api.send_refusal(query, self.templates, self.numbers.send_errors)
        if refusal is not None:
            return refusal
        fault = self.faults.next_fault()
        if fault is not None and not fault.creates:
            return await self._inject(request, fault, None)
        code = query["TemplateCode"]
        text = self.templates.get(code, " ".join(f"${{{k}}}" for k in params))
        message = FakeSms(
            biz_id=sms_api.new_biz_id(),
            phone=query["PhoneNumbers"],
            sign_name=query["SignName"],
            template_code=code,
            params=params,
            out_id=query.get("OutId") or None,
            content=sms_api.content(query["SignName"], text, params),
            sent_at=datetime.now(UTC),
        )
        self.messages.append(message)
        self._spawn(self._deliver(message))
        logger.info("message %s sent", message.biz_id)
        if fault is not None:
            return await self._inject(request, fault, message.biz_id)
        return answer(BizId=message.biz_id)

    async def _query(self, request: web.Request, query: dict[str, str]) -> web.StreamResponse:
        refusal = sms_api.query_refusal(query)
        if refusal is not None:
            return refusal
        fault = self.faults.next_fault()
        if fault is not None:
            return await self._inject(request, fault, None)
        return sms_api.details_page(self.messages, query)

    async def _inject(
        self, request: web.Request, fault: FaultKind, created: str | None
    ) -> web.StreamResponse:
        action = request.headers.get("x-acs-action", "")
        self.injected.append(InjectedFault(kind=fault, method=action, created_sid=created))
        logger.info("fault injected: %s on %s", fault.value, action)
        if fault is FaultKind.SERVER_ERROR:
            return gateway_error(500, "InternalError", "The request processing has failed.")
        if fault is FaultKind.SERVICE_UNAVAILABLE:
            return gateway_error(503, "ServiceUnavailable", "The service is unavailable.")
        if fault is FaultKind.TOO_MANY_REQUESTS:
            return gateway_error(400, "Throttling.User", "Request was denied due to flow control.")
        if fault is FaultKind.RESPONSE_LOST:
            assert request.transport is not None
            request.transport.close()  # the client sees the connection drop, no answer
            return web.Response(status=500)
        # TIMEOUT / ACCEPTED_TIMEOUT: answer only after the client gave up (or at shutdown).
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), self.hang_seconds)
        return gateway_error(503, "ServiceUnavailable", "The service is unavailable.")

    # --- receipts ------------------------------------------------------------------------

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, message: FakeSms) -> None:
        if await self._stopped_within(self.receipt_delay):
            return
        failure = self.numbers.delivery_errors.get(message.phone)
        message.status = 3 if failure is None else 2
        message.err_code = failure or "DELIVERED"
        message.received_at = datetime.now(UTC)
        if self.receipt_url is None:
            return
        report = message.receipt(
            success=failure is None,
            err_code=message.err_code,
            err_msg="用户接收成功" if failure is None else "用户接收失败",
        )
        for attempt in range(RECEIPT_TRIES):
            if attempt and await self._stopped_within(self.receipt_delay * 2**attempt):
                return
            last = attempt == RECEIPT_TRIES - 1
            if not last and self._rng.random() < self.receipt_loss:
                self.receipts.append((message.biz_id, 0))  # lost on the way: tried again
                continue
            if await self.push_receipts([report]):
                return
        logger.warning("receipt for %s not acknowledged; given up", message.biz_id)

    async def push_receipts(self, reports: list[dict[str, object]]) -> bool:
        """POST reports to receipt_url as Alibaba's SmsReport push; True when acknowledged."""
        assert self._session is not None and self.receipt_url is not None
        try:
            async with self._session.post(self.receipt_url, json=reports) as response:
                acknowledged = response.status == 200 and (await response.json()).get("code") == 0
                status = response.status
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            logger.warning("receipt push failed: %s", type(err).__name__)
            acknowledged, status = False, -1
        for report in reports:
            self.receipts.append((str(report.get("biz_id")), status))
        return acknowledged

    async def _stopped_within(self, seconds: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stopping.wait(), seconds)
            return True
        return False


def _mainland(number: str) -> str:
    return number[3:] if number.startswith("+86") else number.lstrip("+")
