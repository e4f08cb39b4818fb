"""Experiments, each account's arm, the arms a guardrail stopped, and the outcome rows the
report and the guardrails read (docs/strategy.md#champion--challenger)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg

from overdue.experiment_guardrails import Breach
from overdue.experiments import Experiment
from overdue.store.audit import record_event
from overdue.store.transactions import Db, transaction
from workflows.policy import Policy

GUARDRAIL_ACTOR = "experiment-guardrail"


class ExperimentConflict(Exception):
    """The experiment exists already, or another one is running."""


@dataclass(frozen=True)
class StoredExperiment:
    definition: Experiment
    policies: dict[str, Policy]  # arm name -> the snapshot its accounts start on
    status: str
    created_by: str
    created_at: datetime
    stopped_at: datetime | None
    stopped_arms: dict[str, dict[str, Any]]  # arm -> the breach that stopped it, with its time


@dataclass(frozen=True)
class Assignment:
    experiment_id: str
    account_id: str
    arm: str
    hashed_arm: str
    segment: str | None
    policy_id: str
    policy_version: int
    product: str
    risk_segment: str | None
    jurisdiction: str
    vulnerable: bool


async def create_experiment(
    db: Db, experiment: Experiment, policies: dict[str, Policy], actor: str
) -> None:
    """Store a running experiment (audited); ExperimentConflict when its id exists or another
    one runs (nothing is stored then)."""
    snapshot = {arm: policy.model_dump(mode="json") for arm, policy in policies.items()}
    async with transaction(db) as conn:
        running = await conn.fetchval(
            "SELECT experiment_id FROM experiments WHERE status = 'running'"
        )
        if running is not None:
            raise ExperimentConflict(f"experiment {running!r} is running: stop it first")
        try:
            await conn.execute(
                """
                INSERT INTO experiments (experiment_id, definition, policies, status, created_by)
                VALUES ($1, $2::jsonb, $3::jsonb, 'running', $4)
                """,
                experiment.id,
                experiment.model_dump_json(),
                json.dumps(snapshot),
                actor,
            )
        except asyncpg.UniqueViolationError as err:
            raise ExperimentConflict(
                f"experiment {experiment.id!r} exists (or another one started meanwhile); "
                "give a new experiment a new id"
            ) from err
        await record_event(
            conn,
            account_id=None,
            actor=actor,
            kind="experiment.created",
            details={
                "experiment_id": experiment.id,
                "arms": {a.name: f"{a.policy.id}@{a.policy.version}" for a in experiment.arms},
            },
        )


async def stop_experiment(db: Db, experiment_id: str, actor: str) -> bool:
    """Stop assigning accounts to a running experiment (audited); False if none was running."""
    async with transaction(db) as conn:
        stopped = await conn.fetchval(
            """
            UPDATE experiments SET status = 'stopped', stopped_at = now(), stopped_by = $2
             WHERE experiment_id = $1 AND status = 'running' RETURNING true
            """,
            experiment_id,
            actor,
        )
        if stopped:
            await record_event(
                conn,
                account_id=None,
                actor=actor,
                kind="experiment.stopped",
                details={"experiment_id": experiment_id},
            )
    return bool(stopped)


async def load_experiment(db: Db, experiment_id: str) -> StoredExperiment | None:
    row = await db.fetchrow("SELECT * FROM experiments WHERE experiment_id = $1", experiment_id)
    return None if row is None else await _stored(db, row)


async def running_experiment(db: Db) -> StoredExperiment | None:
    row = await db.fetchrow("SELECT * FROM experiments WHERE status = 'running'")
    return None if row is None else await _stored(db, row)


async def _stored(db: Db, row: asyncpg.Record) -> StoredExperiment:
    stops = await db.fetch(
        "SELECT arm, details, stopped_at FROM experiment_arm_stops WHERE experiment_id = $1",
        row["experiment_id"],
    )
    return StoredExperiment(
        definition=Experiment.model_validate_json(row["definition"]),
        policies={
            arm: Policy.model_validate(policy)
            for arm, policy in json.loads(row["policies"]).items()
        },
        status=row["status"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        stopped_at=row["stopped_at"],
        stopped_arms={
            s["arm"]: {**json.loads(s["details"]), "stopped_at": s["stopped_at"].isoformat()}
            for s in stops
        },
    )


async def assignment_of(
    conn: asyncpg.Connection, experiment_id: str, account_id: str
) -> Assignment | None:
    row = await conn.fetchrow(
        """
        SELECT experiment_id, account_id, arm, hashed_arm, segment, policy_id, policy_version,
               product, risk_segment, jurisdiction, vulnerable
          FROM experiment_assignments WHERE experiment_id = $1 AND account_id = $2
        """,
        experiment_id,
        account_id,
    )
    return None if row is None else Assignment(**dict(row))


async def assignments(db: Db, experiment_id: str) -> list[Assignment]:
    rows = await db.fetch(
        """
        SELECT experiment_id, account_id, arm, hashed_arm, segment, policy_id, policy_version,
               product, risk_segment, jurisdiction, vulnerable
          FROM experiment_assignments WHERE experiment_id = $1 ORDER BY account_id
        """,
        experiment_id,
    )
    return [Assignment(**dict(row)) for row in rows]


async def has_earlier_bills(conn: asyncpg.Connection, account_id: str, bill_id: str) -> bool:
    """Whether the account had a bill before this one: only new accounts join an experiment."""
    found = await conn.fetchval(
        "SELECT true FROM account_bills WHERE account_id = $1 AND bill_id <> $2 LIMIT 1",
        account_id,
        bill_id,
    )
    return bool(found)


async def record_assignment(
    conn: asyncpg.Connection, assignment: Assignment, *, actor: str
) -> None:
    """Record and audit (`experiment.assigned`) an account's arm. Call under the account's
    lock, in the transaction that stores its first bill."""
    await conn.execute(
        """
        INSERT INTO experiment_assignments (experiment_id, account_id, arm, hashed_arm, segment,
            policy_id, policy_version, product, risk_segment, jurisdiction, vulnerable)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
        """,
        assignment.experiment_id,
        assignment.account_id,
        assignment.arm,
        assignment.hashed_arm,
        assignment.segment,
        assignment.policy_id,
        assignment.policy_version,
        assignment.product,
        assignment.risk_segment,
        assignment.jurisdiction,
        assignment.vulnerable,
    )
    await record_event(
        conn,
        account_id=assignment.account_id,
        actor=actor,
        kind="experiment.assigned",
        details={
            "experiment_id": assignment.experiment_id,
            "arm": assignment.arm,
            "hashed_arm": assignment.hashed_arm,
            "policy": f"{assignment.policy_id}@{assignment.policy_version}",
            "guardrail": assignment.hashed_arm != assignment.arm,
        },
    )


async def claim_guardrail_check(db: Db, experiment_id: str, every_seconds: float) -> bool:
    """True for the one caller that should check the guardrails now (none checked within
    `every_seconds`): concurrent starts do not all run the outcome query."""
    claimed = await db.fetchval(
        """
        UPDATE experiments SET guardrails_checked_at = clock_timestamp()
         WHERE experiment_id = $1 AND status = 'running'
           AND (guardrails_checked_at IS NULL
                OR guardrails_checked_at <= clock_timestamp() - make_interval(secs => $2))
        RETURNING true
        """,
        experiment_id,
        every_seconds,
    )
    return bool(claimed)


async def stop_arm(db: Db, experiment_id: str, breach: Breach) -> bool:
    """Record that a guardrail stopped an arm, with its audit row; False if it was already."""
    details = {"experiment_id": experiment_id, **breach.details()}
    async with transaction(db) as conn:
        inserted = await conn.fetchval(
            """
            INSERT INTO experiment_arm_stops (experiment_id, arm, metric, details)
            VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT DO NOTHING RETURNING true
            """,
            experiment_id,
            breach.arm,
            breach.metric,
            json.dumps(details),
        )
        if inserted:
            await record_event(
                conn,
                account_id=None,
                actor=GUARDRAIL_ACTOR,
                kind="experiment.arm_stopped",
                details=details,
            )
    return bool(inserted)
