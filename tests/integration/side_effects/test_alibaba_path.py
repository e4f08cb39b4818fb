"""A CN account's SMS goes through Alibaba Cloud SMS, exactly once under 20% injected faults,
and ends delivered by its receipt push; a non-CN account's still goes through Twilio.

The activity sends through the router a worker builds from OVERDUE_SMS_ROUTES=CN=alibaba:
the real Alibaba SDK against the fake dysmsapi (signatures checked), the real Twilio SDK
against the fake Twilio. Every Alibaba call (SendSms and the QuerySendDetails lookups that
reconcile unknown outcomes) fails with probability 0.2, with a kind drawn from all six, and a
fifth of the receipt pushes are lost on the way (Alibaba pushes them again).
"""

from __future__ import annotations

import asyncio
from collections import Counter

import asyncpg
import pytest

from activities.sms import SmsActivities
from activities.sms_routing import RoutingSmsSender
from activities.sms_types import SmsSender
from overdue.store.sealed_texts import open_text
from tests.integration.side_effects.alibaba_support import (
    SIGN,
    AlibabaStack,
    alibaba_sender,
    alibaba_stack,
    fake_alibaba,
    routed_input,
)
from tests.integration.side_effects.support import add_customer, run_like_temporal, twilio_sender
from workers.fakes.twilio import FakeTwilio, FaultKind, FaultPlan
from workflows.contact_types import SendSmsInput, SendSmsResult

__all__ = ["alibaba_stack"]  # the fixture, imported for pytest
pytestmark = pytest.mark.integration

CN_ACCOUNTS = 20
STAGES = (("d1_sms", 1), ("d2_sms", 2), ("d3_sms", 3))
DUPLICATED = 10
CONCURRENCY = 12


async def send_all(pool: asyncpg.Pool, sender: SmsSender, inputs: list[SendSmsInput]) -> None:
    """Run every input's activity as Temporal would, CONCURRENCY at a time; all must succeed."""
    sms = SmsActivities(pool, sender)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def send(input: SendSmsInput) -> object:
        async with gate:
            return await run_like_temporal(sms.send_sms, input)

    try:
        results = await asyncio.gather(*(send(i) for i in inputs))
    finally:
        await sender.close()
    assert all(isinstance(r, SendSmsResult) for r in results)


async def failures(pool: asyncpg.Pool, ledger_ids: list[int]) -> dict[str, int]:
    """The failures the activity recorded for these rows, by kind."""
    rows = await pool.fetch(
        "SELECT kind, count(*) AS n FROM contact_events WHERE ledger_id = ANY($1::bigint[]) "
        "AND kind <> 'status' GROUP BY kind",
        ledger_ids,
    )
    return {r["kind"]: r["n"] for r in rows}


async def test_cn_sms_go_through_alibaba_once_each_under_faults_and_end_delivered(
    alibaba_stack: AlibabaStack,
) -> None:
    pool = alibaba_stack.pool
    cn = [
        await add_customer(pool, name=f"孙丽{i}", locale="zh-CN" if i % 4 else "en")
        for i in range(CN_ACCOUNTS)
    ]
    us = await add_customer(pool, name="Ann Lee", phone="+12025550143")
    inputs = [routed_input(c, stage, days_past_due=days) for c in cn for stage, days in STAGES]
    us_input = routed_input(us, "d1_sms", jurisdiction="US")
    async with (
        fake_alibaba(alibaba_stack.receipt_url) as alibaba,
        FakeTwilio(
            "AC" + "5e" * 16, "fake-twilio-auth-token", hang_seconds=3.0, callback_delay=0.01
        ) as twilio,
    ):
        alibaba.faults = FaultPlan(rate=0.2, kinds=tuple(FaultKind), seed=20261203)
        alibaba.receipt_loss = 0.2
        sender = RoutingSmsSender(
            twilio_sender(twilio.url, alibaba_stack.settings.public_url),
            {"CN": alibaba_sender(alibaba.url)},
        )
        # Some keys also run as a concurrent duplicate activity.
        await send_all(pool, sender, [*inputs, us_input, *inputs[:DUPLICATED]])
        await alibaba.settle(within=60)
        injected = list(alibaba.injected)
    rows = await pool.fetch(
        "SELECT id, provider, provider_id, recipient, body, status FROM contact_ledger "
        "WHERE idempotency_key = ANY($1::text[])",
        [i.idempotency_key for i in inputs],
    )
    assert len(rows) == len(inputs) == 60
    assert {r["provider"] for r in rows} == {"alibaba"}
    # Exactly one provider-side message per key (OutId = the row's id), with the row's text.
    per_row = Counter(m.out_id for m in alibaba.messages)
    assert per_row == Counter({str(r["id"]): 1 for r in rows})
    for row in rows:
        (message,) = alibaba.by_out_id(str(row["id"]))
        # The ledger keeps the text sealed (docs/privacy.md); opened, it is what was sent.
        assert message.content == f"【{SIGN}】{await open_text(pool, row['body'])}"
        assert message.phone == row["recipient"].removeprefix("+86")
        # The receipt named the BizId, also for messages adopted by a lookup.
        assert (row["provider_id"], row["status"]) == (message.biz_id, "delivered")
    assert len(injected) >= 8, "the seed should inject a fair number of faults"
    created = [f for f in injected if f.created_sid is not None]
    assert created, "some messages should be created with their answer lost"
    seen = await failures(pool, [r["id"] for r in rows])
    assert seen.get("outcome_unknown", 0) >= len(created)
    assert {f.kind for f in injected} == set(FaultKind)
    assert any(code == 0 for _, code in alibaba.receipts), "some receipts should be lost"

    # Residency: nothing of the CN accounts reached Twilio; the US account went there only.
    (us_row,) = await pool.fetch(
        "SELECT provider, provider_id FROM contact_ledger WHERE idempotency_key = $1",
        us_input.idempotency_key,
    )
    assert [m.to for m in twilio.messages.values()] == [us.phone]
    assert (us_row["provider"], us_row["provider_id"]) == ("twilio", next(iter(twilio.messages)))
    assert all(m.phone != us.phone.lstrip("+") for m in alibaba.messages)
