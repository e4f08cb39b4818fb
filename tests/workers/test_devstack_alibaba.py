"""`make run` with OVERDUE_DEV_FAKE_ALIBABA=1: a CN account's SMS goes through the fake Alibaba
(real SDK, signed) and is delivered by its receipt push; a US account's through the fake Twilio."""

from __future__ import annotations

import asyncio
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


async def delivered_sms(http: httpx.AsyncClient, api_url: str, key: str, account: str) -> Any:
    for _ in range(150):
        ledger = await http.get(
            f"{api_url}/v1/accounts/{account}/contacts", headers={"Authorization": f"Bearer {key}"}
        )
        sms = [c for c in ledger.json()["contacts"] if c["channel"] == "sms"]
        if sms and sms[0]["status"] == "delivered":
            return sms[0]
        await asyncio.sleep(0.2)
    raise AssertionError(f"no delivered SMS for {account}: {ledger.text}")


async def test_cn_sms_go_through_the_fake_alibaba_and_others_through_twilio(
    dev_env: dict[str, str], tmp_path: Path
) -> None:
    (alibaba_port,) = free_tcp_ports(1)
    dev_env |= {
        "OVERDUE_DEV_FAKE_TWILIO": "1",
        "OVERDUE_DEV_FAKE_ALIBABA": "1",
        "OVERDUE_FAKE_ALIBABA_PORT": str(alibaba_port),
        "OVERDUE_POLICY_FILE": str(ROOT / "tests" / "policies" / "fast_cn.yaml"),
    }
    async with overdue_dev(dev_env, tmp_path) as run:
        await run.wait_for(READY_BANNER, 0)
        fake_url = f"http://127.0.0.1:{alibaba_port}"
        api_url = f"http://127.0.0.1:{dev_env['OVERDUE_API_PORT']}"
        key = (tmp_path / "state" / "dev-api-key").read_text().strip()
        async with httpx.AsyncClient() as http:
            await start(http, api_url, key, "DEV-CN-1", "+8613800138002")
            await start(http, api_url, key, "DEV-US-1", "+12025550143")
            cn = await delivered_sms(http, api_url, key, "DEV-CN-1")
            us = await delivered_sms(http, api_url, key, "DEV-US-1")
            token = (tmp_path / "state" / "fake-alibaba-token").read_text().strip()
            assert (await http.get(f"{fake_url}/_fake/messages")).status_code == 401
            listed = await http.get(
                f"{fake_url}/_fake/messages", headers={"Authorization": f"Bearer {token}"}
            )
        assert run.banner_value("Fake Alibaba").startswith(fake_url)
        assert (cn["provider"], us["provider"]) == ("alibaba", "twilio")
        (message,) = listed.json()
        # Delivered by the receipt push, which named the BizId; the text is the ledger's.
        assert cn["provider_id"] == message["BizId"]
        assert message["PhoneNum"] == "13800138002" and message["TemplateCode"] == "SMS_910000001"
        assert message["Content"] == f"【逾期提醒】{cn['body']}"
