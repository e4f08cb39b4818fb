"""The fake Twilio speaks the Messages API as the official SDK expects it."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
from aiohttp import web
from twilio.base.exceptions import TwilioRestException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from overdue.ports import free_tcp_ports
from workers.fakes.twilio import FakeTwilio, FaultKind, FaultPlan

SID = "AC" + "7a" * 16
TOKEN = "fake-token"
FROM = "+15005550006"
SERVICE = "MG" + "3c" * 16


@pytest.fixture
async def fake() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio(SID, TOKEN, callback_delay=0.01, hang_seconds=1.0) as fake:
        yield fake


class _Routed(AsyncTwilioHttpClient):  # type: ignore[misc]  # the SDK is untyped
    """The SDK's own async client, sent to the fake instead of api.twilio.com."""

    def __init__(self, base: str) -> None:
        super().__init__()
        self.base = base

    async def request(self, method: str, url: str, **kwargs: object) -> object:
        return await super().request(
            method, url.replace("https://api.twilio.com", self.base), **kwargs
        )


@pytest.fixture
async def client(fake: FakeTwilio) -> AsyncIterator[Client]:
    http = _Routed(fake.url)
    yield Client(SID, TOKEN, http_client=http)
    await http.close()


def api(fake: FakeTwilio, token: str = TOKEN) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=f"{fake.url}/2010-04-01/Accounts/{SID}", auth=(SID, token), timeout=10
    )


@dataclass
class Receiver:
    """An endpoint that checks each webhook's signature with the SDK's RequestValidator."""

    url: str = ""
    received: list[dict[str, str]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        form = {k: str(v) for k, v in (await request.post()).items()}
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(TOKEN).validate(str(request.url), form, signature):
            return web.Response(status=403)
        self.received.append(form)
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    receiver = Receiver()
    app = web.Application()
    app.router.add_post("/hook", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield receiver
    await runner.cleanup()


async def test_the_sdk_creates_fetches_and_pages(client: Client) -> None:
    created = [
        await client.messages.create_async(to="+8613900000001", from_=FROM, body=f"n{i}")
        for i in range(7)
    ]
    await client.messages.create_async(to="+8613900000002", from_=FROM, body="other")
    assert all(m.sid.startswith("SM") and len(m.sid) == 34 for m in created)
    assert created[0].status == "queued"

    listed = await client.messages.list_async(to="+8613900000001", page_size=3)
    assert [m.body for m in listed] == [f"n{i}" for i in reversed(range(7))]
    fetched = await client.messages(created[0].sid).fetch_async()
    assert (fetched.body, fetched.to, fetched.num_segments) == ("n0", "+8613900000001", "1")
    assert fetched.date_created is not None


async def test_twilio_shaped_errors(fake: FakeTwilio, client: Client) -> None:
    async with api(fake, token="wrong") as wrong:
        answer = await wrong.post("/Messages.json", data={"To": "+8613900000001"})
    assert answer.status_code == 401
    assert answer.json() == {
        "code": 20003,
        "message": "Authenticate",
        "more_info": "https://www.twilio.com/docs/errors/20003",
        "status": 401,
    }
    async with api(fake) as good:
        other = await good.get(f"{fake.url}/2010-04-01/Accounts/AC{'0' * 32}/Messages.json")
        assert (other.status_code, other.json()["code"]) == (404, 20404)
        for form, code in [
            ({"From": FROM, "Body": "x"}, 21604),
            ({"To": "13900000001", "From": FROM, "Body": "x"}, 21211),
            ({"To": "+8613900000001", "Body": "x"}, 21603),
            ({"To": "+8613900000001", "From": FROM}, 21602),
            ({"To": "+8613900000001", "From": FROM, "Body": "x" * 1601}, 21617),
        ]:
            answer = await good.post("/Messages.json", data=form)
            assert (answer.status_code, answer.json()["code"]) == (400, code), form
    fake.fail_number("+8613900000009", 21610)
    with pytest.raises(TwilioRestException) as refused:
        await client.messages.create_async(to="+8613900000009", from_=FROM, body="x")
    assert (refused.value.status, refused.value.code) == (400, 21610)
    assert fake.messages == {}


async def test_status_callbacks_are_signed_and_follow_the_lifecycle(
    fake: FakeTwilio, client: Client, receiver: Receiver
) -> None:
    fake.fail_delivery("+8613900000002", 30003)
    ok = await client.messages.create_async(
        to="+8613900000001", messaging_service_sid=SERVICE, body="hi", status_callback=receiver.url
    )
    failed = await client.messages.create_async(
        to="+8613900000002", from_=FROM, body="hi", status_callback=receiver.url
    )
    await fake.settle()

    assert ok.status == "accepted"
    by_sid: dict[str, list[tuple[str, str | None]]] = {}
    for form in receiver.received:
        by_sid.setdefault(form["MessageSid"], []).append(
            (form["MessageStatus"], form.get("ErrorCode"))
        )
        assert form["AccountSid"] == SID
    assert by_sid[ok.sid] == [("queued", None), ("sent", None), ("delivered", None)]
    assert by_sid[failed.sid] == [("sent", None), ("undelivered", "30003")]
    assert fake.messages[failed.sid].error_code == 30003


async def test_injected_faults(fake: FakeTwilio, client: Client) -> None:
    fake.faults.queued.extend([FaultKind.TOO_MANY_REQUESTS, FaultKind.SERVER_ERROR])
    for status, code in ((429, 20429), (500, 20500)):
        with pytest.raises(TwilioRestException) as failed:
            await client.messages.create_async(to="+8613900000001", from_=FROM, body="x")
        assert (failed.value.status, failed.value.code) == (status, code)
    assert fake.messages == {}

    fake.faults.queued.append(FaultKind.RESPONSE_LOST)
    async with api(fake) as raw:
        with pytest.raises(httpx.RemoteProtocolError):
            await raw.post(
                "/Messages.json", data={"To": "+8613900000001", "From": FROM, "Body": "y"}
            )
        fake.faults.queued.append(FaultKind.ACCEPTED_TIMEOUT)
        with pytest.raises(httpx.ReadTimeout):
            await raw.post(
                "/Messages.json",
                data={"To": "+8613900000001", "From": FROM, "Body": "z"},
                timeout=0.3,
            )
    # Both were created although no answer said so.
    assert sorted(m.body for m in fake.messages.values()) == ["y", "z"]
    assert [f.created_sid is not None for f in fake.injected] == [False, False, True, True]


def test_random_faults_are_reproducible_with_a_seed() -> None:
    def draw(seed: int) -> list[FaultKind | None]:
        plan = FaultPlan(rate=0.3, seed=seed)
        return [plan.next_fault() for _ in range(200)]

    assert draw(7) == draw(7) != draw(8)
    share = sum(f is not None for f in draw(7)) / 200
    assert 0.2 < share < 0.4
    with pytest.raises(ValueError, match="between 0 and 1"):
        FaultPlan(rate=1.5)


async def test_the_control_api_needs_its_token(fake: FakeTwilio) -> None:
    async with httpx.AsyncClient(base_url=fake.url) as stranger:
        for method, path in [("GET", "/_fake/messages"), ("POST", "/_fake/reset")]:
            for sent in ({}, {"Authorization": "Bearer wrong-token"}):
                answer = await stranger.request(method, path, headers=sent)
                assert answer.status_code == 401, (method, path, sent)
                assert answer.headers["WWW-Authenticate"] == "Bearer"


async def test_control_api(fake: FakeTwilio, client: Client, receiver: Receiver) -> None:
    headers = {"Authorization": f"Bearer {fake.control_token}"}
    async with httpx.AsyncClient(base_url=fake.url, headers=headers) as control:
        bad = await control.post("/_fake/faults", json={"queue": ["meteor"]})
        assert bad.status_code == 422 and "queue.0" in bad.json()["error"]
        assert (
            await control.post("/_fake/faults", json={"queue": ["too_many_requests"]})
        ).is_success
        numbers = await control.post(
            "/_fake/numbers", json={"number": "+8613900000007", "create_error": 21614}
        )
        assert numbers.is_success
        with pytest.raises(TwilioRestException) as limited:
            await client.messages.create_async(to="+8613900000001", from_=FROM, body="x")
        assert limited.value.code == 20429
        with pytest.raises(TwilioRestException) as landline:
            await client.messages.create_async(to="+8613900000007", from_=FROM, body="x")
        assert landline.value.code == 21614

        inbound = await control.post(
            "/_fake/inbound", json={"url": receiver.url, "from": "+8613900000001", "body": "STOP"}
        )
        assert inbound.json()["status"] == 204
        assert receiver.received[0]["Body"] == "STOP"
        assert receiver.received[0]["MessageSid"].startswith("SM")

        await client.messages.create_async(to="+8613900000001", from_=FROM, body="kept")
        assert [m["body"] for m in (await control.get("/_fake/messages")).json()] == ["kept"]
        assert (await control.post("/_fake/reset")).is_success
        assert (await control.get("/_fake/messages")).json() == []


def _overdue(*args: str, **env: str) -> subprocess.Popen[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("OVERDUE_TWILIO", "OVERDUE_FAKE_TWILIO"))
    }
    return subprocess.Popen(
        [sys.executable, "-m", "workers.cli.main", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**clean, **env},
    )


@pytest.mark.integration  # a subprocess: the real CLI
def test_the_cli_needs_credentials() -> None:
    process = _overdue("fake-twilio")
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "OVERDUE_TWILIO_ACCOUNT_SID" in stderr and "Traceback" not in stderr
    process = _overdue(
        "fake-twilio", OVERDUE_TWILIO_ACCOUNT_SID=SID, OVERDUE_TWILIO_AUTH_TOKEN=TOKEN
    )
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2
    assert "OVERDUE_FAKE_TWILIO_TOKEN" in stderr and "Traceback" not in stderr


@pytest.mark.integration
async def test_the_cli_serves_until_stopped() -> None:
    (port,) = free_tcp_ports(1)
    control = "control-token-for-the-cli-test"
    process = _overdue(
        "fake-twilio",
        OVERDUE_TWILIO_ACCOUNT_SID=SID,
        OVERDUE_TWILIO_AUTH_TOKEN=TOKEN,
        OVERDUE_FAKE_TWILIO_PORT=str(port),  # the setting, not a flag: the same every run
        OVERDUE_FAKE_TWILIO_TOKEN=control,
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 60)
        assert f"http://127.0.0.1:{port}" in line
        async with httpx.AsyncClient() as http:
            url = f"http://127.0.0.1:{port}/_fake/messages"
            assert (await http.get(url)).status_code == 401
            answer = await http.get(url, headers={"Authorization": f"Bearer {control}"})
        assert answer.json() == []
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=30)
    assert process.returncode == 0
