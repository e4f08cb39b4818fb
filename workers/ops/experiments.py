"""What `overdue experiment ...` does, on one database connection."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

import asyncpg

from overdue.experiment_analysis import analyse, report_seed
from overdue.experiment_policies import ArmPolicyError, arm_policies
from overdue.experiments import ExperimentFileError, load_experiment
from overdue.settings import Settings
from overdue.store import experiments as store
from overdue.store.experiment_outcomes import outcome_rows
from workers.ops.common import check_actor, default_actor
from workers.ops.errors import OpsError
from workers.ops.experiment_render import render_report, render_show
from workers.ops.output import console_for
from workers.ops.output import show as show_renderable


async def create(
    settings: Settings, conn: asyncpg.Connection, file: Path, actor: str | None, out: TextIO
) -> int:
    who = check_actor(actor or default_actor())
    try:
        experiment = load_experiment(file)
        policies = arm_policies(
            experiment,
            settings.experiment_policy_dir,
            sms_senders=settings.sms_route_map().values(),
        )
    except (ExperimentFileError, ArmPolicyError) as error:
        raise OpsError(str(error), exit_code=2) from None
    try:
        await store.create_experiment(conn, experiment, policies, who)
    except store.ExperimentConflict as error:
        raise OpsError(str(error), exit_code=2) from None
    arms = ", ".join(
        f"{arm.name} ({arm.policy.id}@{arm.policy.version}, weight {arm.weight:g})"
        for arm in experiment.arms
    )
    out.write(f"experiment {experiment.id} running: {arms}; champion {experiment.champion}\n")
    return 0


async def _stored(conn: asyncpg.Connection, experiment_id: str) -> store.StoredExperiment:
    stored = await store.load_experiment(conn, experiment_id)
    if stored is None:
        raise OpsError(f"no experiment {experiment_id!r}", exit_code=2)
    return stored


async def show(conn: asyncpg.Connection, experiment_id: str, *, as_json: bool, out: TextIO) -> int:
    stored = await _stored(conn, experiment_id)
    counts = Counter(a.arm for a in await store.assignments(conn, experiment_id))
    if as_json:
        out.write(json.dumps(_show_json(stored, counts), indent=2, sort_keys=True) + "\n")
        return 0
    console = console_for(out)
    for renderable in render_show(stored, counts):
        show_renderable(console, renderable)
    return 0


def _show_json(stored: store.StoredExperiment, counts: Counter[str]) -> dict[str, Any]:
    return {
        "experiment": stored.definition.model_dump(mode="json"),
        "status": stored.status,
        "created_by": stored.created_by,
        "created_at": stored.created_at.isoformat(),
        "stopped_at": stored.stopped_at.isoformat() if stored.stopped_at else None,
        "assigned": dict(counts),
        "stopped_arms": stored.stopped_arms,
    }


async def stop(conn: asyncpg.Connection, experiment_id: str, actor: str | None, out: TextIO) -> int:
    who = check_actor(actor or default_actor())
    await _stored(conn, experiment_id)
    if await store.stop_experiment(conn, experiment_id, who):
        out.write(
            f"experiment {experiment_id} stopped: new accounts start on the configured policy\n"
        )
    else:
        out.write(f"experiment {experiment_id} was not running: nothing changed\n")
    return 0


async def report(
    conn: asyncpg.Connection,
    experiment_id: str,
    *,
    fmt: str,
    alpha: float | None,
    currency: str | None,
    out: TextIO,
) -> int:
    stored = await _stored(conn, experiment_id)
    experiment = stored.definition
    if alpha is not None and not 0 < alpha < 0.5:
        raise OpsError("--alpha must be between 0 and 0.5", exit_code=2)
    rows = await outcome_rows(conn, experiment_id)
    if currency is not None:
        rows = [row for row in rows if row.currency == currency.upper()]
    analysis = analyse(
        rows,
        arms=[arm.name for arm in experiment.arms],
        champion=experiment.champion,
        alpha=alpha or experiment.alpha,
        seed=report_seed(experiment_id),
    )
    stops = stored.stopped_arms
    if fmt == "json":
        payload = {"experiment_id": experiment_id, "status": stored.status, **asdict(analysis)}
        payload["guardrail_stops"] = stops
        out.write(json.dumps(payload, indent=2, sort_keys=True) + "\n")
    elif fmt == "csv":
        _write_csv(analysis, stops, out)
    else:
        console = console_for(out)
        for renderable in render_report(experiment_id, stored.status, analysis, stops):
            show_renderable(console, renderable)
    return 1 if stops else 0


def _write_csv(analysis: Any, stops: dict[str, dict[str, Any]], out: TextIO) -> None:
    import csv

    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        [
            "arm", "metric", "champion_value", "arm_value", "difference", "ci_low", "ci_high",
            "p_value", "significant", "guardrail_stopped", "verdict",
        ]
    )  # fmt: skip
    for c in analysis.comparisons:
        writer.writerow(
            [
                c.arm, c.metric, c.champion_value, c.arm_value, c.difference, c.low, c.high,
                c.p_value, c.significant, c.arm in stops, c.verdict,
            ]
        )  # fmt: skip
