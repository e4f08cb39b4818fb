"""Scoring an account with the active risk model (docs/strategy.md#risk-scoring): at a report (the
start, or a new bill) and on `overdue score ACCOUNT`.

At a report, the score's segment becomes the starting process's `risk_segment` unless the
backend sent one (the backend knows best; the score is kept either way, with its reasons). The
score is computed before the report's transaction and kept inside it, so a refused report
keeps nothing, and a repeated one keeps its first score only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg
from pydantic import ValidationError

from api.schemas import OverdueReport
from overdue.scoring.features import BillFacts, account_features
from overdue.scoring.model import RiskModel, Score
from overdue.store import risk_scores
from overdue.store.transactions import Db as Conn

logger = logging.getLogger(__name__)


async def model_in_force(conn: Conn) -> RiskModel | None:
    """The active model, or None when there is none (or its JSON no longer validates, which is
    logged: reports go on unscored rather than fail)."""
    stored = await risk_scores.active_model(conn)
    if stored is None:
        return None
    try:
        return RiskModel.model_validate(stored)
    except ValidationError as err:
        logger.error("active risk model is invalid; not scoring", extra={"error": str(err)})
        return None


async def score_bill(
    conn: Conn,
    model: RiskModel,
    account_id: str,
    bill: BillFacts,
    *,
    history_before: datetime,
    at: datetime,
) -> Score:
    """The score of `bill` at `at`, from the account's record before `history_before`."""
    (history,) = await risk_scores.history_facts(conn, [(account_id, history_before)])
    return model.score(account_features(history, bill, at), bill.product)


@dataclass(frozen=True)
class ReportScore:
    account_id: str
    bill_id: str
    score: Score


async def at_report(
    pool: asyncpg.Pool, enabled: bool, account_id: str, body: OverdueReport
) -> tuple[OverdueReport, ReportScore | None]:
    """The report as the process should get it (with the score's segment when the backend
    gave none) and the score to keep; the report unchanged and None when nothing scores."""
    model = await model_in_force(pool) if enabled else None
    if model is None:
        return body, None
    now = datetime.now(UTC)
    bill = BillFacts(body.product, body.amount_due.amount_minor, body.due_date)
    score = await score_bill(pool, model, account_id, bill, history_before=now, at=now)
    if body.risk_segment is None:
        body = body.model_copy(update={"risk_segment": score.risk_segment})
    return body, ReportScore(account_id, body.effective_bill_id(), score)


async def keep(conn: asyncpg.Connection, scored: ReportScore | None) -> None:
    """Inside the report's transaction: keep its score (once per bill)."""
    if scored is not None:
        await risk_scores.keep_score(
            conn, scored.account_id, scored.bill_id, "report", scored.score
        )


class NotScorable(Exception):
    """Why an account cannot be scored now (no model, no such account)."""


async def rescore(pool: asyncpg.Pool, account_id: str) -> Score:
    """Score the account's latest bill as of now and keep it (`overdue score ACCOUNT`)."""
    model = await model_in_force(pool)
    if model is None:
        raise NotScorable("no risk model is active; run `overdue score train` first")
    latest = await risk_scores.latest_bill(pool, account_id)
    if latest is None:
        raise NotScorable(f"account {account_id!r} has no reported bill")
    now = datetime.now(UTC)
    score = await score_bill(
        pool, model, account_id, latest.facts, history_before=latest.reported_at, at=now
    )
    await risk_scores.keep_score(pool, account_id, latest.bill_id, "command", score)
    return score
