"""Which policy a new account starts on while an experiment runs: the hook `report_bill` calls
(`PUT /v1/accounts/{id}/overdue` and `overdue bulk-start`).

Before the report's transaction, `running_experiment` loads the running experiment and, at
most once per OVERDUE_EXPERIMENT_GUARDRAIL_CHECK_SECONDS across all API processes, checks
its guardrails (`overdue.experiment_guardrails`): a challenger that breaches one is stopped,
recorded and audited. Inside the transaction, under the account's lock, `start_policy` gives
the account's arm: the one recorded for it if any (an account keeps its arm on every later
start), else, for an account new to us (no earlier bill), the arm its hash gives, or the
champion when a guardrail stopped that arm. The assignment is recorded and audited in the
transaction that stores the bill, so it commits with the start input that carries its policy.
Accounts known before the experiment began keep the configured policy.
"""

from __future__ import annotations

import logging

import asyncpg

from api import workflow_messages as messages
from api.dependencies import Services
from api.schemas import OverdueReport
from overdue.experiment_guardrails import breaches
from overdue.experiments import SegmentFacts, arm_for, segment_for
from overdue.store import experiments as store
from overdue.store.experiment_outcomes import outcome_rows
from workflows.policy import Policy

logger = logging.getLogger(__name__)


async def running_experiment(services: Services) -> store.StoredExperiment | None:
    """The running experiment, its guardrails checked if a check is due; None if none runs."""
    running = await store.running_experiment(services.pool)
    if running is None:
        return None
    every = services.settings.experiment_guardrail_check_seconds
    if not await store.claim_guardrail_check(services.pool, running.definition.id, every):
        return running
    stopped_now = False
    rows = await outcome_rows(services.pool, running.definition.id)
    for breach in breaches(running.definition, rows):
        if breach.arm in running.stopped_arms:
            continue
        if await store.stop_arm(services.pool, running.definition.id, breach):
            stopped_now = True
            logger.warning(
                "experiment guardrail stopped an arm",
                extra={"experiment_id": running.definition.id, "detail": breach.describe()},
            )
    return await store.running_experiment(services.pool) if stopped_now else running


async def start_policy(
    conn: asyncpg.Connection,
    running: store.StoredExperiment | None,
    *,
    account_id: str,
    bill_id: str,
    body: OverdueReport,
    default: Policy,
    actor: str,
) -> Policy:
    """The policy this report's start input carries. Call under the account's lock."""
    if running is None:
        return default
    experiment = running.definition
    known = await store.assignment_of(conn, experiment.id, account_id)
    if known is not None:
        return running.policies[known.arm]
    if await store.has_earlier_bills(conn, account_id, bill_id):
        return default
    facts = SegmentFacts(
        product=body.product,
        risk_segment=body.risk_segment,
        jurisdiction=messages.jurisdiction(body.customer.phone),
    )
    hashed = arm_for(experiment, account_id, facts)
    arm = experiment.champion if hashed in running.stopped_arms else hashed
    policy = running.policies[arm]
    assignment = store.Assignment(
        experiment_id=experiment.id,
        account_id=account_id,
        arm=arm,
        hashed_arm=hashed,
        segment=segment.name if (segment := segment_for(experiment, facts)) else None,
        policy_id=policy.id,
        policy_version=policy.version,
        product=facts.product,
        risk_segment=facts.risk_segment,
        jurisdiction=facts.jurisdiction,
        vulnerable=body.vulnerable,
    )
    await store.record_assignment(conn, assignment, actor=actor)
    return policy
