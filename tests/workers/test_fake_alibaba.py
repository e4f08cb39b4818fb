"""The fake Alibaba Cloud SMS speaks dysmsapi as the official SDK sends it, and the sender
(activities.alibaba_sender) reads its answers right."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from aiohttp import web
from alibabacloud_dysmsapi20170525 import models
from alibabacloud_dysmsapi20170525.client import Client
from alibabacloud_tea_openapi import utils_models
from alibabacloud_tea_openapi.exceptions import ClientException

from activities.alibaba_sender import OUT_ID_PREFIX, AlibabaSmsSender
from activities.sms_types import (
    OutboundSms,
    Refusal,
    SmsNotSent,
    SmsOutcomeUnknown,
    SmsRefused,
    TemplateMessage,
)
from overdue.settings_alibaba import AlibabaConfig
from workers.fakes.alibaba import FakeAlibaba, registered_text
from workers.fakes.twilio import FaultKind, FaultPlan

KEY_ID = "LTAI5tFakeKeyForTests"
SECRET = "fake-alibaba-secret"
CODE = "SMS_465000001"
TEXT = "{name}您好，您的账单{amount}{currency}已逾期。回复TD退订。"  # noqa: RUF001
PHONE = "+8613900001111"


@pytest.fixture
async def fake() -> AsyncIterator[FakeAlibaba]:
    async with FakeAlibaba(
        KEY_ID, SECRET, templates={CODE: registered_text(TEXT)}, hang_seconds=1.0
    ) as fake:
        yield fake


def client(fake: FakeAlibaba, secret: str = SECRET) -> Client:
    return Client(
        utils_models.Config(
            access_key_id=KEY_ID,
            access_key_secret=secret,
            endpoint=fake.url.removeprefix("http://"),
            protocol="HTTP",
        )
    )


def sender(fake: FakeAlibaba, timeout: float = 0.5) -> AlibabaSmsSender:
    config = AlibabaConfig(
        access_key_id=KEY_ID,
        access_key_secret=SECRET,
        protocol="HTTP",
        endpoint=fake.url.removeprefix("http://"),
        timeout_seconds=timeout,
    )
    return AlibabaSmsSender(config, list_settle=timedelta(0))


def outbound(reference: str = "41", name: str = "Sun Li 孙") -> OutboundSms:
    params = {"name": name, "amount": "1,234.56", "currency": "CNY"}
    return OutboundSms(
        idempotency_key=f"acct/ep/stage/{reference}",
        reference=reference,
        to=PHONE,
        body=TEXT.format(**params),
        jurisdiction="CN",
        templates={"alibaba": TemplateMessage("某某消费金融", CODE, params)},
    )


async def test_send_sms_through_the_sdk_is_signed_and_answered(fake: FakeAlibaba) -> None:
    request = models.SendSmsRequest(
        phone_numbers="13900001111",
        sign_name="某某消费金融",
        template_code=CODE,
        # A space and non-ASCII: the signature covers percent-encoded values.
        template_param=json.dumps(
            {"name": "Sun Li 孙", "amount": "1,234.56", "currency": "CNY"}, ensure_ascii=False
        ),
        out_id="7",
    )
    answer = await client(fake).send_sms_async(request)
    assert answer.body.code == "OK" and answer.body.biz_id
    (message,) = fake.messages
    assert message.out_id == "7" and message.biz_id == answer.body.biz_id
    filled = TEXT.format(name="Sun Li 孙", amount="1,234.56", currency="CNY")
    assert message.content == f"【某某消费金融】{filled}"


async def test_a_wrong_secret_is_refused_by_the_signature(fake: FakeAlibaba) -> None:
    with pytest.raises(ClientException) as raised:
        await client(fake, secret="not-the-secret").send_sms_async(
            models.SendSmsRequest(phone_numbers="13900001111", sign_name="某某", template_code=CODE)
        )
    assert (raised.value.status_code, raised.value.code) == (400, "SignatureDoesNotMatch")
    assert fake.messages == []


async def test_an_unsigned_request_is_refused() -> None:
    async with FakeAlibaba(KEY_ID, SECRET) as fake, httpx.AsyncClient() as http:
        answer = await http.post(f"{fake.url}/?PhoneNumbers=13900001111")
    assert answer.status_code == 400 and answer.json()["Code"] == "MissingAuthorization"


async def test_the_sender_sends_with_out_id_and_finds_the_message_again(
    fake: FakeAlibaba,
) -> None:
    alibaba = sender(fake)
    sent = await alibaba.send(outbound("41"))
    assert sent.provider == "alibaba" and sent.provider_id == fake.messages[0].biz_id
    assert fake.messages[0].params["name"] == "Sun Li 孙"
    found = await alibaba.find(outbound("41"), datetime.now(UTC) - timedelta(minutes=1))
    assert [f.provider_id for f in found] == [f"{OUT_ID_PREFIX}41"]
    assert await alibaba.find(outbound("42"), datetime.now(UTC)) == []


async def test_business_codes_map_to_refusals_and_retries(fake: FakeAlibaba) -> None:
    alibaba = sender(fake)
    fake.fail_number(PHONE, "isv.BUSINESS_LIMIT_CONTROL")
    with pytest.raises(SmsNotSent) as limited:
        await alibaba.send(outbound())
    assert limited.value.code == "isv.BUSINESS_LIMIT_CONTROL"
    fake.fail_number(PHONE, "isv.MOBILE_NUMBER_ILLEGAL")
    with pytest.raises(SmsRefused) as illegal:
        await alibaba.send(outbound())
    assert illegal.value.refusal is Refusal.UNREACHABLE
    fake.numbers.send_errors.clear()
    unknown_code = outbound()
    template = unknown_code.templates["alibaba"]
    unknown_code.templates["alibaba"] = TemplateMessage(template.sign_name, "SMS_1", {})
    with pytest.raises(SmsRefused) as template_refused:
        await alibaba.send(unknown_code)
    assert template_refused.value.code == "isv.SMS_TEMPLATE_ILLEGAL"
    assert fake.messages == []


async def test_free_text_is_never_sent(fake: FakeAlibaba) -> None:
    message = OutboundSms(idempotency_key="k", reference="1", to=PHONE, body="free text")
    with pytest.raises(SmsRefused) as refused:
        await sender(fake).send(message)
    assert refused.value.code == "template_not_registered"
    assert fake.api_calls == []


@pytest.mark.parametrize(
    ("kind", "error", "created"),
    [
        (FaultKind.SERVER_ERROR, SmsOutcomeUnknown, False),
        (FaultKind.SERVICE_UNAVAILABLE, SmsOutcomeUnknown, False),
        (FaultKind.TOO_MANY_REQUESTS, SmsNotSent, False),
        (FaultKind.TIMEOUT, SmsOutcomeUnknown, False),
        (FaultKind.ACCEPTED_TIMEOUT, SmsOutcomeUnknown, True),
        (FaultKind.RESPONSE_LOST, SmsOutcomeUnknown, True),
    ],
)
async def test_faults_map_to_the_sender_errors(
    fake: FakeAlibaba, kind: FaultKind, error: type[Exception], created: bool
) -> None:
    fake.faults = FaultPlan(queued=[kind])
    with pytest.raises(error):
        await sender(fake).send(outbound())
    assert len(fake.messages) == int(created)
    if created:  # reconciliation finds what the lost answer would have said
        found = await sender(fake).find(outbound(), datetime.now(UTC) - timedelta(minutes=1))
        assert len(found) == 1


async def test_a_failed_query_is_not_sent_never_an_empty_answer(fake: FakeAlibaba) -> None:
    fake.faults = FaultPlan(queued=[FaultKind.SERVER_ERROR])
    with pytest.raises(SmsNotSent):
        await sender(fake).find(outbound(), datetime.now(UTC))


async def test_receipts_are_pushed_in_the_sms_report_format_and_retried() -> None:
    received: list[object] = []

    async def receipts(request: web.Request) -> web.Response:
        received.append(await request.json())
        return web.json_response({"code": 0, "msg": "成功"})

    app = web.Application()
    app.router.add_post("/receipts", receipts)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    port = runner.addresses[0][1]
    try:
        async with FakeAlibaba(
            KEY_ID,
            SECRET,
            receipt_url=f"http://127.0.0.1:{port}/receipts",
            receipt_delay=0.01,
            receipt_loss=0.5,
            seed=3,
        ) as fake:
            for n in range(4):
                await sender(fake).send(outbound(str(n)))
            await fake.settle()
    finally:
        await runner.cleanup()
    reports = [r for batch in received for r in batch]  # type: ignore[attr-defined]
    assert sorted(r["out_id"] for r in reports) == ["0", "1", "2", "3"]
    assert any(code == 0 for _, code in fake.receipts), "the seed should lose some pushes"
    first = reports[0]
    assert set(first) == {
        "phone_number", "send_time", "report_time", "success", "err_code", "err_msg",
        "sms_size", "biz_id", "out_id",
    }  # fmt: skip
    assert first["success"] is True and first["err_code"] == "DELIVERED"
    assert first["phone_number"] == "13900001111"
