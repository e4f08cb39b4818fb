"""Champion / challenger experiments: what an experiment file says, and which arm an account
gets (docs/strategy.md#champion--challenger).

An experiment names its arms (a policy id and version each, with a weight), optional weights
per segment (product, risk segment, jurisdiction), the champion arm, the significance level
its report uses and its guardrails. `load_experiment` reads and validates a YAML file the way
`overdue.policy_files` reads policies: every problem is reported with its path and reason.

An account's arm is a pure function of the experiment id and the account id (`arm_for`):
sha256 of both, read as a number uniform in [0, 1), placed on the arms' cumulative weights.
The same account always lands in the same arm, on any machine, after any restart or replay.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

_NAME = r"^[a-z0-9][a-z0-9_-]{0,62}$"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PolicyRef(_Model):
    id: str = Field(pattern=_NAME, description="The policy's `id`.")
    version: int = Field(ge=1, description="The policy's `version`; must match the file's.")


class Arm(_Model):
    name: str = Field(pattern=_NAME)
    policy: PolicyRef
    weight: float = Field(ge=0, description="Relative share of new accounts (any scale).")


class SegmentWhen(_Model):
    """Which accounts a segment rule covers: every listed field must match (an absent field
    matches all)."""

    products: list[str] | None = Field(default=None, min_length=1)
    risk_segments: list[str] | None = Field(default=None, min_length=1)
    jurisdictions: list[str] | None = Field(default=None, min_length=1)

    def matches(self, facts: SegmentFacts) -> bool:
        return all(
            wanted is None or value in wanted
            for wanted, value in (
                (self.products, facts.product),
                (self.risk_segments, facts.risk_segment),
                (self.jurisdictions, facts.jurisdiction),
            )
        )


class Segment(_Model):
    name: str = Field(pattern=_NAME)
    when: SegmentWhen
    weights: dict[str, float] = Field(
        min_length=1, description="Arm name -> weight for these accounts; unnamed arms get 0."
    )


class Guardrails(_Model):
    """Differences (challenger minus champion, as shares 0..1) beyond which a challenger stops
    receiving new accounts; checked once each arm (and, for the vulnerable thresholds, its
    vulnerable accounts) has at least `min_accounts`."""

    min_accounts: int = Field(default=200, ge=1)
    complaint_rate_increase: float = Field(default=0.01, ge=0, le=1)
    opt_out_rate_increase: float = Field(default=0.02, ge=0, le=1)
    vulnerable_cure_rate_drop: float = Field(default=0.05, ge=0, le=1)
    vulnerable_complaint_rate_increase: float = Field(default=0.01, ge=0, le=1)


class Experiment(_Model):
    id: str = Field(pattern=_NAME)
    description: str = Field(default="", max_length=500)
    champion: str = Field(pattern=_NAME, description="The arm the others are compared with.")
    alpha: float = Field(default=0.05, gt=0, lt=0.5, description="Significance level.")
    arms: list[Arm] = Field(min_length=2, max_length=10)
    segments: list[Segment] = Field(default_factory=list)
    guardrails: Guardrails = Field(default_factory=Guardrails)

    @model_validator(mode="after")
    def _consistent(self) -> Experiment:
        names = [arm.name for arm in self.arms]
        if len(set(names)) != len(names):
            raise ValueError(f"arm names must be unique: {names}")
        if self.champion not in names:
            raise ValueError(f"champion {self.champion!r} is not one of the arms {names}")
        if sum(arm.weight for arm in self.arms) <= 0:
            raise ValueError("the arms' weights must not all be 0")
        for segment in self.segments:
            unknown = sorted(set(segment.weights) - set(names))
            if unknown:
                raise ValueError(f"segment {segment.name!r} names unknown arms {unknown}")
            if sum(segment.weights.values()) <= 0:
                raise ValueError(f"segment {segment.name!r}: weights must not all be 0")
        return self

    def arm(self, name: str) -> Arm:
        return next(arm for arm in self.arms if arm.name == name)


@dataclass(frozen=True)
class SegmentFacts:
    """What segment rules look at, as the account's start reports it (no personal data)."""

    product: str
    risk_segment: str | None
    jurisdiction: str


def bucket(experiment_id: str, account_id: str) -> float:
    """Uniform in [0, 1), fixed for the pair: the first 8 bytes of sha256("exp\\x00acc")."""
    digest = hashlib.sha256(f"{experiment_id}\x00{account_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def segment_for(experiment: Experiment, facts: SegmentFacts) -> Segment | None:
    """The first segment rule that matches the account, if any."""
    return next((s for s in experiment.segments if s.when.matches(facts)), None)


def weights_for(experiment: Experiment, facts: SegmentFacts) -> dict[str, float]:
    """The first matching segment's weights, else the arms' own; in the arms' order."""
    segment = segment_for(experiment, facts)
    if segment is None:
        return {arm.name: arm.weight for arm in experiment.arms}
    return {arm.name: segment.weights.get(arm.name, 0.0) for arm in experiment.arms}


def pick(weights: Mapping[str, float], point: float) -> str:
    """The arm whose slice of the cumulative weights holds `point` (0 <= point < 1)."""
    total = sum(weights.values())
    edge = 0.0
    chosen = ""
    for name, weight in weights.items():
        if weight <= 0:
            continue
        chosen = name
        edge += weight / total
        if point < edge:
            return name
    return chosen  # rounding left the last sliver: it belongs to the last arm with weight


def arm_for(experiment: Experiment, account_id: str, facts: SegmentFacts) -> str:
    """The arm the hash gives this account (before guardrails)."""
    return pick(weights_for(experiment, facts), bucket(experiment.id, account_id))


class ExperimentFileError(ValueError):
    """An experiment file that cannot be used. `problems` is a list of (path, reason)."""

    def __init__(self, file: Path, problems: Sequence[tuple[str, str]]) -> None:
        self.file = file
        self.problems = list(problems)
        lines = "\n".join(f"  {path or '(top level)'}: {reason}" for path, reason in problems)
        super().__init__(f"invalid experiment file {file}:\n{lines}")


def load_experiment(file: Path) -> Experiment:
    """The experiment in `file`, validated; ExperimentFileError naming each problem."""
    try:
        data = yaml.safe_load(file.read_text(encoding="utf-8"))
    except OSError as err:
        raise ExperimentFileError(file, [("", f"cannot read the file: {err.strerror}")]) from err
    except yaml.YAMLError as err:
        raise ExperimentFileError(file, [("", f"not valid YAML: {err}")]) from err
    if not isinstance(data, dict):
        raise ExperimentFileError(file, [("", "expected a mapping with id, champion and arms")])
    try:
        return Experiment.model_validate(data)
    except ValidationError as err:
        raise ExperimentFileError(
            file,
            [
                (
                    ".".join(str(part) for part in error["loc"]),
                    error["msg"].removeprefix("Value error, "),
                )
                for error in err.errors()
            ],
        ) from err
