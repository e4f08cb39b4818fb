"""Reading the supervisor reports (docs/reports.md): sums of `report_daily` over a range, bucket
moves and cures from `report_accounts`, and the disputes, complaints and escalations open at the
range's end with their age. Every answer is grouped by one dimension; no personal data."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import asyncpg

DIMENSIONS = ("all", "queue", "agent", "product", "policy", "bucket")

# A dimension's value for an account (`ra`) at day `$day`; whitelisted, never from input.
_ACCOUNT_VALUE = {
    "all": "'all'",
    "queue": "ra.queue",
    "agent": "ra.agent",
    "product": "ra.product",
    "policy": "ra.policy_id",
    "bucket": "report_bucket($day - ra.due_date, $bounds::integer[])",
}


def _value(dimension: str, day: str, bounds: str, agent: str = "ra.agent") -> str:
    if dimension not in _ACCOUNT_VALUE:
        raise ValueError(f"unknown dimension {dimension!r}")
    expr = _ACCOUNT_VALUE[dimension].replace("$day", day).replace("$bounds", bounds)
    return agent if dimension == "agent" else expr


@dataclass(frozen=True)
class Summed:
    group: str
    metric: str
    detail: str
    currency: str
    n: int
    amount_minor: int


@dataclass(frozen=True)
class Move:
    group: str
    from_bucket: str
    to_state: str  # a bucket, or 'cured'
    n: int


@dataclass(frozen=True)
class OpenItem:
    group: str
    item: str  # dispute, complaint, escalation
    n: int
    past_deadline: int
    oldest_days: int


_SUMMED = """
SELECT dim_value, metric, detail, currency, sum(n)::bigint AS n,
       sum(amount_minor)::bigint AS amount
  FROM report_daily
 WHERE dimension = $1 AND day BETWEEN $2 AND $3
 GROUP BY dim_value, metric, detail, currency
 ORDER BY dim_value, metric, detail, currency
"""

# Grouped by due date first (a few thousand rows), bucketed after: the scan does no per-row
# bucket arithmetic.
_MOVES = """
SELECT CASE WHEN $4 THEN report_bucket($1::date - x.due_date, $3::integer[]) ELSE x.grp END,
       report_bucket($1::date - x.due_date, $3::integer[]) AS from_b,
       CASE WHEN x.cured THEN 'cured'
            ELSE report_bucket($2::date - x.due_date, $3::integer[]) END AS to_s,
       sum(x.n)::bigint AS n
  FROM (SELECT {group} AS grp, ra.due_date, coalesce(ra.cured_on <= $2, false) AS cured,
               count(*) AS n
          FROM report_accounts ra
         WHERE ra.due_date < $1 AND (ra.cured_on IS NULL OR ra.cured_on >= $1)
         GROUP BY 1, 2, 3) x
 GROUP BY 1, 2, 3
 ORDER BY 1, 2, 3
"""


async def summed(
    conn: asyncpg.Connection | asyncpg.Pool, dimension: str, first: date, last: date
) -> list[Summed]:
    _value(dimension, "", "")  # refuses an unknown dimension
    rows = await conn.fetch(
        _SUMMED,
        dimension,
        first,
        last,
    )
    return [
        Summed(r["dim_value"], r["metric"], r["detail"], r["currency"], r["n"], r["amount"])
        for r in rows
    ]


async def moves(
    conn: asyncpg.Connection | asyncpg.Pool,
    dimension: str,
    first: date,
    last: date,
    bounds: tuple[int, ...],
) -> list[Move]:
    """Accounts overdue and not cured when the range began: their bucket then, and at its end
    their bucket or 'cured'. The bucket dimension groups by the bucket they started in."""
    rows = await conn.fetch(
        _MOVES.format(group=_moves_group(dimension)),
        first,
        last,
        list(bounds),
        dimension == "bucket",
    )
    return [Move(r[0], r["from_b"], r["to_s"], r["n"]) for r in rows]


def _moves_group(dimension: str) -> str:
    """The inner grouping of `_MOVES`: the bucket dimension is bucketed outside it."""
    return "''" if dimension == "bucket" else _value(dimension, "", "")


_OPEN_ITEMS = """
WITH items AS (
    SELECT 'dispute' AS item, o.account_id, NULL::text AS actor, o.reported_at AS since,
           $4::integer AS days
      FROM reported_events o
     WHERE o.kind = 'dispute.opened' AND o.reported_at < $1
       AND NOT EXISTS (SELECT 1 FROM reported_events c
                        WHERE c.account_id = o.account_id AND c.kind = 'dispute.closed'
                          AND c.event_id = o.event_id AND c.reported_at < $1)
    UNION ALL
    SELECT 'complaint', e.account_id, e.actor, e.occurred_at, $5::integer
      FROM audit_events e
     WHERE e.kind = 'call.outcome' AND e.details ->> 'outcome' = 'complaint'
       AND e.occurred_at < $1
       AND NOT EXISTS (SELECT 1 FROM audit_events r
                        WHERE r.account_id = e.account_id AND r.kind = 'complaint.resolved'
                          AND r.details ->> 'complaint_id' = e.id::text AND r.occurred_at < $1)
    UNION ALL
    (SELECT DISTINCT ON (e.account_id)
            'escalation', e.account_id, e.actor, e.occurred_at, $6::integer
       FROM audit_events e
      WHERE e.kind = 'account.escalated' AND e.occurred_at < $1
      ORDER BY e.account_id, e.occurred_at)
)
SELECT {group} AS grp, i.item, count(*) AS n,
       count(*) FILTER (WHERE $1 - i.since > make_interval(days => i.days)) AS late,
       coalesce(max(extract(day FROM $1 - i.since)), 0)::integer AS oldest
  FROM items i JOIN report_accounts ra USING (account_id)
 WHERE (i.item <> 'escalation' OR ra.cured_on IS NULL OR ra.cured_on > $2)
   AND $3::integer[] IS NOT NULL  -- the buckets, used when grouped by them
 GROUP BY 1, 2
 ORDER BY 1, 2
"""


@dataclass(frozen=True)
class Deadlines:
    dispute_days: int
    complaint_days: int
    escalation_days: int


async def open_items(
    conn: asyncpg.Connection | asyncpg.Pool,
    dimension: str,
    first: date,
    last: date,
    *,
    time_zone: str,
    bounds: tuple[int, ...],
    deadlines: Deadlines,
) -> list[OpenItem]:
    """At the end of `last`: disputes not closed, escalated accounts not cured, and complaints
    not resolved, with how many are past their deadline and the oldest's age. (`first` is
    the range's; what is open at its end does not depend on it.)"""
    group = _value(dimension, "$2::date", "$3", agent="coalesce(i.actor, ra.agent)")
    end = await conn.fetchval("SELECT ($1::date + 1)::timestamp AT TIME ZONE $2", last, time_zone)
    rows = await conn.fetch(
        _OPEN_ITEMS.format(group=group),
        end,
        last,
        list(bounds),
        deadlines.dispute_days,
        deadlines.complaint_days,
        deadlines.escalation_days,
    )
    return [OpenItem(r["grp"], r["item"], r["n"], r["late"], r["oldest"]) for r in rows]


async def count_rows(conn: asyncpg.Connection | asyncpg.Pool, table: str) -> int:
    """A plain count, the benchmarks' baseline (bench/reports.py); `table` is one of ours."""
    if table not in ("report_accounts", "report_daily", "audit_events", "contact_ledger"):
        raise ValueError(f"not a report table: {table!r}")
    count: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return count


async def explain(
    conn: asyncpg.Connection,
    dimension: str,
    first: date,
    last: date,
    *,
    time_zone: str,
    bounds: tuple[int, ...],
    deadlines: Deadlines,
) -> dict[str, str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the three reads a report makes, for docs/reports.md."""
    plans: dict[str, str] = {}
    end = await conn.fetchval("SELECT ($1::date + 1)::timestamp AT TIME ZONE $2", last, time_zone)
    start = await conn.fetchval("SELECT ($1::date)::timestamp AT TIME ZONE $2", first, time_zone)
    moves_sql = _MOVES.format(group=_moves_group(dimension))
    items_group = _value(dimension, "$3::date", "$4", agent="coalesce(i.actor, ra.agent)")
    items_args = (end, start, last, list(bounds), deadlines.dispute_days,
                  deadlines.complaint_days, deadlines.escalation_days)  # fmt: skip
    queries: dict[str, tuple[str, tuple[object, ...]]] = {
        "summed": (_SUMMED, (dimension, first, last)),
        "moves": (moves_sql, (first, last, list(bounds), dimension == "bucket")),
        "open_items": (_OPEN_ITEMS.format(group=items_group), items_args),
    }
    for name, (sql, args) in queries.items():
        rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args)
        plans[name] = "\n".join(r[0] for r in rows)
    return plans
