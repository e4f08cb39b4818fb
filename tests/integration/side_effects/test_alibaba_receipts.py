"""Alibaba delivery receipts (SmsReport push) at the API: authenticated by the URL's token,
validated, and moving ledger rows only forward."""

from __future__ import annotations

from typing import Any

import pytest

from tests.integration.side_effects.alibaba_support import (
    RECEIPT_TOKEN,
    AlibabaStack,
    alibaba_stack,
)
from tests.integration.side_effects.support import add_customer

__all__ = ["alibaba_stack"]  # the fixture, imported for pytest
pytestmark = pytest.mark.integration
PATH = "/webhooks/alibaba/receipts"
_biz_ids = iter(range(700_000_000_000, 800_000_000_000))


def new_biz_id() -> str:
    return f"{next(_biz_ids)}^0"


async def sent_row(stack: AlibabaStack, provider_id: str | None) -> int:
    customer = await add_customer(stack.pool, locale="zh-CN")
    ledger_id: int = await stack.pool.fetchval(
        """
        INSERT INTO contact_ledger (idempotency_key, account_id, channel, stage_id, status,
                                    provider, provider_id, recipient, body)
        VALUES ($1, $2, 'sms', 'd1_sms', 'sent', 'alibaba', $3, $4, '您好') RETURNING id
        """,
        f"{customer.account_id}/e/d1_sms/1",
        customer.account_id,
        provider_id,
        customer.phone,
    )
    return ledger_id


def report(
    biz_id: str, out_id: int | str, *, success: bool = True, err: str = "DELIVERED"
) -> dict[str, Any]:
    return {
        "phone_number": "13900001111",
        "send_time": "2026-12-03 21:00:00",
        "report_time": "2026-12-03 21:00:05",
        "success": success,
        "err_code": err,
        "err_msg": "用户接收成功" if success else "用户接收失败",
        "sms_size": "1",
        "biz_id": biz_id,
        "out_id": str(out_id),
    }


async def push(stack: AlibabaStack, reports: list[Any], token: str = RECEIPT_TOKEN) -> Any:
    return await stack.api.post(PATH, params={"token": token}, json=reports)


async def state(stack: AlibabaStack, ledger_id: int) -> tuple[str, str | None, str | None]:
    row = await stack.pool.fetchrow(
        "SELECT status, provider_id, error_code FROM contact_ledger WHERE id = $1", ledger_id
    )
    assert row is not None
    return row["status"], row["provider_id"], row["error_code"]


async def test_a_receipt_delivers_its_row_and_repeats_change_nothing(
    alibaba_stack: AlibabaStack,
) -> None:
    biz_id = new_biz_id()
    ledger_id = await sent_row(alibaba_stack, biz_id)
    for _ in range(2):
        answer = await push(alibaba_stack, [report(biz_id, ledger_id)])
        assert (answer.status_code, answer.json()) == (200, {"code": 0, "msg": "成功"})
    assert await state(alibaba_stack, ledger_id) == ("delivered", biz_id, None)
    events = await alibaba_stack.pool.fetch(
        "SELECT status, source FROM contact_events WHERE ledger_id = $1 AND kind = 'status'",
        ledger_id,
    )
    callbacks = [(e["status"], e["source"]) for e in events if e["source"] != "activity"]
    assert callbacks == [("delivered", "provider_callback")]


async def test_a_receipt_names_the_biz_id_of_a_row_that_did_not_know_it(
    alibaba_stack: AlibabaStack,
) -> None:
    before_send_recorded = await sent_row(alibaba_stack, None)
    adopted_by_lookup = await sent_row(alibaba_stack, None)
    await alibaba_stack.pool.execute(
        "UPDATE contact_ledger SET provider_id = 'out:' || id::text WHERE id = $1",
        adopted_by_lookup,
    )
    first, second = new_biz_id(), new_biz_id()
    answer = await push(
        alibaba_stack,
        [
            report(first, before_send_recorded),
            report(second, adopted_by_lookup, success=False, err="IC:0015"),
        ],
    )
    assert answer.status_code == 200
    assert await state(alibaba_stack, before_send_recorded) == ("delivered", first, None)
    assert await state(alibaba_stack, adopted_by_lookup) == ("undelivered", second, "IC:0015")


async def test_a_wrong_or_missing_token_is_403_and_changes_nothing(
    alibaba_stack: AlibabaStack,
) -> None:
    biz_id = new_biz_id()
    ledger_id = await sent_row(alibaba_stack, biz_id)
    for token in ("", "not-the-receipt-token-at-all"):
        answer = await push(alibaba_stack, [report(biz_id, ledger_id)], token=token)
        assert answer.status_code == 403
    assert await state(alibaba_stack, ledger_id) == ("sent", biz_id, None)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"biz_id": "not-a-biz-id"}, "biz_id"),
        ({"out_id": "12a"}, "out_id"),
        ({"success": "maybe"}, "success"),
        ({"phone_number": "+86 139"}, "phone_number"),
    ],
)
async def test_an_invalid_report_is_422_and_changes_nothing(
    alibaba_stack: AlibabaStack, change: dict[str, str], field: str
) -> None:
    biz_id = new_biz_id()
    ledger_id = await sent_row(alibaba_stack, biz_id)
    answer = await push(alibaba_stack, [report(biz_id, ledger_id), {**report(biz_id, 1), **change}])
    assert answer.status_code == 422
    assert field in answer.text
    assert await state(alibaba_stack, ledger_id) == ("sent", biz_id, None)


async def test_a_receipt_for_an_unknown_message_is_acknowledged(
    alibaba_stack: AlibabaStack,
) -> None:
    answer = await push(alibaba_stack, [report(new_biz_id(), 9_000_000_000)])
    assert (answer.status_code, answer.json()["code"]) == (200, 0)
