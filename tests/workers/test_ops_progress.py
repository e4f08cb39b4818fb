"""Progress bars, the rate limiter, the bulk-start progress file and its rejected rows, without
servers."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from api.overdue_reports import BillRefused
from api.schemas import OverdueReport, OverdueStarted
from workers.ops.bulk_start import (
    Bookkeeping,
    ProgressFile,
    RateLimiter,
    RejectedRow,
    bulk_start,
    load_progress,
)
from workers.ops.errors import OpsError
from workers.ops.progress import Progress


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_terminal_gets_one_line_redrawn_in_place() -> None:
    screen = Terminal()
    bar = Progress("bulk-start a.csv", 200, screen, unit="rows")
    bar.update(50, force=True)
    bar.update(100, force=True)
    bar.finish()
    drawn = screen.getvalue()
    assert "\x1b[" in drawn and "\r" in drawn  # rich, redrawing the line in place
    frames = [frame for frame in drawn.split("\r") if "rows" in frame]
    assert any(" 50/200" in frame for frame in frames) and "100/200" in frames[-1]
    assert "ETA" in frames[-1] and "elapsed" in frames[-1]
    assert drawn.endswith("\n\x1b[?25h")  # the line ended, the cursor shown again


def test_a_file_gets_a_plain_line_every_few_seconds_not_every_update() -> None:
    log = io.StringIO()
    bar = Progress("listing", None, log)
    for done in range(1, 1000):
        bar.update(done)
    bar.finish()
    lines = log.getvalue().splitlines()
    assert len(lines) == 2  # the first update and the end
    assert lines[-1].startswith("listing 999/? accounts")
    assert "\x1b" not in log.getvalue() and "\r" not in log.getvalue()


def test_a_plain_line_has_the_counts_share_and_times_without_a_bar() -> None:
    log = io.StringIO()
    bar = Progress("bulk-start a.csv", 200, log, unit="rows")
    bar.update(50)
    bar.update(200, force=True)
    bar.finish()
    first, *_, last = log.getvalue().splitlines()
    assert first.startswith("bulk-start a.csv  50/200 rows  25% ")
    assert last.startswith("bulk-start a.csv 200/200 rows 100% ")
    assert "ETA 0:00:00 elapsed 0:00:00" in last
    assert last == last.rstrip() and "━" not in log.getvalue()


async def test_the_rate_limiter_spaces_acquisitions_evenly() -> None:
    limiter = RateLimiter(20)
    began = time.monotonic()
    for _ in range(11):
        await limiter.wait()
    assert 0.45 <= time.monotonic() - began < 1.5  # ten gaps of 50 ms, no burst


def test_progress_file_guards_against_a_changed_csv(tmp_path: Path) -> None:
    csv, path = tmp_path / "a.csv", tmp_path / "a.csv.progress.json"
    assert load_progress(path, "abc", restart=False, csv_path=csv).rows_done == 0
    path.write_text(ProgressFile(csv_sha256="abc", rows_done=7).model_dump_json())
    assert load_progress(path, "abc", restart=False, csv_path=csv).rows_done == 7
    with pytest.raises(OpsError, match=r"a.csv changed since .* \(7 rows were done then\)"):
        load_progress(path, "def", restart=False, csv_path=csv)
    assert load_progress(path, "def", restart=True, csv_path=csv).rows_done == 0
    path.write_text("{not json")
    with pytest.raises(OpsError, match="is not a bulk-start progress file") as refused:
        load_progress(path, "abc", restart=False, csv_path=csv)
    assert refused.value.exit_code == 2


def test_rows_count_only_once_every_earlier_row_is_done(tmp_path: Path) -> None:
    run = Bookkeeping(ProgressFile(csv_sha256="abc"), tmp_path / "p.json")
    rejected = RejectedRow(line=3, account_id="A-2", reason="phone: not valid")
    run.row_finished(1, rejected)
    run.row_finished(3, "unchanged")
    # Row 0 still in flight: if the run stopped now, a resumed run would redo rows 1 and 3,
    # so nothing is counted for them yet.
    assert (run.state.rows_done, run.state.counts.rejected, run.state.rejected) == (0, 0, [])
    assert run.rows_seen == 2
    run.row_finished(0, "started")
    assert run.state.rows_done == 2 and run.rows_seen == 3
    counts = run.state.counts
    assert (counts.started, counts.rejected, counts.unchanged) == (1, 1, 0)
    assert run.state.rejected == [rejected]
    run.row_finished(2, "bill_added")
    assert run.state.rows_done == 4 and (counts.bill_added, counts.unchanged) == (1, 1)
    run.save(force=True)
    assert ProgressFile.model_validate_json((tmp_path / "p.json").read_text()) == run.state


async def test_a_bill_the_use_case_refuses_is_a_rejected_row_with_its_reason(
    tmp_path: Path,
) -> None:
    csv = tmp_path / "a.csv"
    csv.write_text(
        "account_id,name,phone,time_zone,product,amount_minor,currency,due_date\n"
        "A-1,Li Na,+8613912345678,Asia/Shanghai,credit_line,50000,USD,2026-11-01\n",
        encoding="utf-8",
    )

    async def report(account_id: str, body: OverdueReport) -> OverdueStarted:
        raise BillRefused("amount_due.currency", "the account's running process is in CNY, not USD")

    outcome = await bulk_start(
        csv,
        report,
        rate=100,
        concurrency=1,
        progress_path=tmp_path / "a.csv.progress.json",
        restart=False,
        err=io.StringIO(),
    )
    assert outcome.state.counts.rejected == 1 and outcome.state.rows_done == 1
    assert outcome.state.rejected == [
        RejectedRow(
            line=2,
            account_id="A-1",
            reason="amount_due.currency: the account's running process is in CNY, not USD",
        )
    ]
