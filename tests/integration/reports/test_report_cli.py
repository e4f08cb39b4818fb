"""`overdue report`: refused input answers with a clear message and exit code 2 before anything
is read; on the planted dataset the CSV, JSON and table carry the hand-computed figures."""

from __future__ import annotations

import asyncio
import csv
import io
import json
from dataclasses import dataclass
from functools import partial

import asyncpg
import pytest

from tests.integration.reports.planted import plant
from workers.cli.main import main


@dataclass(frozen=True)
class Run:
    returncode: int
    stdout: str
    stderr: str


def _overdue(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, *args: str,
    database_url: str,
) -> Run:  # fmt: skip
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("OVERDUE_REPORT_TIME_ZONE", "UTC")
    code = main(["report", *args])
    out, err = capsys.readouterr()
    return Run(code, out, err)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--from", "2026-11-31", "--to", "2026-12-01"), "'from' must be a date like 2026-12-01"),
        (("--from", "2026-11-01", "--to", "yesterday"), "'to' must be a date like 2026-12-01"),
        (
            ("--from", "2026-11-30", "--to", "2026-11-01"),
            "the range is reversed: 'to' (2026-11-01) is before 'from' (2026-11-30)",
        ),
        (("--from", "2025-01-01", "--to", "2026-11-01"), "the range is longer than 366 days"),
        (
            ("--from", "2026-11-01", "--to", "2026-11-30", "--group", "team"),
            "unknown group 'team': one of all, queue, agent, product, policy, bucket",
        ),
        (("--from", "2026-11-01", "--to", "2026-11-30", "--format", "xml"), "unknown format"),
    ],
)
def test_refused_input_is_named_and_reads_nothing(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: tuple[str, ...],
    message: str,
) -> None:
    # No database at all: a refused request never gets as far as connecting.
    done = _overdue(capsys, monkeypatch, *args, database_url="postgresql://nobody@127.0.0.1:1/x")
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr.startswith("overdue report: ")
    assert message in done.stderr


async def test_csv_json_and_table_on_the_planted_dataset(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    report_database: tuple[str, asyncpg.Pool],
) -> None:
    url, pool = report_database
    await plant(pool)

    async def overdue(*args: str) -> Run:  # in a thread: the command runs its own event loop
        return await asyncio.to_thread(
            partial(_overdue, capsys, monkeypatch, *args, database_url=url)
        )

    common = ("--from", "2026-11-01", "--to", "2026-11-30")
    as_json = await overdue(*common, "--format", "json", "--group", "agent")
    assert as_json.returncode == 0, as_json.stderr
    groups = json.loads(as_json.stdout)["groups"]
    assert groups["agent-a"]["right_party_rate"] == 0.5
    assert groups["agent-b"]["compliance_flags"] == 2

    as_csv = await overdue(*common, "--format", "csv")
    assert as_csv.returncode == 0, as_csv.stderr
    rows = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert rows[0] == ["group", "figure", "detail", "value"]
    assert ["all", "counts", "promise_kept", "1"] in rows
    assert ["all", "amounts_minor", "recovered/CNY", "60000"] in rows
    assert ["all", "bucket_rates", "1-30/roll_rate", "0.5"] in rows

    as_table = await overdue(*common, "--group", "product", "--timing")
    assert as_table.returncode == 0, as_table.stderr
    assert "Overdue report 2026-11-01 to 2026-11-30 by product (UTC)" in as_table.stdout
    card = next(
        line for line in as_table.stdout.splitlines() if line.strip("│ ").startswith("card")
    )
    assert "2/1/1" in card  # promises made / kept / broken
    assert "art. 66" in as_table.stdout
    assert "report took" in as_table.stderr
