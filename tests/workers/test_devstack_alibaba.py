"""`make run` with OVERDUE_DEV_FAKE_ALIBABA=1: CN accounts' SMS go through the fake Alibaba (real
SDK, signed), exactly once each under injected faults, and are delivered by their receipt
pushes; a US account's goes through the fake Twilio. The whole product: API, workflows on the
Temporal dev server, the SMS worker, the receipt webhook."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from overdue.ports import free_tcp_ports
from tests.clock import zone_where_it_is
from tests.workers.test_devstack import dev_env, overdue_dev
from workers.devstack.stack import READY_BANNER

__all__ = ["dev_env"]  # the fixture, imported for pytest
pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]


async def start(http: httpx.AsyncClient, api_url: str, key: str, account: str, phone: str) -> None:
    body = {
        "customer": {"name": "王芳", "phone": phone, "time_zone": zone_where_it_is(12)},
        "product": "credit_line",
        "amount_due": {"amount_minor": 5_000, "currency": "CNY"},
        "due_date": "2026-11-20",
    }
    started = await http.put(
        f"{api_url}/v1/accounts/{account}/overdue",
        json=body,
        headers={"Authorization": f"Bearer {key}"},
    )
    assert started.status_code == 201, started.text


async def delivered_sms(
    http: httpx.AsyncClient, api_url: str, key: str, account: str, deadline: float
) -> Any:
    """The account's SMS once its receipt said delivered, waiting until `deadline` (monotonic).

    One deadline for all accounts, in seconds rather than polls: a send that meets a lost answer
    is reconciled only after the call's timeout + 10 s, and the fake pushes a lost receipt again
    after up to 15.5 s, so on a loaded machine one account can take most of a minute."""
    while True:
        ledger = await http.get(
            f"{api_url}/v1/accounts/{account}/contacts", headers={"Authorization": f"Bearer {key}"}
        )
        sms = [c for c in ledger.json()["contacts"] if c["channel"] == "sms"]
        if sms and sms[0]["status"] == "delivered":
            return sms[0]
        if time.monotonic() > deadline:
            raise AssertionError(f"no delivered SMS for {account}: {ledger.text}")
        await asyncio.sleep(0.2)


CN_ACCOUNTS = 6
# Two lost answers for messages Alibaba did create, a 500, then 20% of the calls at random.
FAULTS = {
    "queue": ["accepted_timeout", "server_error", "response_lost"],
    "rate": 0.2,
    "seed": 20261203,
    "receipt_loss": 0.2,
}


# Sends and receipts, all accounts together: a lost answer is reconciled after the call's
# timeout + 10 s and a send can meet several faults; a quiet run needs about 30 s.
DELIVERY_BUDGET_SECONDS = 120


@pytest.mark.timeout(240)
async def test_cn_sms_go_through_the_fake_alibaba_once_each_under_faults(
    dev_env: dict[str, str], tmp_path: Path
) -> None:
    (alibaba_port,) = free_tcp_ports(1)
    dev_env |= {
        "OVERDUE_DEV_FAKE_TWILIO": "1",
        "OVERDUE_DEV_FAKE_ALIBABA": "1",
        "OVERDUE_FAKE_ALIBABA_PORT": str(alibaba_port),
        "OVERDUE_ALIBABA_TIMEOUT_SECONDS": "1",
        "OVERDUE_POLICY_FILE": str(ROOT / "tests" / "policies" / "fast_cn.yaml"),
    }
    cn_accounts = [f"DEV-CN-{n}" for n in range(CN_ACCOUNTS)]
    async with overdue_dev(dev_env, tmp_path) as run:
        await run.wait_for(READY_BANNER, 0)
        fake_url = f"http://127.0.0.1:{alibaba_port}"
        api_url = f"http://127.0.0.1:{dev_env['OVERDUE_API_PORT']}"
        key = (tmp_path / "state" / "dev-api-key").read_text().strip()
        token = (tmp_path / "state" / "fake-alibaba-token").read_text().strip()
        control = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(timeout=30) as http:
            faults = await http.post(f"{fake_url}/_fake/faults", json=FAULTS, headers=control)
            assert faults.status_code == 200, faults.text
            for n, account in enumerate(cn_accounts):
                await start(http, api_url, key, account, f"+861380013{n:04d}")
            await start(http, api_url, key, "DEV-US-1", "+12025550143")
            deadline = time.monotonic() + DELIVERY_BUDGET_SECONDS
            cn = [await delivered_sms(http, api_url, key, a, deadline) for a in cn_accounts]
            us = await delivered_sms(http, api_url, key, "DEV-US-1", deadline)
            assert (await http.get(f"{fake_url}/_fake/messages")).status_code == 401
            listed = (await http.get(f"{fake_url}/_fake/messages", headers=control)).json()
            injected = (await http.get(f"{fake_url}/_fake/faults", headers=control)).json()
        assert run.banner_value("Fake Alibaba").startswith(fake_url)
    assert {c["provider"] for c in cn} == {"alibaba"} and us["provider"] == "twilio"
    # Exactly one message per SMS, each the one its row names (the receipt named its BizId).
    assert len(listed) == CN_ACCOUNTS
    assert sorted(c["provider_id"] for c in cn) == sorted(m["BizId"] for m in listed)
    by_biz_id = {m["BizId"]: m for m in listed}
    for contact in cn:
        message = by_biz_id[contact["provider_id"]]
        assert message["TemplateCode"] == "SMS_910000001"
        assert message["Content"] == f"【逾期提醒】{contact['body']}"
    assert [f["kind"] for f in injected][:3] == FAULTS["queue"]
    assert sum(f["created_biz_id"] is not None for f in injected) >= 2
