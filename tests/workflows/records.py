"""Building AccountRecords for tests of the pure core."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from workflows.decisions import anchor_time
from workflows.policy import Policy
from workflows.types import AccountRecord

TZ = "Asia/Shanghai"


def make_record(
    policy: Policy,
    *,
    due_date: date = date(2026, 3, 10),
    started_at: datetime = datetime(2026, 3, 1, tzinfo=UTC),
    balance_minor: int = 100_000,
    **changes: Any,
) -> AccountRecord:
    fields: dict[str, Any] = {
        "account_id": "acct-1",
        "product": "credit_line",
        "currency": "CNY",
        "due_date": due_date,
        "time_zone": TZ,
        "jurisdiction": "CN",
        "risk_segment": None,
        "vulnerable": False,
        "policy": policy,
        "episode_id": "ep-1",
        "anchor_at": anchor_time(policy, due_date, changes.get("time_zone", TZ), started_at),
        "balance_minor": balance_minor,
    }
    fields.update(changes)
    return AccountRecord(**fields)
