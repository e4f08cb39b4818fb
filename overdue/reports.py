"""Supervisor reports: a date range grouped by queue, agent, product, policy or days-past-due
bucket (docs/reports.md). Built from the summary tables (overdue/store/report_refresh.py), which
are refreshed first for the range's days that are not final yet. No personal data: groups are
queue names, agent ids, products, policy ids and buckets; figures are counts and amounts."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from overdue.settings_reports import ReportSettings
from overdue.store import report_reads, report_refresh
from overdue.store.report_reads import DIMENSIONS, Deadlines

MAX_RANGE_DAYS = 366


class ReportRequestInvalid(ValueError):
    """A report asked for with a bad range or an unknown grouping; nothing was read."""


@dataclass(frozen=True)
class ReportRequest:
    first: date
    last: date
    group: str

    @classmethod
    def parse(cls, first: str, last: str, group: str) -> ReportRequest:
        start = _date(first, "from")
        end = _date(last, "to")
        if end < start:
            raise ReportRequestInvalid(
                f"the range is reversed: 'to' ({end}) is before 'from' ({start})"
            )
        if (end - start).days + 1 > MAX_RANGE_DAYS:
            raise ReportRequestInvalid(f"the range is longer than {MAX_RANGE_DAYS} days")
        if group not in DIMENSIONS:
            raise ReportRequestInvalid(f"unknown group {group!r}: one of {', '.join(DIMENSIONS)}")
        return cls(start, end, group)


def _date(text: str, name: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ReportRequestInvalid(
            f"'{name}' must be a date like 2026-12-01, not {text!r}"
        ) from None


@dataclass(frozen=True)
class ReportRules:
    time_zone: str
    bucket_bounds: tuple[int, ...]
    lookback_days: int
    deadlines: Deadlines

    def refresh_rules(self) -> report_refresh.RefreshRules:
        return report_refresh.RefreshRules(
            self.time_zone, self.bucket_bounds, self.lookback_days, self.deadlines.dispute_days
        )


@dataclass
class OpenAge:
    open: int = 0
    past_deadline: int = 0
    oldest_days: int = 0


@dataclass
class GroupFigures:
    contacts: dict[str, int] = field(default_factory=dict)  # "channel:stage" -> n
    dials: dict[str, int] = field(default_factory=dict)  # dial outcome -> n
    call_outcomes: dict[str, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # promise_made, plan_kept, cure, ...
    amounts: dict[str, dict[str, int]] = field(default_factory=dict)  # metric -> currency -> minor
    disputes_closed: dict[str, int] = field(default_factory=dict)  # in_time / late -> n
    moves: dict[str, dict[str, int]] = field(default_factory=dict)  # from bucket -> to -> n
    open_items: dict[str, OpenAge] = field(default_factory=dict)

    def count(self, metric: str) -> int:
        return self.counts.get(metric, 0)

    @property
    def right_party(self) -> int:
        return self.dials.get("reached", 0)

    @property
    def compliance_flags(self) -> int:
        """Complaints and calls that reached a third party (no debt details may go to one)."""
        return self.call_outcomes.get("complaint", 0) + self.dials.get("wrong_party", 0)

    def rates(self) -> dict[str, float | None]:
        dials = sum(self.dials.values())
        started = sum(sum(to.values()) for to in self.moves.values())
        cured = sum(to.get("cured", 0) for to in self.moves.values())
        return {
            "right_party_rate": _ratio(self.right_party, dials),
            "promise_kept_rate": _ratio(
                self.count("promise_kept"),
                self.count("promise_kept") + self.count("promise_broken"),
            ),
            "plan_kept_rate": _ratio(
                self.count("plan_kept"), self.count("plan_kept") + self.count("plan_broken")
            ),
            "cure_rate": _ratio(cured, started),
        }

    def bucket_rates(self, order: list[str]) -> dict[str, dict[str, float | None]]:
        """Per starting bucket: the share cured and the share that rolled to a later bucket."""
        out: dict[str, dict[str, float | None]] = {}
        for bucket, to in self.moves.items():
            total = sum(to.values())
            later = sum(
                n for state, n in to.items()
                if state in order and order.index(state) > order.index(bucket)
            )  # fmt: skip
            out[bucket] = {
                "cure_rate": _ratio(to.get("cured", 0), total),
                "roll_rate": _ratio(later, total),
            }
        return out


def _ratio(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None


@dataclass
class Report:
    request: ReportRequest
    time_zone: str
    buckets: list[str]
    generated_at: datetime
    groups: dict[str, GroupFigures]


def bucket_labels(bounds: tuple[int, ...]) -> list[str]:
    labels = ["current"]
    for i, low in enumerate(bounds):
        labels.append(f"{low}+" if i == len(bounds) - 1 else f"{low}-{bounds[i + 1] - 1}")
    return labels


async def build_report(pool: asyncpg.Pool, request: ReportRequest, rules: ReportRules) -> Report:
    """Refresh the range's days that are not final (those not refreshed since they ended),
    then read the figures."""
    today = datetime.now(ZoneInfo(rules.time_zone)).date()
    last_known = min(request.last, today)
    async with pool.acquire() as conn:
        if request.first <= last_known:
            stale = await report_refresh.stale_days(
                conn, request.first, last_known, rules.time_zone
            )
            if stale:
                await report_refresh.refresh_days(conn, stale[0], stale[-1], rules.refresh_rules())
    return await read_report(pool, request, rules)


async def read_report(pool: asyncpg.Pool, request: ReportRequest, rules: ReportRules) -> Report:
    dim, first, last = request.group, request.first, request.last
    groups: dict[str, GroupFigures] = defaultdict(GroupFigures)
    for row in await report_reads.summed(pool, dim, first, last):
        _add_summed(groups[row.group], row)
    for move in await report_reads.moves(pool, dim, first, last, rules.bucket_bounds):
        groups[move.group].moves.setdefault(move.from_bucket, {})[move.to_state] = move.n
    items = await report_reads.open_items(
        pool, dim, first, last, time_zone=rules.time_zone, bounds=rules.bucket_bounds,
        deadlines=rules.deadlines,
    )  # fmt: skip
    for item in items:
        groups[item.group].open_items[item.item] = OpenAge(
            item.n, item.past_deadline, item.oldest_days
        )
    return Report(
        request=request,
        time_zone=rules.time_zone,
        buckets=bucket_labels(rules.bucket_bounds),
        generated_at=datetime.now(ZoneInfo(rules.time_zone)),
        groups=dict(sorted(groups.items())),
    )


def _add_summed(figures: GroupFigures, row: report_reads.Summed) -> None:
    if row.metric == "contact":
        figures.contacts[row.detail] = figures.contacts.get(row.detail, 0) + row.n
    elif row.metric == "dial":
        figures.dials[row.detail] = figures.dials.get(row.detail, 0) + row.n
    elif row.metric == "call_outcome":
        figures.call_outcomes[row.detail] = figures.call_outcomes.get(row.detail, 0) + row.n
    elif row.metric == "dispute_closed":
        figures.disputes_closed[row.detail] = figures.disputes_closed.get(row.detail, 0) + row.n
    else:
        figures.counts[row.metric] = figures.counts.get(row.metric, 0) + row.n
    if row.amount_minor and row.metric in (
        "recovered",
        "promise_made",
        "promise_kept",
        "promise_broken",
    ):
        by_currency = figures.amounts.setdefault(row.metric, {})
        by_currency[row.currency] = by_currency.get(row.currency, 0) + row.amount_minor


def report_json(report: Report) -> dict[str, Any]:
    order = report.buckets
    return {
        "from": report.request.first.isoformat(),
        "to": report.request.last.isoformat(),
        "group_by": report.request.group,
        "time_zone": report.time_zone,
        "buckets": order,
        "generated_at": report.generated_at.isoformat(),
        "groups": {
            name: {
                "contacts": g.contacts,
                "dials": g.dials,
                "right_party_contacts": g.right_party,
                "call_outcomes": g.call_outcomes,
                "counts": g.counts,
                "amounts_minor": g.amounts,
                "disputes_closed": g.disputes_closed,
                "bucket_moves": g.moves,
                "bucket_rates": g.bucket_rates(order),
                "open": {k: vars(v) for k, v in g.open_items.items()},
                "compliance_flags": g.compliance_flags,
                **g.rates(),
            }
            for name, g in report.groups.items()
        },
    }


def report_rows(report: Report) -> list[tuple[str, str, str, str]]:
    """Flat rows (group, figure, detail, value) for CSV: one line per number."""
    rows: list[tuple[str, str, str, str]] = []
    for name, data in report_json(report)["groups"].items():
        for figure, value in data.items():
            rows.extend(_flatten(name, figure, "", value))
    return rows


def _flatten(group: str, figure: str, detail: str, value: Any) -> list[tuple[str, str, str, str]]:
    if isinstance(value, dict):
        out: list[tuple[str, str, str, str]] = []
        for key, inner in value.items():
            out.extend(_flatten(group, figure, f"{detail}/{key}" if detail else str(key), inner))
        return out
    return [(group, figure, detail, "" if value is None else str(value))]


def rules_from(settings: ReportSettings) -> ReportRules:
    return ReportRules(
        time_zone=settings.report_time_zone,
        bucket_bounds=settings.report_bucket_bounds,
        lookback_days=settings.report_lookback_days,
        deadlines=Deadlines(
            dispute_days=settings.report_dispute_deadline_days,
            complaint_days=settings.report_complaint_deadline_days,
            escalation_days=settings.report_escalation_deadline_days,
        ),
    )
