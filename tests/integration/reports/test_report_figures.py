"""Report figures on the planted dataset (planted.py) equal the figures worked out by hand.

Buckets 1,31,61,91 in UTC. On 1 November: a1 is 12 days past due (1-30), a2 31 (31-60), a3 7
(1-30), a4 47 (31-60). On 30 November: a1 41 (31-60: rolled), a2 60 (31-60: stayed), a3 cured on
the 20th, a4 76 (61-90: rolled)."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import asyncpg

from overdue.reports import ReportRequest, ReportRules, read_report, report_json, report_rows
from overdue.store.report_reads import Deadlines
from overdue.store.report_refresh import refresh_days, stale_days
from tests.integration.reports.planted import FIRST, LAST, account, plant

RULES = ReportRules(
    time_zone="UTC",
    bucket_bounds=(1, 31, 61, 91),
    lookback_days=90,
    deadlines=Deadlines(dispute_days=15, complaint_days=15, escalation_days=3),
)


async def _report(pool: asyncpg.Pool, group: str) -> dict[str, Any]:
    async with pool.acquire() as conn:
        await refresh_days(conn, FIRST, LAST, RULES.refresh_rules())
    report = await read_report(pool, ReportRequest(FIRST, LAST, group), RULES)
    groups: dict[str, Any] = report_json(report)["groups"]
    return groups


async def test_all_figures_equal_the_hand_computed_ones(report_db: asyncpg.Pool) -> None:
    await plant(report_db)
    g = (await _report(report_db, "all"))["all"]
    assert g["contacts"] == {"sms:d1": 1, "call_task:d2_call": 1}
    assert g["dials"] == {"no_answer": 1, "reached": 1, "wrong_party": 1}
    assert g["right_party_contacts"] == 1
    assert g["right_party_rate"] == 0.3333
    assert g["call_outcomes"] == {"reached": 1, "complaint": 1}
    counts = g["counts"]
    assert counts["promise_made"] == 2
    assert counts["promise_kept"] == 1  # a1: 40,000 paid on the 8th, before the 13th
    assert counts["promise_broken"] == 1  # a2: promised the 12th, grace 2: broken on the 15th
    assert g["promise_kept_rate"] == 0.5
    assert counts["plan_agreed"] == 1
    assert counts["plan_broken"] == 1  # a4: nothing paid by the 10th + 3 days
    assert "plan_kept" not in counts
    assert g["plan_kept_rate"] == 0.0
    assert g["amounts_minor"]["recovered"] == {"CNY": 60_000}
    assert g["amounts_minor"]["promise_made"] == {"CNY": 70_000}
    assert counts["cure"] == 1
    assert counts["escalation"] == 1
    assert counts["dispute_opened"] == 2
    assert g["disputes_closed"] == {"in_time": 1}
    assert g["bucket_moves"] == {
        "1-30": {"31-60": 1, "cured": 1},
        "31-60": {"31-60": 1, "61-90": 1},
    }
    assert g["cure_rate"] == 0.25
    assert g["bucket_rates"] == {
        "1-30": {"cure_rate": 0.5, "roll_rate": 0.5},
        "31-60": {"cure_rate": 0.0, "roll_rate": 0.5},
    }
    # At the end of the 30th (1 December 00:00), in whole days: a4's dispute is 28 days and 14
    # hours old (opened the 2nd, 10:00), a2's complaint and escalation 24 days and 14 hours.
    assert g["open"] == {
        "dispute": {"open": 1, "past_deadline": 1, "oldest_days": 28},
        "complaint": {"open": 1, "past_deadline": 1, "oldest_days": 24},
        "escalation": {"open": 1, "past_deadline": 1, "oldest_days": 24},
    }
    assert g["compliance_flags"] == 2  # a2's complaint and its third-party call


async def test_per_agent_figures_show_quality_beside_amounts(report_db: asyncpg.Pool) -> None:
    await plant(report_db)
    groups = await _report(report_db, "agent")
    a, b = groups["agent-a"], groups["agent-b"]
    assert a["dials"] == {"no_answer": 1, "reached": 1} and a["right_party_rate"] == 0.5
    assert a["counts"]["promise_kept"] == 1 and a["promise_kept_rate"] == 1.0
    assert a["amounts_minor"]["recovered"] == {"CNY": 40_000}
    assert a["compliance_flags"] == 0
    assert b["right_party_rate"] == 0.0 and b["promise_kept_rate"] == 0.0
    assert b["compliance_flags"] == 2
    assert b["open"]["complaint"]["open"] == 1
    assert groups["sup-1"]["counts"] == {"plan_agreed": 1, "plan_broken": 1}


async def test_grouped_by_bucket_product_and_policy(report_db: asyncpg.Pool) -> None:
    await plant(report_db)
    buckets = await _report(report_db, "bucket")
    # a payment's bucket is the account's on the payment's day: a1 on the 8th is 19 days past due
    assert buckets["1-30"]["amounts_minor"]["recovered"] == {"CNY": 60_000}
    assert buckets["1-30"]["bucket_moves"] == {"1-30": {"31-60": 1, "cured": 1}}
    assert buckets["31-60"]["bucket_moves"] == {"31-60": {"31-60": 1, "61-90": 1}}
    products = await _report(report_db, "product")
    assert products["card"]["counts"]["promise_made"] == 2
    assert products["loan"]["counts"]["cure"] == 1
    policies = await _report(report_db, "policy")
    assert set(policies) == {"p1", "p2"}
    assert policies["p2"]["open"]["dispute"]["open"] == 1


async def test_refresh_twice_gives_the_same_figures_and_marks_days_final(
    report_db: asyncpg.Pool,
) -> None:
    await plant(report_db)
    first = await _report(report_db, "queue")
    second = await _report(report_db, "queue")
    assert first == second
    assert await stale_days(report_db, FIRST, LAST, "UTC") == []
    assert len(await stale_days(report_db, FIRST, LAST, "Asia/Shanghai")) == 30


async def test_no_personal_data_in_reports(report_db: asyncpg.Pool) -> None:
    await plant(report_db)
    async with report_db.acquire() as conn:
        await conn.execute(
            "INSERT INTO customer_contacts (account_id, full_name, phone_e164, time_zone, locale) "
            "VALUES ('a1', '张三 Zhang San', '+8613800138000', 'Asia/Shanghai', 'zh-CN')"
        )
    for group in ("all", "queue", "agent", "product", "policy", "bucket"):
        async with report_db.acquire() as conn:
            await refresh_days(conn, FIRST, LAST, RULES.refresh_rules())
        report = await read_report(report_db, ReportRequest(FIRST, LAST, group), RULES)
        text = json.dumps(report_json(report), ensure_ascii=False) + repr(report_rows(report))
        for secret in ("张三", "Zhang", "13800138000", "a1", "a2", "d-3", "b1"):
            assert secret not in text, (group, secret)


async def test_a_quiet_account_still_counts_in_the_bucket_moves(report_db: asyncpg.Pool) -> None:
    """An account with nothing recorded in the range rolls like any other."""
    await plant(report_db)
    async with report_db.acquire() as conn:
        await account(conn, "quiet", "card", "p1", date(2026, 10, 15), 5_000)
        async with conn.transaction():
            await refresh_days(conn, FIRST, LAST, RULES.refresh_rules())
    report = await read_report(report_db, ReportRequest(FIRST, LAST, "all"), RULES)
    # 17 days past due on 1 November (1-30), 46 on the 30th (31-60): rolled on
    assert report_json(report)["groups"]["all"]["bucket_moves"]["1-30"] == {"31-60": 2, "cured": 1}
