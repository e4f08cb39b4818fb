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
