"""`overdue simulate`'s inputs and outputs: the portfolio (a bulk-start CSV, each row checked
as the API would, or the synthetic generator), the policy and behaviour-model files, the run
with its progress bar, and the JSON and HTML reports (docs/strategy.md)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TextIO

from api.workflow_messages import jurisdiction
from overdue.policy_files import PolicyFileError, read_policy
from overdue.strategy.behaviour import BehaviourModel, ModelFileError, load_model
from overdue.strategy.portfolio import PortfolioAccount, synthetic
from overdue.strategy.report_data import compare, summarize
from overdue.strategy.report_html import render
from overdue.strategy.runner import Setup, simulate
from workers.ops.bulk_csv import CsvFormatError, Rejected, read_rows, validate
from workers.ops.progress import Progress

MAX_REASONS = 20  # rejected rows listed before "... and N more"


class InputError(ValueError):
    """Input that cannot be simulated; the message says which file, line and field."""


@dataclass(frozen=True)
class Request:
    policy: Path
    behaviour: Path
    days: int
    seed: int
    start: datetime
    out: Path
    workers: int
    portfolio: Path | None = None
    synthetic: int | None = None
    compare: Path | None = None


def read_portfolio(path: Path) -> list[PortfolioAccount]:
    """The CSV's accounts; any row the API would refuse refuses the whole file."""
    try:
        results = [validate(row) for row in read_rows(path)]
    except CsvFormatError as err:
        raise InputError(str(err)) from None
    rejected = [r for r in results if isinstance(r, Rejected)]
    if rejected:
        lines = [r.describe() for r in rejected[:MAX_REASONS]]
        if len(rejected) > MAX_REASONS:
            lines.append(f"... and {len(rejected) - MAX_REASONS} more")
        raise InputError(
            f"{path}: {len(rejected)} row(s) the API would refuse; nothing simulated:\n  "
            + "\n  ".join(lines)
        )
    accounts = []
    seen: set[str] = set()
    for row in results:
        assert not isinstance(row, Rejected)
        if row.account_id in seen:
            raise InputError(f"{path}: account {row.account_id} appears twice")
        seen.add(row.account_id)
        report = row.report
        accounts.append(
            PortfolioAccount(
                account_id=row.account_id,
                product=report.product,
                amount_minor=report.amount_due.amount_minor,
                currency=report.amount_due.currency,
                due_date=report.due_date,
                time_zone=report.customer.time_zone,
                jurisdiction=jurisdiction(report.customer.phone),
                risk_segment=report.risk_segment,
                vulnerable=report.vulnerable,
                locale=report.customer.locale,
            )
        )
    if not accounts:
        raise InputError(f"{path}: no accounts (only a header)")
    return accounts


def _policy(path: Path, today: date) -> Any:
    try:
        return read_policy(path, today)
    except PolicyFileError as err:
        raise InputError(str(err)) from None


def _model(path: Path) -> BehaviourModel:
    try:
        return load_model(path)
    except ModelFileError as err:
        raise InputError(str(err)) from None


def run(request: Request, err: TextIO) -> dict[str, Any]:
    """Simulate, write report.json and report.html under `request.out`; the report."""
    today = request.start.date()
    policy = _policy(request.policy, today)
    other = _policy(request.compare, today) if request.compare else None
    model = _model(request.behaviour)
    if request.portfolio is not None:
        accounts, portfolio = read_portfolio(request.portfolio), str(request.portfolio)
    else:
        count = request.synthetic or 0
        accounts = synthetic(count, request.seed, today)
        portfolio = f"synthetic {count} (seed {request.seed})"
    sources = {"portfolio": portfolio, "behaviour_model": str(request.behaviour)}
    reports = []
    for chosen, file in ((policy, request.policy), *([(other, request.compare)] if other else [])):
        setup = Setup(chosen, model, request.start, request.days, request.seed)
        bar = Progress(f"simulate {chosen.id} v{chosen.version}", len(accounts), err)
        done = [0]

        def advance(n: int, bar: Progress = bar, done: list[int] = done) -> None:
            done[0] += n
            bar.update(done[0])

        tally = simulate(setup, accounts, request.workers, advance)
        bar.finish()
        reports.append(summarize(tally, setup, sources | {"policy_file": str(file)}))
    report = compare(reports[0], reports[1]) if len(reports) == 2 else reports[0]
    write(report, request.out)
    return report


def write(report: dict[str, Any], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    (out / "report.html").write_text(render(report), encoding="utf-8")


def default_workers() -> int:
    return max(1, min(os.cpu_count() or 1, 8))
