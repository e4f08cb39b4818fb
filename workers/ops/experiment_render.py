"""The experiment commands' tables (rich): the arms, their outcomes, the comparisons, the
guardrail stops."""

from __future__ import annotations

from collections import Counter
from typing import Any

from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from overdue.experiment_analysis import METRICS, Analysis, Estimate
from overdue.store.experiments import StoredExperiment

_LABELS = {metric.name: metric.label for metric in METRICS}
_RATES = {metric.name for metric in METRICS if metric.kind == "rate"}


def _number(metric: str, value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:.2%}" if metric in _RATES else f"{value:,.2f}"


def _estimate(metric: str, estimate: Estimate) -> str:
    text = _number(metric, estimate.value)
    if estimate.low is not None and estimate.high is not None:
        text += f" [{_number(metric, estimate.low)}, {_number(metric, estimate.high)}]"
    return text


def render_show(stored: StoredExperiment, counts: Counter[str]) -> list[RenderableType]:
    experiment = stored.definition
    head = Text(
        f"experiment {experiment.id} ({stored.status}), champion {experiment.champion}, "
        f"alpha {experiment.alpha:g}; created {stored.created_at:%Y-%m-%d %H:%M} UTC "
        f"by {stored.created_by}"
        + (f"; stopped {stored.stopped_at:%Y-%m-%d %H:%M} UTC" if stored.stopped_at else "")
    )
    arms = Table(title="arms")
    for column in ("arm", "policy", "weight", "accounts", "guardrail"):
        arms.add_column(column)
    for arm in experiment.arms:
        stop = stored.stopped_arms.get(arm.name)
        arms.add_row(
            arm.name,
            f"{arm.policy.id}@{arm.policy.version}",
            f"{arm.weight:g}",
            str(counts.get(arm.name, 0)),
            f"STOPPED: {stop['metric']} ({stop['stopped_at']})" if stop else "assigning",
        )
    out: list[RenderableType] = [head, arms]
    if experiment.segments:
        segments = Table(title="segments (first match wins)")
        for column in ("segment", "when", "weights"):
            segments.add_column(column)
        for segment in experiment.segments:
            when = segment.when.model_dump(exclude_none=True)
            segments.add_row(
                segment.name,
                "; ".join(f"{k}: {', '.join(v)}" for k, v in when.items()) or "all",
                ", ".join(f"{k} {v:g}" for k, v in segment.weights.items()),
            )
        out.append(segments)
    g = experiment.guardrails
    out.append(
        Text(
            f"guardrails (from {g.min_accounts} accounts per arm): complaint rate +"
            f"{g.complaint_rate_increase:.2%}, opt-out rate +{g.opt_out_rate_increase:.2%}, "
            f"vulnerable cure rate -{g.vulnerable_cure_rate_drop:.2%}, vulnerable complaint "
            f"rate +{g.vulnerable_complaint_rate_increase:.2%}"
        )
    )
    return out


def render_report(
    experiment_id: str, status: str, analysis: Analysis, stops: dict[str, dict[str, Any]]
) -> list[RenderableType]:
    level = f"{(1 - analysis.alpha) * 100:g}%"
    out: list[RenderableType] = [
        Text(
            f"experiment {experiment_id} ({status}): champion {analysis.champion}; "
            f"{level} confidence intervals in brackets"
        )
    ]
    arms = Table(title="arms")
    arms.add_column("metric")
    for summary in analysis.arms:
        arms.add_column(f"{summary.arm} ({summary.accounts} accounts, {summary.cures} cured)")
    for metric in METRICS:
        arms.add_row(
            _LABELS[metric.name],
            *(_estimate(metric.name, s.metrics[metric.name]) for s in analysis.arms),
        )
    out.append(arms)
    comparisons = Table(
        title=f"challenger minus champion (significance at alpha {analysis.alpha:g})"
    )
    for column in ("arm", "metric", "difference", "interval", "p-value", "verdict"):
        comparisons.add_column(column)
    for c in analysis.comparisons:
        comparisons.add_row(
            c.arm,
            _LABELS[c.metric],
            _number(c.metric, c.difference),
            f"[{_number(c.metric, c.low)}, {_number(c.metric, c.high)}]",
            "-" if c.p_value is None else f"{c.p_value:.4f}",
            c.verdict,
        )
    out.append(comparisons)
    out.extend(Text(note) for note in analysis.notes)
    for arm, stop in sorted(stops.items()):
        out.append(
            Text(
                f"GUARDRAIL: arm {arm} stopped receiving new accounts at {stop['stopped_at']}: "
                f"{stop['metric'].replace('_', ' ')} {stop['arm_value']:.2%} vs champion "
                f"{stop['champion_value']:.2%} (threshold {stop['threshold']:.2%}, "
                f"{stop['arm_accounts']} vs {stop['champion_accounts']} accounts); its new "
                "accounts start on the champion"
            )
        )
    return out
