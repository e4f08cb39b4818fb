"""`overdue bulk-start`: the API's code path per row, rejected rows with reasons, resumable."""

from __future__ import annotations

import io
import json
import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest

from api.dependencies import Services
from api.overdue_reports import report_bill
from api.schemas import OverdueReport, OverdueStarted
from overdue.policy_files import load_policy
from tests.integration.conftest import Stack
from tests.integration.ops.support import ops
from tests.integration.support import (
    CUSTOMER_ZONE,
    NAME,
    PHONE,
    customer_today,
    eventually,
    state_of,
)
from workers.ops.bulk_start import ProgressFile, bulk_start
from workers.ops.errors import OpsError

pytestmark = pytest.mark.integration

HEADER = "account_id,name,phone,time_zone,locale,product,amount_minor,currency,due_date\n"


def row(account: str, *, phone: str = PHONE, amount: str = "50000", due: str = "") -> str:
    due = due or (customer_today() - timedelta(days=2)).isoformat()
    return f"{account},{NAME},{phone},{CUSTOMER_ZONE},en,credit_line,{amount},CNY,{due}\n"


def accounts(n: int) -> list[str]:
    prefix = uuid.uuid4().hex[:8]
    return [f"bulk-{prefix}-{i}" for i in range(n)]


async def contacts(stack: Stack, account: str) -> int:
    count: int = await stack.pool.fetchval(
        "SELECT count(*) FROM contact_ledger WHERE account_id = $1", account
    )
    return count


async def test_bulk_start_starts_valid_rows_and_lists_rejected_ones(
    stack: Stack, tmp_path: Path
) -> None:
    a, b, c, d = accounts(4)
    csv = tmp_path / "accounts.csv"
    csv.write_text(
        HEADER
        + row(a)
        + row(b, phone="+86139")  # line 3: not a valid number
        + row(c)
        + "\n"  # a blank line 5 is skipped
        + row(d, amount="-1")  # line 6
        + row(a)  # line 7: the same bill again: recognised, nothing new
    )
    ran = await ops(stack.settings, "bulk-start", str(csv), "--rate", "50")
    assert ran.code == 1, ran.err  # rows were rejected
    assert (
        "5 rows done: 2 started, 0 bills added to running processes, 1 already known, "
        "2 rejected" in ran.out
    )
    assert f"line 3 (account {b}): phone: not a valid phone number for its country code" in ran.out
    assert f"line 6 (account {d}): amount_minor: Input should be greater than 0" in ran.out
    assert NAME not in ran.out + ran.err and PHONE not in ran.out + ran.err
    assert "bulk-start accounts.csv 5/5 rows 100% " in ran.err

    assert await state_of(stack, a) == "active" and await state_of(stack, c) == "active"
    assert (await stack.api.get(f"/v1/accounts/{b}")).status_code == 404
    actor = await stack.pool.fetchval(
        "SELECT actor FROM audit_events WHERE account_id = $1 AND kind = 'process.started'", a
    )
    assert actor.startswith("ops:")

    progress = ProgressFile.model_validate_json(
        (tmp_path / "accounts.csv.progress.json").read_text()
    )
    assert progress.finished and progress.rows_done == 5
    assert [r.line for r in progress.rejected] == [3, 6]

    again = await ops(stack.settings, "bulk-start", str(csv))
    assert "every row was done already; nothing to do" in again.err


async def test_bulk_start_is_idempotent_like_the_put(stack: Stack, tmp_path: Path) -> None:
    (a,) = accounts(1)
    csv = tmp_path / "one.csv"
    csv.write_text(HEADER + row(a))
    assert (await ops(stack.settings, "bulk-start", str(csv))).code == 0
    await eventually(lambda: contacts(stack, a))
    sent = await contacts(stack, a)

    ran = await ops(stack.settings, "bulk-start", str(csv), "--restart")
    assert ran.code == 0, ran.err
    assert "0 started, 0 bills added to running processes, 1 already known" in ran.out
    assert await contacts(stack, a) == sent  # no second process, no second SMS


async def test_a_stopped_run_resumes_where_it_stopped(stack: Stack, tmp_path: Path) -> None:
    rows = accounts(5)
    csv = tmp_path / "resume.csv"
    csv.write_text(HEADER + "".join(row(account) for account in rows))
    progress_path = tmp_path / "resume.progress.json"
    services = Services(
        settings=stack.settings,
        pool=stack.pool,
        temporal=stack.temporal,
        policy=load_policy(stack.settings.policy_file),
    )

    async def report(account_id: str, body: OverdueReport) -> OverdueStarted:
        if account_id == rows[2]:
            raise ConnectionResetError("Temporal went away")
        return await report_bill(services, account_id, body, "ops:test")

    with pytest.raises(OpsError, match=r"stopped at line 4: ConnectionResetError"):
        await bulk_start(
            csv, report, rate=100, concurrency=1, progress_path=progress_path,
            restart=False, err=io.StringIO(),
        )  # fmt: skip
    saved = json.loads(progress_path.read_text())
    assert saved["rows_done"] == 2 and not saved["finished"]

    ran = await ops(stack.settings, "bulk-start", str(csv), "--progress-file", str(progress_path))
    assert ran.code == 0, ran.err
    assert "resumed after 2 rows done by an earlier run" in ran.err
    assert "5 rows done: 5 started" in ran.out  # both runs, counted in the progress file
    for account in rows:
        assert await state_of(stack, account) == "active"

    csv.write_text(csv.read_text() + row(accounts(1)[0]))
    changed = await ops(
        stack.settings, "bulk-start", str(csv), "--progress-file", str(progress_path)
    )
    assert changed.code == 2
    assert "changed since" in changed.err and "--restart" in changed.err


async def test_starts_are_rate_limited(stack: Stack, tmp_path: Path) -> None:
    csv = tmp_path / "paced.csv"
    csv.write_text(HEADER + "".join(row(account) for account in accounts(6)))
    began = time.monotonic()
    ran = await ops(stack.settings, "bulk-start", str(csv), "--rate", "5", "--concurrency", "4")
    assert ran.code == 0, ran.err
    # Six starts at 5/s are spaced 0.2 s apart: the last begins 1 s after the first.
    assert time.monotonic() - began >= 1.0


async def test_a_file_that_cannot_be_used_is_refused_before_anything(
    stack: Stack, tmp_path: Path
) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("account_id,name,phone\nA-1,x,y\n")
    ran = await ops(stack.settings, "bulk-start", str(csv))
    assert ran.code == 2
    assert "the header lacks the column(s) time_zone, product, amount_minor" in ran.err
    missing = await ops(stack.settings, "bulk-start", str(tmp_path / "nope.csv"))
    assert missing.code == 2 and "nope.csv: no such file" in missing.err
