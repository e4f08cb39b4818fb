"""The borrower's page shows what makes up the amount as the backend reported it (the start's
itemization), with the payments since, adding up to the balance; without one, the balance
alone."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime

import pytest

from tests.integration.conftest import Stack
from tests.integration.selfservice.support import linked_account, passed_check
from tests.integration.support import eventually

pytestmark = pytest.mark.integration

ITEMIZED = {  # 400 + 30 + 50 + 20 - 0 = 500.00 CNY, the default body's amount
    "principal_minor": 40_000,
    "interest_minor": 3_000,
    "fees": [
        {"kind": "late_fee", "amount_minor": 5_000},
        {"kind": "annual_fee", "amount_minor": 2_000},
    ],
    "payments_minor": 0,
}


def _rows(html: str) -> dict[str, str]:
    return dict(
        re.findall(r'<tr data-kind="(\w+)"><th scope="row">[^<]+</th><td>([^<]+)</td>', html)
    )


async def test_the_page_itemizes_the_balance_with_a_payment_since(stack: Stack) -> None:
    link = await linked_account(stack, itemization=ITEMIZED)
    payment = {
        "payment_id": f"pay-{uuid.uuid4().hex[:8]}",
        "amount_minor": 10_000,
        "currency": "CNY",
        "paid_at": datetime.now(UTC).isoformat(),
    }
    paid = await stack.api.post(f"/v1/accounts/{link.account}/payments", json=payment)
    assert paid.status_code == 202, paid.text

    async def balance_is_400() -> bool:
        status = (await stack.api.get(f"/v1/accounts/{link.account}")).json()
        return bool(status["balance_minor"] == 40_000)

    await eventually(balance_is_400)
    async with passed_check(stack, link) as borrower:
        page = await borrower.get(link.path)
    assert page.status_code == 200
    assert _rows(page.text) == {
        "principal": "400.00 CNY",
        "interest": "30.00 CNY",
        "fees": "70.00 CNY",
        "payments": "100.00 CNY",
    }


async def test_without_an_itemization_the_page_shows_the_balance_alone(stack: Stack) -> None:
    link = await linked_account(stack)
    async with passed_check(stack, link) as borrower:
        page = await borrower.get(link.path)
    assert page.status_code == 200
    assert 'data-testid="itemization"' not in page.text and 'data-testid="balance"' in page.text
