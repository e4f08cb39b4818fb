"""Shared set-up for the simulator's tests: a fixed start (a Tuesday, 00:00 UTC), the default
policy and behaviour model as shipped."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from overdue.policy_files import read_policy
from overdue.strategy.behaviour import BehaviourModel, load_model, parse_model
from overdue.strategy.runner import Setup
from workflows.policy import Policy

ROOT = Path(__file__).resolve().parents[3]
START = datetime(2026, 12, 1, tzinfo=UTC)
DEFAULT_POLICY = ROOT / "policies/default.yaml"
DEFAULT_MODEL = ROOT / "strategy/behaviour.yaml"


def default_policy() -> Policy:
    return read_policy(DEFAULT_POLICY, START.date())


def default_model() -> BehaviourModel:
    return load_model(DEFAULT_MODEL)


def model_with(**changes: Any) -> BehaviourModel:
    """The default model with top-level values changed."""
    return parse_model(default_model().model_dump(mode="json") | changes, "test")


def setup(policy: Policy | None = None, model: BehaviourModel | None = None, **kw: Any) -> Setup:
    return Setup(
        policy or default_policy(),
        model or default_model(),
        kw.get("start", START),
        kw.get("days", 120),
        kw.get("seed", 7),
    )


def with_day5_sms(policy: Policy) -> Policy:
    """`policy` with one more SMS stage, five days past due at 10:00 (the first notice's text),
    under another id."""
    stages = [s.model_dump(mode="json", exclude_none=True) for s in policy.stages]
    at = next(i for i, s in enumerate(policy.stages) if s.offset.days > 5)
    day5 = {
        "id": "d5_sms",
        "offset": "5d",
        "channel": "sms",
        "template": "overdue_first_notice",
        "send_at": "10:00",
    }
    data = policy.model_dump(mode="json") | {
        "id": "default-d5",
        "stages": [*stages[:at], day5, *stages[at:]],
    }
    return Policy.model_validate(data)
