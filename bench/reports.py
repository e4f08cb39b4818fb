"""`overdue report` over N generated accounts (bench/report_data.py): the time a report takes,
as a ratio to a plain `SELECT count(*) FROM report_accounts` (the table its widest read scans)
measured in the same run, with the EXPLAIN (ANALYZE, BUFFERS) of its reads.

Steps: fill an embedded Postgres; refresh the range's days (the summary tables' one-off cost per
day, `cold`); then run `overdue report` (the CLI, its own process) for the range grouped by
agent and by bucket, each `--repeat` times (`warm`: the days are final, nothing is refreshed).

    .venv/bin/python -m bench.reports [--accounts 1000000] [--from 2026-11-01] [--to 2026-11-30]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import asyncpg

from bench.common import ROOT, fmt, print_table, publish_result, ratio
from bench.report_data import fill
from bench.stack import embedded_postgres
from overdue.reports import ReportRequest, build_report, rules_from
from overdue.settings import Settings
from overdue.store.report_reads import count_rows, explain

TIME_ZONE = "Asia/Shanghai"


def _overdue_report(database_url: str, first: str, last: str, group: str) -> float:
    """Seconds `overdue report --format csv` takes in its own process (start-up excluded: the
    command's own --timing figure)."""
    env = {**os.environ, "DATABASE_URL": database_url, "OVERDUE_REPORT_TIME_ZONE": TIME_ZONE}
    done = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", "report", "--from", first, "--to", last,
         "--group", group, "--format", "csv", "--timing"],
        capture_output=True, text=True, env=env, cwd=ROOT, check=True, timeout=3600,
    )  # fmt: skip
    line = next(x for x in done.stderr.splitlines() if x.startswith("report took"))
    return float(line.split()[2])


async def _baseline(pool: asyncpg.Pool, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        await count_rows(pool, "report_accounts")
        times.append(time.perf_counter() - started)
    return statistics.median(times)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    async with embedded_postgres() as (server, _folder):
        url = server.url
        os.environ["DATABASE_URL"] = url
        os.environ["OVERDUE_REPORT_TIME_ZONE"] = TIME_ZONE
        settings = Settings()
        rules = rules_from(settings)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=4)
        assert pool is not None
        try:
            print(f"filling {args.accounts:,} accounts", flush=True)
            started = time.perf_counter()
            async with pool.acquire() as conn:
                counts = await fill(conn, args.accounts)
            fill_s = time.perf_counter() - started
            request = ReportRequest.parse(args.first, args.last, "agent")
            started = time.perf_counter()
            await build_report(pool, request, rules)
            cold_s = time.perf_counter() - started
            print(f"cold (refresh {args.first}..{args.last} + read): {cold_s:.1f} s", flush=True)
            warm: dict[str, list[float]] = {}
            baseline: list[float] = []
            for group in ("agent", "bucket"):
                for _ in range(args.repeat):
                    warm.setdefault(group, []).append(
                        _overdue_report(url, args.first, args.last, group)
                    )
                    baseline.append(await _baseline(pool, 1))
            async with pool.acquire() as conn:
                first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
                plans = await explain(
                    conn, "agent", first, last, time_zone=rules.time_zone,
                    bounds=rules.bucket_bounds, deadlines=rules.deadlines,
                )  # fmt: skip
                daily_rows = await count_rows(conn, "report_daily")
        finally:
            await pool.close()
    base = statistics.median(baseline)
    figures = {g: statistics.median(t) for g, t in warm.items()}
    return {
        "accounts": args.accounts,
        "range": [args.first, args.last],
        "rows": counts,
        "report_daily_rows": daily_rows,
        "fill_s": round(fill_s, 1),
        "cold_refresh_and_read_s": round(cold_s, 2),
        "warm_report_s": {g: round(v, 3) for g, v in figures.items()},
        "warm_runs_s": warm,
        "baseline_count_report_accounts_s": round(base, 3),
        "ratio_to_baseline": {g: ratio(v, base) for g, v in figures.items()},
        "plans": plans,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else "")
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--from", dest="first", default="2026-11-01")
    parser.add_argument("--to", dest="last", default="2026-11-30")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    result = asyncio.run(run(args))
    print_table(
        [
            [g, fmt(s, 3), fmt(result["baseline_count_report_accounts_s"], 3),
             fmt(result["ratio_to_baseline"][g], 2)]
            for g, s in result["warm_report_s"].items()
        ],
        ["overdue report by", "seconds (median)", "count(*) baseline", "ratio"],
    )  # fmt: skip
    for name, plan in result["plans"].items():
        print(f"\n-- {name}\n{plan}")
    publish_result("reports", result, args.out)


if __name__ == "__main__":
    main()
