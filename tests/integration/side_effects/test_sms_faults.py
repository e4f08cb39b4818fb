"""200 sends under 20% injected faults: exactly one message per key, every failure recorded.

Every Twilio API call (creates and the lookups that reconcile them) fails with probability
0.2, with a kind drawn from all six: 500, 503, 429, a hang past the client's timeout, a
message created and then left unanswered by a hang, and one whose connection drops. Some keys
run as two concurrent duplicates, and two stages of each account send identical text to the
same number, which the lookup must still tell apart.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from activities.sms import SmsActivities
from overdue.store.sealed_texts import open_texts
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.support import (
    add_customer,
    run_like_temporal,
    sms_input,
    twilio_sender,
)
from workers.fakes.twilio import FakeTwilio, FaultKind, FaultPlan
from workflows.contact_types import SendSmsInput, SendSmsResult

pytestmark = pytest.mark.integration

ACCOUNTS = 50
# (stage, days past due): the last two render the same text, to the same number.
STAGES = (("d1_sms", 1), ("d2_sms", 2), ("d3_sms", 3), ("d3_sms_again", 3))
DUPLICATED = 20  # keys that also run as a concurrent duplicate activity
CONCURRENCY = 16


async def test_two_hundred_sends_under_twenty_percent_faults(
    twilio_stack: TwilioStack, fake_twilio: FakeTwilio
) -> None:
    customers = [await add_customer(twilio_stack.pool, name=f"Sun Li {i}") for i in range(ACCOUNTS)]
    inputs = [
        sms_input(customer, stage, days_past_due=days)
        for customer in customers
        for stage, days in STAGES
    ]
    assert len(inputs) == 200
    fake_twilio.faults = FaultPlan(rate=0.2, kinds=tuple(FaultKind), seed=20261124)
    sender = twilio_sender(fake_twilio.url, twilio_stack.settings.public_url)
    sms = SmsActivities(twilio_stack.pool, sender)
    gate = asyncio.Semaphore(CONCURRENCY)

    async def send(input: SendSmsInput) -> object:
        async with gate:
            return await run_like_temporal(sms.send_sms, input)

    try:
        results = await asyncio.gather(
            *(send(input) for input in inputs), *(send(input) for input in inputs[:DUPLICATED])
        )
    finally:
        await sender.close()

    assert all(isinstance(r, SendSmsResult) for r in results)
    rows = await twilio_stack.pool.fetch(
        """
        SELECT idempotency_key, id, provider_id, recipient, body, status FROM contact_ledger
         WHERE idempotency_key = ANY($1::text[])
        """,
        [i.idempotency_key for i in inputs],
    )
    assert len(rows) == 200
    assert not [r for r in rows if r["status"] == "pending" or r["provider_id"] is None]

    # Exactly one message per key: the fake holds 200, each owned by exactly one ledger row,
    # with that row's number and text.
    assert len(fake_twilio.messages) == 200
    assert {r["provider_id"] for r in rows} == set(fake_twilio.messages)
    bodies = await open_texts(twilio_stack.pool, (r["body"] for r in rows))
    for row, body in zip(rows, bodies, strict=True):
        message = fake_twilio.messages[row["provider_id"]]
        assert (message.to, message.body) == (row["recipient"], body)

    # Every injected fault is in the ledger's events, as the failure it looked like.
    injected = fake_twilio.injected
    assert len(injected) >= 30, "the seed should inject a fair number of faults"
    assert {f.kind for f in injected} == set(FaultKind)
    expected = Counter(
        "reconcile_failed"
        if fault.method == "GET"
        else "provider_error"
        if fault.kind is FaultKind.TOO_MANY_REQUESTS
        else "outcome_unknown"
        for fault in injected
    )
    recorded = await twilio_stack.pool.fetch(
        """
        SELECT kind, count(*) AS n FROM contact_events
         WHERE ledger_id = ANY($1::bigint[]) AND kind <> 'status' GROUP BY kind
        """,
        [r["id"] for r in rows],
    )
    seen = Counter({r["kind"]: r["n"] for r in recorded})
    assert (seen["provider_error"], seen["outcome_unknown"]) == (
        expected["provider_error"],
        expected["outcome_unknown"],
    )
    # A lookup (GET) whose connection drops is retried once by aiohttp itself (RFC 9112
    # allows it for idempotent requests); when that retry works, no failure reached us.
    absorbed = sum(f.method == "GET" and f.kind is FaultKind.RESPONSE_LOST for f in injected)
    assert expected["reconcile_failed"] - absorbed <= seen["reconcile_failed"]
    assert seen["reconcile_failed"] <= expected["reconcile_failed"]

    # Status callbacks finish the story: every message ends delivered in the ledger.
    await fake_twilio.settle(within=60)
    statuses = await twilio_stack.pool.fetch(
        "SELECT status, count(*) AS n FROM contact_ledger WHERE id = ANY($1::bigint[]) "
        "GROUP BY status",
        [r["id"] for r in rows],
    )
    assert {r["status"]: r["n"] for r in statuses} == {"delivered": 200}
    accepted = await twilio_stack.pool.fetchval(
        "SELECT count(*) FROM audit_events WHERE kind = 'sms.accepted' AND account_id = ANY($1)",
        [c.account_id for c in customers],
    )
    assert accepted == 200
