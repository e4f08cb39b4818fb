"""Keeps bench.pg_size from rotting: two lifecycles through the product's writes, then sizes.

Structure only (sizes depend on Postgres' page layout, not on this test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import pg_size


# An embedded Postgres: a real server.
@pytest.mark.integration
def test_pg_size_counts_every_row_of_a_lifecycle(tmp_path: Path) -> None:
    out = tmp_path / "pg_size.json"
    assert pg_size.main(["--n", "2", "--out", str(out)]) == 0

    data = json.loads(out.read_text())
    rows = {t["table_name"]: t["rows_per_account"] for t in data["tables"]}
    assert rows["accounts"] == rows["customer_contacts"] == rows["account_bills"] == 1
    # 3 SMS and 3 call tasks, each with its ledger row and compliance receipt.
    assert rows["contact_ledger"] == rows["compliance_receipts"] == 6
    assert rows["call_tasks"] == 3 and rows["reported_events"] == 1
    assert "alembic_version" not in rows
    assert data["total_bytes"] == sum(t["total_bytes"] for t in data["tables"])
    assert data["bytes_per_account"] == round(data["total_bytes"] / 2, 1)
