"""Risk models and scores (migration 0015; docs/strategy.md#risk-scoring), and the reads that
count an account's record into the score's features.

The features read tables other modules write: `account_bills` and `accounts` (the reports),
`reported_events` (payments, disputes, hardship; amounts in `details`), `audit_events`
(promises and hardship decisions agents recorded, SMS replies, call outcomes) and
`dial_attempts`. Each count is of rows strictly before a cutoff, so a bill's features never
include what happened after it was reported (the outcome being predicted).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from overdue.scoring.features import BillFacts, HistoryFacts
from overdue.scoring.model import Score
from overdue.store.transactions import Db as Conn

# One row per (account_id, cutoff) pair of the arrays $1, $2, in their order.
_HISTORY = """
SELECT
  (SELECT count(*) FROM account_bills b
    WHERE b.account_id = q.account_id AND b.created_at < q.cutoff) AS earlier_bills,
  (SELECT coalesce(sum(b.amount_minor), 0) FROM account_bills b
    WHERE b.account_id = q.account_id AND b.created_at < q.cutoff) AS earlier_bills_minor,
  (SELECT coalesce(sum((r.details ->> 'amount_minor')::bigint), 0) FROM reported_events r
    WHERE r.account_id = q.account_id AND r.kind = 'payment.reported'
      AND r.reported_at < q.cutoff) AS earlier_paid_minor,
  (SELECT count(*) FROM audit_events e
    WHERE e.account_id = q.account_id AND e.kind = 'promise.recorded'
      AND e.occurred_at < q.cutoff) AS promises_made,
  (SELECT count(*) FROM audit_events e
    WHERE e.account_id = q.account_id AND e.kind = 'promise.recorded'
      AND e.occurred_at < q.cutoff
      AND EXISTS (SELECT 1 FROM reported_events r
                   WHERE r.account_id = q.account_id AND r.kind = 'payment.reported'
                     AND r.reported_at >= e.occurred_at AND r.reported_at < q.cutoff
                     AND r.reported_at::date <= (e.details ->> 'promised_date')::date)
  ) AS promises_kept,
  (SELECT count(*) FROM audit_events e
    WHERE e.account_id = q.account_id AND e.kind = 'hardship.decided'
      AND e.details ->> 'approve' = 'true' AND e.occurred_at < q.cutoff) AS plans_granted,
  (SELECT count(*) FROM reported_events r
    WHERE r.account_id = q.account_id AND r.kind = 'dispute.opened'
      AND r.reported_at < q.cutoff) AS disputes,
  (SELECT count(*) FROM reported_events r
    WHERE r.account_id = q.account_id AND r.kind = 'hardship.reported'
      AND r.reported_at < q.cutoff) AS hardship_reports,
  (SELECT count(*) FROM dial_attempts d
    WHERE d.account_id = q.account_id AND d.conversation AND d.dialled_at < q.cutoff)
  + (SELECT count(*) FROM audit_events e
    WHERE e.account_id = q.account_id AND e.kind = 'call.outcome'
      AND e.details ->> 'outcome' = 'reached' AND e.occurred_at < q.cutoff) AS calls_reached,
  (SELECT count(*) FROM dial_attempts d
    WHERE d.account_id = q.account_id AND d.unanswered AND d.dialled_at < q.cutoff)
  + (SELECT count(*) FROM audit_events e
    WHERE e.account_id = q.account_id AND e.kind = 'call.outcome'
      AND e.details ->> 'outcome' = 'no_answer' AND e.occurred_at < q.cutoff)
    AS calls_unanswered,
  (SELECT count(*) FROM audit_events e
    WHERE e.account_id = q.account_id AND e.kind = 'sms.reply_received'
      AND e.occurred_at < q.cutoff) AS sms_replies
FROM unnest($1::text[], $2::timestamptz[]) WITH ORDINALITY AS q(account_id, cutoff, n)
ORDER BY q.n
"""


async def history_facts(conn: Conn, pairs: Sequence[tuple[str, datetime]]) -> list[HistoryFacts]:
    """Each (account, cutoff)'s record before the cutoff, in the pairs' order."""
    rows = await conn.fetch(_HISTORY, [a for a, _ in pairs], [c for _, c in pairs])
    return [HistoryFacts(**{k: int(v) for k, v in dict(row).items()}) for row in rows]


@dataclass(frozen=True)
class ReportedBill:
    """A stored bill as the score sees it: reported at `reported_at`."""

    account_id: str
    bill_id: str
    facts: BillFacts
    reported_at: datetime
    paid_minor: int = 0  # payments reported within the outcome window (closed bills only)


async def closed_bills(conn: Conn, outcome_days: int) -> list[ReportedBill]:
    """Bills reported more than `outcome_days` ago, each with the payments reported within
    `outcome_days` of it: the training set's outcomes."""
    rows = await conn.fetch(
        """
        SELECT b.account_id, b.bill_id, a.product, b.amount_minor, b.due_date,
               b.created_at AS reported_at,
               (SELECT coalesce(sum((r.details ->> 'amount_minor')::bigint), 0)
                  FROM reported_events r
                 WHERE r.account_id = b.account_id AND r.kind = 'payment.reported'
                   AND r.reported_at >= b.created_at
                   AND r.reported_at < b.created_at + make_interval(days => $1)) AS paid_minor
          FROM account_bills b JOIN accounts a USING (account_id)
         WHERE b.created_at < now() - make_interval(days => $1)
         ORDER BY b.created_at, b.account_id, b.bill_id
        """,
        outcome_days,
    )
    return [_bill(row, int(row["paid_minor"])) for row in rows]


async def latest_bill(conn: Conn, account_id: str) -> ReportedBill | None:
    """The account's most recently reported bill, or None for an account never reported."""
    row = await conn.fetchrow(
        """
        SELECT b.account_id, b.bill_id, a.product, b.amount_minor, b.due_date,
               b.created_at AS reported_at
          FROM account_bills b JOIN accounts a USING (account_id)
         WHERE b.account_id = $1 ORDER BY b.created_at DESC, b.bill_id DESC LIMIT 1
        """,
        account_id,
    )
    return _bill(row) if row else None


def _bill(row: asyncpg.Record, paid_minor: int = 0) -> ReportedBill:
    facts = BillFacts(
        product=row["product"], amount_minor=row["amount_minor"], due_date=row["due_date"]
    )
    return ReportedBill(row["account_id"], row["bill_id"], facts, row["reported_at"], paid_minor)


async def save_model(conn: asyncpg.Connection, model: dict[str, Any], *, activate: bool) -> None:
    """Store a trained model (its JSON); with `activate`, it becomes the one that scores."""
    async with conn.transaction():
        if activate:
            await conn.execute("UPDATE risk_models SET active = false WHERE active")
        await conn.execute(
            """
            INSERT INTO risk_models (version, trained_at, model, active)
            VALUES ($1, $2, $3::jsonb, $4)
            """,
            model["version"],
            datetime.fromisoformat(model["trained_at"]),
            json.dumps(model, sort_keys=True),
            activate,
        )


async def activate_model(conn: asyncpg.Connection, version: str | None) -> bool:
    """Make `version` the scoring model (None: no model scores). False: no such version."""
    async with conn.transaction():
        if version is not None and not await conn.fetchval(
            "SELECT true FROM risk_models WHERE version = $1", version
        ):
            return False
        await conn.execute("UPDATE risk_models SET active = false WHERE active")
        if version is not None:
            await conn.execute("UPDATE risk_models SET active = true WHERE version = $1", version)
    return True


async def active_model(conn: Conn) -> dict[str, Any] | None:
    """The active model's JSON, or None when no model is active."""
    text = await conn.fetchval("SELECT model::text FROM risk_models WHERE active")
    return json.loads(text) if text is not None else None


async def keep_score(
    conn: Conn, account_id: str, bill_id: str | None, trigger: str, score: Score
) -> bool:
    """Store a score; a report's score is kept once per bill (False: one was kept before)."""
    kept: bool | None = await conn.fetchval(
        """
        INSERT INTO risk_scores (account_id, bill_id, trigger, model_version, propensity,
                                 risk_segment, reasons, features)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8::jsonb)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        account_id,
        bill_id,
        trigger,
        score.model_version,
        score.propensity,
        score.risk_segment,
        json.dumps([r.model_dump() for r in score.reasons]),
        json.dumps({**score.features, "product": score.product}, sort_keys=True),
    )
    return bool(kept)


@dataclass(frozen=True)
class StoredScore:
    account_id: str
    bill_id: str | None
    trigger: str
    model_version: str
    propensity: float
    risk_segment: str
    reasons: list[dict[str, Any]]
    features: dict[str, Any]
    scored_at: datetime


async def latest_score(conn: Conn, account_id: str) -> StoredScore | None:
    row = await conn.fetchrow(
        """
        SELECT account_id, bill_id, trigger, model_version, propensity, risk_segment,
               reasons::text AS reasons, features::text AS features, scored_at
          FROM risk_scores WHERE account_id = $1 ORDER BY scored_at DESC, id DESC LIMIT 1
        """,
        account_id,
    )
    if row is None:
        return None
    values = dict(row)
    values["reasons"] = json.loads(values["reasons"])
    values["features"] = json.loads(values["features"])
    return StoredScore(**values)
