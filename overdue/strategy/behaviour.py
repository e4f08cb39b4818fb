"""The payment-behaviour model of `overdue simulate`: how simulated customers answer contacts.

Read from a YAML or JSON file (strategy/behaviour.yaml is the default; docs/strategy.md
explains every parameter). Segments inherit every value they do not set from `default`. The
model only says how likely things are; which draws come out is `engine`'s business (a seeded
hash per account), so a model and a seed give the same run every time.
"""

from __future__ import annotations

import json
from datetime import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from overdue.billing_rules import PRICE_PER_MILLION_ACTIONS_USD

Probability = float


class ModelFileError(ValueError):
    """A behaviour-model file that cannot be used; the message names the file and the field."""


class Segment(BaseModel):
    """How the customers of one risk segment behave."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    # Daily payment hazard by days past due, a step function: [[dpd, p], ...] means p from that
    # dpd on (until the next entry). Before the first entry: 0.
    cure: tuple[tuple[int, Probability], ...] = Field(min_length=1)
    right_party_contact: Probability = Field(ge=0, le=1)  # a call task reaches the customer
    promise: Probability = Field(ge=0, le=1)  # a reached customer promises to pay in full
    hardship: Probability = Field(ge=0, le=1)  # ... or reports hardship (a plan follows)
    promise_keeping: Probability = Field(ge=0, le=1)
    plan_keeping: Probability = Field(ge=0, le=1)  # each instalment, until one is missed

    @field_validator("cure")
    @classmethod
    def _cure_curve(cls, curve: tuple[tuple[int, float], ...]) -> tuple[tuple[int, float], ...]:
        days = [day for day, _ in curve]
        if days != sorted(set(days)):
            raise ValueError("the cure curve's days past due must increase")
        if any(not 0 <= p <= 1 for _, p in curve):
            raise ValueError("a daily payment hazard is a probability (0 to 1)")
        return curve

    def hazard(self, dpd: int) -> float:
        """The daily payment probability at `dpd` days past due."""
        found = 0.0
        for day, p in self.cure:
            if day > dpd:
                break
            found = p
        return found

    @property
    def reached_other(self) -> float:
        return max(0.0, 1.0 - self.promise - self.hardship)


class BehaviourModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    segments: dict[
        str, Segment
    ]  # `default` required: accounts without (or with an unknown) segment
    # Relative increase of the next day's payment hazard after a contact on that channel
    # (0.3: 30 % more likely); `call` counts a call that reached the customer.
    channel_uplift: dict[str, float] = Field(default_factory=dict)
    payment_time: time = time(12, 30, 7)  # local time of day payments arrive
    call_outcome_after_minutes: int = Field(default=90, ge=1, le=600)
    promise_days: int = Field(
        default=5, ge=1, le=60
    )  # promised date: this many days after the call
    plan_instalments: int = Field(default=3, ge=1, le=24)
    plan_every_days: int = Field(default=30, ge=1, le=90)
    plan_decision_after_days: int = Field(default=2, ge=0, le=30)
    sms_opt_out: Probability = Field(default=0.0, ge=0, le=1)  # per text: the customer sends STOP
    sms_price_per_segment: float = Field(default=0.05, ge=0)
    price_currency: str = "USD"
    handling_minutes_per_call: float = Field(default=6.0, gt=0)
    agent_time_zone: str = "Asia/Shanghai"
    temporal_price_per_million_actions: float = Field(default=PRICE_PER_MILLION_ACTIONS_USD, ge=0)

    @field_validator("segments")
    @classmethod
    def _has_default(cls, segments: dict[str, Segment]) -> dict[str, Segment]:
        if "default" not in segments:
            raise ValueError("a 'default' segment is required")
        return segments

    @field_validator("channel_uplift")
    @classmethod
    def _channels(cls, uplift: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(uplift) - {"sms", "notify", "call"})
        if unknown:
            raise ValueError(f"unknown channel(s) {', '.join(unknown)}: sms, notify, call")
        if any(v < -1 for v in uplift.values()):
            raise ValueError("an uplift below -1 would make a probability negative")
        return uplift

    @field_validator("agent_time_zone")
    @classmethod
    def _zone(cls, name: str) -> str:
        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {name!r}") from None
        return name

    def segment(self, name: str | None) -> Segment:
        return self.segments.get(name or "default", self.segments["default"])


def parse_model(data: Any, source: str) -> BehaviourModel:
    """The model from parsed YAML/JSON; each segment's missing values come from `default`."""
    if not isinstance(data, dict):
        raise ModelFileError(f"{source}: a behaviour model is a mapping (see docs/strategy.md)")
    segments = data.get("segments")
    if isinstance(segments, dict) and "default" not in segments:
        raise ModelFileError(
            f"{source}: not a valid behaviour model:\n  segments: a 'default' segment is "
            "required (the other segments take every value they omit from it)"
        )
    if isinstance(segments, dict) and isinstance(segments.get("default"), dict):
        base = segments["default"]
        data = data | {
            "segments": {
                name: (base | value if isinstance(value, dict) else value)
                for name, value in segments.items()
            }
        }
    try:
        return BehaviourModel.model_validate(data)
    except ValidationError as err:
        lines = [
            f"{'.'.join(str(p) for p in e['loc']) or 'model'}: {e['msg']}"
            for e in err.errors(include_url=False, include_input=False)
        ]
        raise ModelFileError(
            f"{source}: not a valid behaviour model:\n  " + "\n  ".join(lines)
        ) from None


def load_model(path: Path) -> BehaviourModel:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise ModelFileError(f"cannot read {path}: {err.strerror}") from None
    try:
        data = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        kind = "JSON" if path.suffix == ".json" else "YAML"
        raise ModelFileError(f"{path}: not valid {kind}: {err}") from None
    return parse_model(data, str(path))
