"""A simulation's figures as JSON-ready data: per-day series, totals, and the comparison of two
policies on the same portfolio and draws."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from itertools import accumulate
from typing import Any

from overdue.billing_rules import CATEGORIES
from overdue.strategy.runner import Setup
from overdue.strategy.tally import OPEN_BUCKETS, Tally

STATE_ORDER = (
    "active",
    "promise",
    "hardship_review",
    "repayment_plan",
    "disputed",
    "paused",
    "escalated",
    "resolved",
    "closed",
)


def summarize(tally: Tally, setup: Setup, sources: dict[str, str]) -> dict[str, Any]:
    days, model = setup.days, setup.model
    series = _Series(days)
    by_channel = series.sum_by(tally.contacts, lambda k: k[1])
    by_stage = series.sum_by(tally.contacts, lambda k: k[2])
    segments = [tally.sms_segments.get(d, 0) for d in range(days)]
    price = model.sms_price_per_segment
    hours = [[0.0] * 24 for _ in range(days)]
    for (d, hour), n in tally.calls_by_hour.items():
        hours[d][hour] += n * model.handling_minutes_per_call / 60
    actions = series.sum_by(tally.actions, lambda k: k[1])
    total_actions = [sum(actions[c][d] for c in actions) for d in range(days)]
    per_action = model.temporal_price_per_million_actions / 1e6
    states = {k: list(accumulate(v)) for k, v in series.sum_by(tally.state_moves, _second).items()}
    buckets = {
        k: list(accumulate(v)) for k, v in series.sum_by(tally.bucket_moves, _second).items()
    }
    recovered = series.sum_by(tally.recovered, _second)
    report: dict[str, Any] = {
        **sources,
        "policy": {"id": setup.policy.id, "version": setup.policy.version},
        "seed": setup.seed,
        "start": setup.start.isoformat(),
        "days": [(setup.start + timedelta(days=d)).date().isoformat() for d in range(days)],
        "accounts": tally.accounts,
        "distinct_paths": tally.paths,
        "contacts": by_channel,
        "contacts_by_stage": by_stage,
        "sms": {
            "messages": by_channel.get("sms", [0] * days),
            "segments": segments,
            "cost": [round(s * price, 4) for s in segments],
            "price_per_segment": price,
            "currency": model.price_currency,
        },
        "call_tasks": series.sum_by(tally.call_tasks, _second),
        "agent_hours": {
            "time_zone": model.agent_time_zone,
            "handling_minutes_per_call": model.handling_minutes_per_call,
            "per_day_and_hour": [[round(h, 3) for h in day] for day in hours],
        },
        "temporal": {
            "actions": {c: actions[c] for c in CATEGORIES if c in actions},
            "total": total_actions,
            "cost": [round(n * per_action, 6) for n in total_actions],
            "price_per_million_actions": model.temporal_price_per_million_actions,
            "currency": "USD",
        },
        "states": {s: states[s] for s in STATE_ORDER if s in states},
        "buckets": {b: buckets[b] for b, _, _ in OPEN_BUCKETS if b in buckets},
        "recovered_minor": recovered,
        "compliance": {
            "contacts_checked": tally.contacts_checked,
            "violations": dict(sorted(tally.violations.items())),
            "total_violations": sum(tally.violations.values()),
        },
    }
    report["totals"] = totals(report)
    return report


def totals(report: dict[str, Any]) -> dict[str, float]:
    """The figures a comparison lines up: sums over the days, end-of-run counts."""
    found: dict[str, float] = {"accounts": report["accounts"]}
    for channel, values in report["contacts"].items():
        found[f"contacts: {channel}"] = sum(values)
    for stage, values in report["contacts_by_stage"].items():
        found[f"stage: {stage}"] = sum(values)
    found["sms segments"] = sum(report["sms"]["segments"])
    found[f"sms cost ({report['sms']['currency']})"] = round(sum(report["sms"]["cost"]), 2)
    for queue, values in report["call_tasks"].items():
        found[f"call tasks: {queue}"] = sum(values)
    hours = report["agent_hours"]["per_day_and_hour"]
    found["agent hours"] = round(sum(map(sum, hours)), 1)
    found["agent hours, busiest hour"] = round(max((max(day) for day in hours), default=0), 2)
    found["temporal actions"] = sum(report["temporal"]["total"])
    found["temporal cost (USD)"] = round(sum(report["temporal"]["cost"]), 4)
    for state, values in report["states"].items():
        found[f"accounts {state} at end"] = values[-1] if values else 0
    for currency, values in report["recovered_minor"].items():
        found[f"recovered ({currency}, minor units)"] = sum(values)
    found["compliance violations"] = report["compliance"]["total_violations"]
    return found


def compare(champion: dict[str, Any], challenger: dict[str, Any]) -> dict[str, Any]:
    """Both reports and, for every total either has, challenger minus champion."""
    a, b = champion["totals"], challenger["totals"]
    keys = list(dict.fromkeys([*a, *b]))
    differences = {k: round(b.get(k, 0) - a.get(k, 0), 6) for k in keys}
    return {
        "champion": champion,
        "challenger": challenger,
        "differences": {k: v for k, v in differences.items() if v},
    }


class _Series:
    def __init__(self, days: int) -> None:
        self.days = days

    def sum_by(self, counter: Any, name: Any) -> dict[str, list[int]]:
        """{name(key): per-day list} from a Counter keyed by (day, ...)."""
        found: dict[str, list[int]] = defaultdict(lambda: [0] * self.days)
        for key, n in counter.items():
            found[name(key)][key[0]] += n
        return {k: found[k] for k in sorted(found)}


def _second(key: tuple[Any, ...]) -> Any:
    return key[1]
