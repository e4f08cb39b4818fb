"""A trained risk model as JSON, and scoring with it: pure arithmetic, no scikit-learn.

The model is a logistic regression on standardized features: the log-odds that the bill is
paid within the outcome window is `intercept + sum(coefficient * (value - mean) / scale)`.
Each term is that feature's contribution for this account against the training set's average
account, so the reasons are the terms largest in size, with their direction (PIPL art. 24).
The risk segment comes from the propensity and the cut points fixed at training.
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from overdue.scoring.features import column_names, vector

SCHEMA = 1
SEGMENTS = ("high", "medium", "low")  # risk, from the lowest propensity to pay to the highest
REASONS = 3  # how many features a score names as its reasons


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TrainingMetrics(_Frozen):
    source: str = Field(description="postgres, or csv:<file name>")
    rows: int
    train_rows: int
    holdout_rows: int
    paid_share: float = Field(description="Share of training bills paid within the window.")
    auc_train: float
    auc_holdout: float = Field(description="ROC AUC on the held-out rows (0.5: no skill).")


class Reason(_Frozen):
    feature: str
    value: float
    contribution: float = Field(description="Change in the log-odds of paying it makes.")
    direction: Literal["raises", "lowers"] = Field(description="Its effect on propensity.")


class Score(_Frozen):
    model_version: str
    propensity: float = Field(description="Probability the bill is paid within the window.")
    risk_segment: str
    reasons: list[Reason]
    product: str
    features: dict[str, float]


class RiskModel(_Frozen):
    schema_version: int = SCHEMA
    version: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,64}$")
    trained_at: datetime
    outcome_days: int = Field(description="The window a bill had to be paid within.")
    products: tuple[str, ...]
    columns: tuple[str, ...]
    means: tuple[float, ...]
    scales: tuple[float, ...]
    coefficients: tuple[float, ...]
    intercept: float
    cut_points: tuple[float, float] = Field(
        description="Propensities below the first are high risk, below the second medium."
    )
    metrics: TrainingMetrics

    @model_validator(mode="after")
    def _consistent(self) -> RiskModel:
        if self.schema_version != SCHEMA:
            raise ValueError(f"model schema {self.schema_version} is not {SCHEMA}")
        if list(self.columns) != column_names(self.products):
            raise ValueError("columns do not match the features and products")
        n = len(self.columns)
        if not len(self.means) == len(self.scales) == len(self.coefficients) == n:
            raise ValueError("means, scales and coefficients need one value per column")
        if any(s <= 0 for s in self.scales):
            raise ValueError("scales must be positive")
        low, high = self.cut_points
        if not 0 <= low <= high <= 1:
            raise ValueError("cut points must be 0 <= first <= second <= 1")
        return self

    def segment(self, propensity: float) -> str:
        low, high = self.cut_points
        return "high" if propensity < low else "medium" if propensity < high else "low"

    def score(self, values: dict[str, float], product: str) -> Score:
        """Score one account's features; reasons ordered by size, then name (deterministic)."""
        x = vector(values, product, self.products)
        terms = [
            coefficient * (value - mean) / scale
            for value, mean, scale, coefficient in zip(
                x, self.means, self.scales, self.coefficients, strict=True
            )
        ]
        logit = self.intercept + math.fsum(terms)
        propensity = 1 / (1 + math.exp(-max(min(logit, 500.0), -500.0)))
        named = sorted(
            ((round(t, 6), c, v) for t, c, v in zip(terms, self.columns, x, strict=True) if t),
            key=lambda item: (-abs(item[0]), item[1]),
        )
        reasons = [
            Reason(
                feature=column,
                value=value,
                contribution=term,
                direction="raises" if term > 0 else "lowers",
            )
            for term, column, value in named[:REASONS]
        ]
        return Score(
            model_version=self.version,
            propensity=round(propensity, 6),
            risk_segment=self.segment(propensity),
            reasons=reasons,
            product=product,
            features=dict(values),
        )
