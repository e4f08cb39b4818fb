"""Refreshing the supervisor reports' summary tables (migration 0019, docs/reports.md).

Every figure is derived from rows other parts of the product already write: bills, call tasks,
dial attempts, the contact ledger, the audit trail (call outcomes, promises, hardship decisions,
escalations, payments) and reported events (disputes). Promise and plan outcomes and cures are
worked out here from promises, plans, bills and payments with the rules the workflow applies
(workflows/account.py: a promise is kept when the payments since it reach its amount before the
promised date plus the policy's grace days end, broken otherwise; a plan is broken at the first
instalment whose date plus grace passes with less paid than is due by then).

A refresh recomputes whole days in the report's time zone, so running it twice, or after late
rows arrived, gives the same figures as running it once at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

# Accounts with a bill, payment, call task, contact or event in [$1, $2), and those without a
# row yet: their dimensions and cure.
_REFRESH_ACCOUNTS = """
WITH touched AS (
    SELECT account_id FROM account_bills WHERE created_at >= $1 AND created_at < $2
    UNION
    SELECT account_id FROM audit_events
     WHERE kind IN ('payment.reported', 'call.outcome', 'promise.recorded', 'account.escalated',
                    'hardship.decided')
       AND occurred_at >= $1 AND occurred_at < $2 AND account_id IS NOT NULL
    UNION
    SELECT account_id FROM call_tasks WHERE updated_at >= $1 AND updated_at < $2
    UNION
    SELECT account_id FROM contact_ledger WHERE created_at >= $1 AND created_at < $2
    UNION
    SELECT account_id FROM reported_events
     WHERE kind IN ('dispute.opened', 'dispute.closed') AND reported_at >= $1 AND reported_at < $2
    UNION
    -- and every account not summarised yet: bucket moves count the quiet ones too
    SELECT b.account_id FROM account_bills b
     WHERE NOT EXISTS (SELECT 1 FROM report_accounts r WHERE r.account_id = b.account_id)
), first_bill AS (
    -- the start's policy: inline, or by digest from release policy-by-digest-2026-12 on
    SELECT DISTINCT ON (b.account_id) b.account_id, b.due_date,
           coalesce(b.start_input -> 'policy', v.body) AS policy
      FROM account_bills b JOIN touched USING (account_id)
      LEFT JOIN policy_versions v ON v.digest = b.start_input -> 'policy_ref' ->> 'digest'
     ORDER BY b.account_id, b.due_date, b.created_at
), billed AS (
    SELECT b.account_id, sum(b.amount_minor) AS total
      FROM account_bills b JOIN touched USING (account_id) GROUP BY b.account_id
), paid AS (
    SELECT e.account_id, e.occurred_at,
           sum((e.details ->> 'amount_minor')::bigint)
               OVER (PARTITION BY e.account_id ORDER BY e.occurred_at, e.id) AS running
      FROM audit_events e JOIN touched USING (account_id)
     WHERE e.kind = 'payment.reported'
), cured AS (
    SELECT DISTINCT ON (p.account_id) p.account_id, p.occurred_at
      FROM paid p JOIN billed b USING (account_id)
     WHERE p.running >= b.total
     ORDER BY p.account_id, p.occurred_at
), latest_task AS (
    SELECT DISTINCT ON (t.account_id) t.account_id, t.queue, coalesce(t.claimed_by, '') AS agent
      FROM call_tasks t JOIN touched USING (account_id)
     ORDER BY t.account_id, t.created_at DESC, t.id DESC
)
INSERT INTO report_accounts AS r (account_id, product, policy_id, currency, due_date, queue,
                                  agent, promise_grace, plan_grace, cured_on, refreshed_at)
SELECT a.account_id, a.product, coalesce(f.policy ->> 'id', ''), a.currency, f.due_date,
       coalesce(t.queue, ''), coalesce(t.agent, ''),
       coalesce((f.policy -> 'promise' ->> 'grace_days')::integer, 2),
       coalesce((f.policy -> 'hardship' ->> 'grace_days')::integer, 3),
       (c.occurred_at AT TIME ZONE $3)::date, now()
  FROM touched
  JOIN accounts a USING (account_id)
  JOIN first_bill f USING (account_id)
  LEFT JOIN latest_task t USING (account_id)
  LEFT JOIN cured c USING (account_id)
ON CONFLICT (account_id) DO UPDATE SET
    product = EXCLUDED.product, policy_id = EXCLUDED.policy_id, currency = EXCLUDED.currency,
    due_date = EXCLUDED.due_date, queue = EXCLUDED.queue, agent = EXCLUDED.agent,
    promise_grace = EXCLUDED.promise_grace, plan_grace = EXCLUDED.plan_grace,
    cured_on = EXCLUDED.cured_on, refreshed_at = EXCLUDED.refreshed_at
"""

# The payments of account `p` after `since` and before `until`, with their running total.
_PAYMENTS_AFTER = """
SELECT x.occurred_at AS at FROM (
    SELECT e2.occurred_at,
           sum((e2.details ->> 'amount_minor')::bigint) OVER (ORDER BY e2.occurred_at, e2.id) AS run
      FROM audit_events e2
     WHERE e2.account_id = p.account_id AND e2.kind = 'payment.reported'
       AND e2.occurred_at > p.since AND e2.occurred_at < coalesce(p.replaced_at, 'infinity')
) x WHERE x.run >= p.amount ORDER BY x.occurred_at LIMIT 1
"""

# Promises and approved plans in force at some time of [$1 - lookback, $2), and how they ended.
_OUTCOMES = f"""
promises AS (
    SELECT e.account_id, e.actor, e.occurred_at AS since, t.queue,
           (e.details ->> 'amount_minor')::bigint AS amount,
           (e.details ->> 'promised_date')::date + ra.promise_grace + 1 AS broken_on,
           (SELECT min(n.occurred_at) FROM audit_events n
             WHERE n.account_id = e.account_id AND n.kind = 'promise.recorded'
               AND (n.occurred_at, n.id) > (e.occurred_at, e.id)) AS replaced_at
      FROM audit_events e
      JOIN report_accounts ra USING (account_id)
      LEFT JOIN call_tasks t ON t.id = (e.details ->> 'task_id')::bigint
     WHERE e.kind = 'promise.recorded'
       AND e.occurred_at >= $1::timestamptz - make_interval(days => $5::integer)
       AND e.occurred_at < $2
       -- in force when the days begin: its deadline is not before them
       AND (e.details ->> 'promised_date')::date + ra.promise_grace + 1
           >= ($1 AT TIME ZONE $3)::date
), promise_ends AS (
    SELECT p.*, k.at AS kept_at FROM promises p LEFT JOIN LATERAL ({_PAYMENTS_AFTER}) k ON true
), plans AS (
    SELECT e.id, e.account_id, e.actor, e.occurred_at AS since, t.queue, ra.plan_grace,
           e.details -> 'plan' AS plan,
           (SELECT min(n.occurred_at) FROM audit_events n
             WHERE n.account_id = e.account_id AND n.kind = 'hardship.decided'
               AND (n.details ->> 'approve')::boolean
               AND (n.occurred_at, n.id) > (e.occurred_at, e.id)) AS replaced_at
      FROM audit_events e
      JOIN report_accounts ra USING (account_id)
      LEFT JOIN call_tasks t ON t.id = (e.details ->> 'task_id')::bigint
     WHERE e.kind = 'hardship.decided' AND (e.details ->> 'approve')::boolean
       AND jsonb_typeof(e.details -> 'plan') = 'array'
       AND e.occurred_at >= $1::timestamptz - make_interval(days => $5::integer)
       AND e.occurred_at < $2
       -- its last instalment's deadline is not before the days begin
       AND (e.details -> 'plan' -> -1 ->> 'due_date')::date + ra.plan_grace + 1
           >= ($1 AT TIME ZONE $3)::date
), instalments AS (
    SELECT p.id, (x.v ->> 'due_date')::date + p.plan_grace + 1 AS broken_on,
           sum((x.v ->> 'amount_minor')::bigint) OVER (PARTITION BY p.id ORDER BY x.i) AS due
      FROM plans p CROSS JOIN LATERAL jsonb_array_elements(p.plan) WITH ORDINALITY x(v, i)
), plan_totals AS (
    SELECT p.*, (SELECT max(i.due) FROM instalments i WHERE i.id = p.id) AS amount FROM plans p
), plan_ends AS (
    SELECT p.*, k.at AS kept_at, b.broken_on
      FROM plan_totals p
      LEFT JOIN LATERAL ({_PAYMENTS_AFTER}) k ON true
      LEFT JOIN LATERAL (
          SELECT min(i.broken_on) AS broken_on FROM instalments i
           WHERE i.id = p.id AND i.due > coalesce((
               SELECT sum((e3.details ->> 'amount_minor')::bigint) FROM audit_events e3
                WHERE e3.account_id = p.account_id AND e3.kind = 'payment.reported'
                  AND e3.occurred_at > p.since
                  AND e3.occurred_at < (i.broken_on::timestamp AT TIME ZONE $3)), 0)
      ) b ON true
)
"""


def _ended(table: str, metric: str) -> str:
    """Kept (at the payment that completed it, before its deadline day) or broken (on that day,
    unless a newer promise or plan replaced it first) facts of `table`."""
    local = "AT TIME ZONE $3)::date"
    return f"""
    SELECT account_id, kept_at AS at, queue, actor AS agent, '{metric}_kept' AS metric,
           '' AS detail, NULL::text AS currency, amount
      FROM {table} WHERE kept_at IS NOT NULL AND (broken_on IS NULL OR (kept_at {local} < broken_on)
    UNION ALL
    SELECT account_id, broken_on::timestamp AT TIME ZONE $3, queue, actor, '{metric}_broken',
           '', NULL, amount
      FROM {table}
     WHERE broken_on IS NOT NULL AND (kept_at IS NULL OR (kept_at {local} >= broken_on)
       AND (replaced_at IS NULL OR (replaced_at {local} >= broken_on)
       AND broken_on::timestamp AT TIME ZONE $3 <= now()"""


_AUDITED_METRIC = """CASE e.kind
    WHEN 'call.outcome' THEN 'call_outcome'
    WHEN 'promise.recorded' THEN 'promise_made'
    WHEN 'account.escalated' THEN 'escalation'
    WHEN 'payment.reported' THEN 'recovered'
    WHEN 'hardship.decided' THEN
        CASE WHEN (e.details ->> 'approve')::boolean THEN 'plan_agreed' ELSE 'plan_declined' END
END"""

# Every fact of [$1, $2) with what it is grouped by; NULL queue / agent: the account's.
_FACTS = f"""
facts AS (
    SELECT l.account_id, l.created_at AS at, NULL::text AS queue, NULL::text AS agent,
           'contact' AS metric, l.channel || ':' || l.stage_id AS detail, '' AS currency,
           0::bigint AS amount
      FROM contact_ledger l WHERE l.created_at >= $1 AND l.created_at < $2
    UNION ALL
    SELECT d.account_id, d.dialled_at, t.queue, d.agent_id, 'dial', d.outcome, '', 0
      FROM dial_attempts d JOIN call_tasks t ON t.id = d.task_id
     WHERE d.dialled_at >= $1 AND d.dialled_at < $2
    UNION ALL
    SELECT e.account_id, e.occurred_at, t.queue,
           CASE WHEN e.kind = 'payment.reported' THEN NULL ELSE e.actor END,
           {_AUDITED_METRIC},
           CASE WHEN e.kind = 'call.outcome' THEN coalesce(e.details ->> 'outcome', '') ELSE '' END,
           CASE WHEN e.kind = 'payment.reported' THEN e.details ->> 'currency' END,
           coalesce((e.details ->> 'amount_minor')::bigint, 0)
      FROM audit_events e LEFT JOIN call_tasks t ON t.id = (e.details ->> 'task_id')::bigint
     WHERE e.kind IN ('call.outcome', 'promise.recorded', 'account.escalated',
                      'payment.reported', 'hardship.decided')
       AND e.occurred_at >= $1 AND e.occurred_at < $2 AND e.account_id IS NOT NULL
    UNION ALL {_ended("promise_ends", "promise")}
    UNION ALL {_ended("plan_ends", "plan")}
    UNION ALL
    SELECT account_id, cured_on::timestamp AT TIME ZONE $3, NULL, NULL, 'cure', '', '', 0
      FROM report_accounts
     WHERE cured_on >= ($1 AT TIME ZONE $3)::date AND cured_on < ($2 AT TIME ZONE $3)::date
    UNION ALL
    SELECT o.account_id, o.reported_at, NULL, NULL, 'dispute_opened', '', '', 0
      FROM reported_events o
     WHERE o.kind = 'dispute.opened' AND o.reported_at >= $1 AND o.reported_at < $2
    UNION ALL
    SELECT c.account_id, c.reported_at, NULL, NULL, 'dispute_closed',
           CASE WHEN c.reported_at - o.reported_at <= make_interval(days => $6::integer)
                THEN 'in_time' ELSE 'late' END, '', 0
      FROM reported_events c
      JOIN reported_events o
        ON o.account_id = c.account_id AND o.kind = 'dispute.opened' AND o.event_id = c.event_id
     WHERE c.kind = 'dispute.closed' AND c.reported_at >= $1 AND c.reported_at < $2
)
"""

_REFRESH_DAYS = f"""
WITH {_OUTCOMES}, {_FACTS}
INSERT INTO report_daily (day, dimension, dim_value, metric, detail, currency, n, amount_minor)
SELECT (f.at AT TIME ZONE $3)::date, g.dimension, g.dim_value, f.metric, f.detail,
       coalesce(f.currency, ra.currency), count(*), sum(f.amount)::bigint
  FROM facts f
  JOIN report_accounts ra USING (account_id)
  CROSS JOIN LATERAL (VALUES
      ('all', 'all'), ('queue', coalesce(f.queue, ra.queue)),
      ('agent', coalesce(f.agent, ra.agent)), ('product', ra.product),
      ('policy', ra.policy_id),
      ('bucket', report_bucket((f.at AT TIME ZONE $3)::date - ra.due_date, $4::integer[]))
  ) g(dimension, dim_value)
 WHERE f.at >= $1 AND f.at < $2
 GROUP BY 1, 2, 3, 4, 5, 6
"""


@dataclass(frozen=True)
class RefreshRules:
    time_zone: str  # the report's days are this zone's days
    bucket_bounds: tuple[int, ...]  # lower bounds of the days-past-due buckets
    lookback_days: int  # how far back a promise or plan may start and end in the range
    dispute_deadline_days: int  # a dispute closed later than this is late


@dataclass(frozen=True)
class Refreshed:
    accounts: int
    rows: int


async def refresh_days(
    conn: asyncpg.Connection, first: date, last: date, rules: RefreshRules
) -> Refreshed:
    """Recompute the days `first`..`last` (inclusive, in `rules.time_zone`) in one
    transaction; readers see the old figures until it commits."""
    async with conn.transaction():
        start: datetime = await conn.fetchval(
            "SELECT ($1::date)::timestamp AT TIME ZONE $2", first, rules.time_zone
        )
        end: datetime = await conn.fetchval(
            "SELECT ($1::date + 1)::timestamp AT TIME ZONE $2", last, rules.time_zone
        )
        # Accounts first: a fact is grouped by its account's row.
        accounts = await conn.execute(_REFRESH_ACCOUNTS, start, end, rules.time_zone)
        await conn.execute("DELETE FROM report_daily WHERE day BETWEEN $1 AND $2", first, last)
        rows = await conn.execute(
            _REFRESH_DAYS,
            start,
            end,
            rules.time_zone,
            list(rules.bucket_bounds),
            rules.lookback_days,
            rules.dispute_deadline_days,
        )
        await conn.execute(
            """
            INSERT INTO report_refreshed_days (day, time_zone, refreshed_at)
            SELECT d::date, $3, now() FROM generate_series($1::date, $2::date, '1 day') d
            ON CONFLICT (day) DO UPDATE
               SET time_zone = EXCLUDED.time_zone, refreshed_at = EXCLUDED.refreshed_at
            """,
            first,
            last,
            rules.time_zone,
        )
    return Refreshed(accounts=_count(accounts), rows=_count(rows))


async def stale_days(
    conn: asyncpg.Connection | asyncpg.Pool, first: date, last: date, time_zone: str
) -> list[date]:
    """The days of the range not refreshed since they ended (or in another time zone)."""
    rows = await conn.fetch(
        """
        SELECT d::date AS day FROM generate_series($1::date, $2::date, '1 day') d
         WHERE NOT EXISTS (
             SELECT 1 FROM report_refreshed_days r
              WHERE r.day = d::date AND r.time_zone = $3
                AND r.refreshed_at >= (d::date + 1)::timestamp AT TIME ZONE $3)
         ORDER BY 1
        """,
        first,
        last,
        time_zone,
    )
    return [r["day"] for r in rows]


def _count(status: str) -> int:
    return int(status.rsplit(" ", 1)[-1])
