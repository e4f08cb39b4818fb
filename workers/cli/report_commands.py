"""`overdue report`: supervisor reports for a date range, grouped by queue, agent, product,
policy or days-past-due bucket (docs/reports.md), as a readable table, CSV or JSON.

Exit codes: 0 the report was written; 2 a refused range, group, format or setting (nothing was
read). Days of the range not refreshed since they ended are refreshed first.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich.table import Table

from overdue.reports import (
    Report,
    ReportRequest,
    ReportRequestInvalid,
    build_report,
    report_json,
    report_rows,
    rules_from,
)
from overdue.settings import Settings
from overdue.store.report_reads import DIMENSIONS
from workers.ops.output import console_for, show
from workflows.currencies import format_minor

FORMATS = ("table", "csv", "json")


def add_parsers(
    commands: argparse._SubParsersAction[argparse.ArgumentParser],
) -> dict[str, Callable[[Settings, argparse.Namespace], int]]:
    """Add the `report` command; returns its handler by name."""
    report = commands.add_parser(
        "report",
        help="Supervisor report for a date range (table, CSV or JSON).",
        description="Contacts, right-party contacts, promises and plans made, kept and broken, "
        "amounts recovered, cure and roll rates, disputes, complaints and escalations with "
        "their age, for the days FROM to TO (inclusive, OVERDUE_REPORT_TIME_ZONE's days), "
        "grouped by one dimension. No personal data. See docs/reports.md.",
    )
    report.add_argument("--from", dest="first", required=True, help="first day, YYYY-MM-DD")
    report.add_argument("--to", dest="last", required=True, help="last day, YYYY-MM-DD")
    report.add_argument(
        "--group", default="all", help=f"one of {', '.join(DIMENSIONS)} (default: all)"
    )
    report.add_argument("--format", default="table", help="table, csv or json (default: table)")
    report.add_argument("--timing", action="store_true", help="print the seconds taken to stderr")
    return {"report": run_report}


def run_report(settings: Settings, args: argparse.Namespace) -> int:
    try:
        request = ReportRequest.parse(args.first, args.last, args.group)
        if args.format not in FORMATS:
            raise ReportRequestInvalid(
                f"unknown format {args.format!r}: one of {', '.join(FORMATS)}"
            )
    except ReportRequestInvalid as err:
        print(f"overdue report: {err}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    report = asyncio.run(_build(settings, request))
    took = time.perf_counter() - started
    write(report, args.format, sys.stdout)
    if args.timing:
        print(f"report took {took:.3f} s", file=sys.stderr)
    return 0


async def _build(settings: Settings, request: ReportRequest) -> Report:
    from overdue.db import create_pool

    pool = await create_pool(settings)
    try:
        return await build_report(pool, request, rules_from(settings))
    finally:
        await pool.close()


def write(report: Report, fmt: str, out: TextIO) -> None:
    if fmt == "json":
        json.dump(report_json(report), out, ensure_ascii=False, indent=2, sort_keys=True)
        out.write("\n")
    elif fmt == "csv":
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow(["group", "figure", "detail", "value"])
        writer.writerows(report_rows(report))
    else:
        show(console_for(out), table(report))


_COLUMNS = (
    ("contacts", "contacts"),
    ("right-party", "right_party_contacts"),
    ("RPC rate", "right_party_rate"),
    ("promises made/kept/broken", "promises"),
    ("kept rate", "promise_kept_rate"),
    ("plans agreed/kept/broken", "plans"),
    ("recovered", "recovered"),
    ("cure rate", "cure_rate"),
    ("disputes open (late)", "dispute"),
    ("complaints (late)", "complaint"),
    ("escalations open (late)", "escalation"),
    ("compliance flags", "compliance_flags"),
)


def table(report: Report) -> Table:
    r = report.request
    title = f"Overdue report {r.first} to {r.last} by {r.group} ({report.time_zone})"
    t = Table(title=title, caption="Quality beside amounts (CN credit-card measures art. 66).")
    t.add_column(r.group)
    for heading, _ in _COLUMNS:
        t.add_column(heading, justify="right")
    for name, data in report_json(report)["groups"].items():
        t.add_row(name or "(none)", *(_cell(data, key) for _, key in _COLUMNS))
    return t


def _cell(data: dict[str, object], key: str) -> str:
    counts: dict[str, int] = data["counts"]  # type: ignore[assignment]
    opened: dict[str, dict[str, int]] = data["open"]  # type: ignore[assignment]
    if key == "contacts":
        return str(sum(data["contacts"].values()))  # type: ignore[attr-defined]
    if key in ("promises", "plans"):
        made = "promise_made" if key == "promises" else "plan_agreed"
        stem = made.split("_")[0]
        kept, broken = counts.get(f"{stem}_kept", 0), counts.get(f"{stem}_broken", 0)
        return f"{counts.get(made, 0)}/{kept}/{broken}"
    if key == "recovered":
        amounts: dict[str, dict[str, int]] = data["amounts_minor"]  # type: ignore[assignment]
        by_currency = amounts.get("recovered", {})
        return " ".join(f"{c} {format_minor(v, c)}" for c, v in sorted(by_currency.items())) or "0"
    if key in ("dispute", "complaint", "escalation"):
        item = opened.get(key, {"open": 0, "past_deadline": 0})
        return f"{item['open']} ({item['past_deadline']})"
    value = data[key]
    if isinstance(value, float):
        return f"{value:.1%}"
    return "-" if value is None else str(value)
