"""Receipts from the real stack: an account started through the API, its workflow's SMS and
call task each leave a receipt with the facts the workflow applied, and the audit's checks
find nothing wrong with them."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from overdue.compliance_audit import Auditor, load_policies
from overdue.store import compliance_reads
from tests.integration.conftest import ROOT, Stack
from tests.integration.support import CUSTOMER_ZONE, eventually, start_account

pytestmark = pytest.mark.integration


async def test_a_workflows_contacts_leave_receipts_the_audit_accepts(stack: Stack) -> None:
    since = datetime.now(UTC)
    account = await start_account(stack)
    await eventually(
        lambda: stack.pool.fetch(
            "SELECT * FROM compliance_receipts WHERE account_id = $1 AND channel = 'call_task'",
            account,
        )
    )
    receipts = await stack.pool.fetch(
        "SELECT * FROM compliance_receipts WHERE account_id = $1 ORDER BY at", account
    )
    assert [(r["channel"], r["stage_id"], r["basis"]) for r in receipts] == [
        ("sms", "t1s_sms", "stage"),
        ("call_task", "t3s_call", "stage"),
    ]
    for receipt in receipts:
        assert (receipt["policy_id"], receipt["policy_version"]) == ("fast", 1)
        assert (receipt["time_zone"], receipt["jurisdiction"]) == (CUSTOMER_ZONE, "CN")
        assert (receipt["window_start"], receipt["window_end"]) == (time(0), time(23, 59, 59))
        assert (receipt["contact_ceased"], receipt["open_disputes"]) == (False, 0)
    assert (receipts[0]["sms_today"], receipts[1]["calls_today"]) == (1, 1)

    policies, problems = load_policies([ROOT / "tests" / "policies" / "fast.yaml"])
    assert not problems
    auditor = Auditor(policies)
    async with stack.pool.acquire() as conn:
        page = await compliance_reads.receipts_page(conn, after=(since, 0), limit=1000)
    audited = [r for r in page if r.account_id == account]
    assert len(audited) == 2
    assert [v for r in audited for v in auditor.check(r)] == []
