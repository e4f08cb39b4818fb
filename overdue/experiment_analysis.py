"""Comparing an experiment's arms: a pure function over one outcome row per account.

`analyse` summarises each arm and compares every challenger with the champion on each metric
(challenger minus champion), with a confidence interval and a plain verdict at `alpha`:

- rates (cure, complaint, opt-out, dispute): the score test of two independent proportions
  and Newcombe's hybrid score interval (built from Wilson intervals, well behaved when a
  rate is 0; statsmodels), each arm's own rate with a Wilson interval;
- means (days to cure over cured accounts, amount recovered per account): Welch's t test and
  its interval (scipy), which do not assume equal variances;
- contacts per cure (a ratio of two sums): a percentile bootstrap of the difference (scipy,
  seeded from the experiment id so a report is reproducible); significant when the interval
  leaves out 0.

Each metric is tested on its own at `alpha` (no correction for the seven looks): the cure
rate is the experiment's primary metric, the rest are read as guides. Nothing here touches
the database: `overdue.store.experiments.outcome_rows` builds the rows.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

# scipy and statsmodels are imported where a test or an interval is computed: this module is
# imported by every API process (the guardrails' `Outcome`), which should not pay ~1.5 s of
# imports at start for a report it never draws.

MIN_PER_ARM = 2  # a mean or a rate needs at least this many accounts in each arm
MIN_CURES_FOR_RATIO = 10  # contacts per cure: fewer cures make the bootstrap meaningless
BOOTSTRAP_RESAMPLES = 2000


@dataclass(frozen=True)
class Outcome:
    """One account's outcome since it was assigned (no personal data)."""

    arm: str
    vulnerable: bool
    cured: bool
    days_to_cure: float | None  # None unless cured
    recovered_minor: int
    currency: str
    contacts: int
    complained: bool
    opted_out: bool
    disputed: bool


Kind = Literal["rate", "mean", "ratio"]


@dataclass(frozen=True)
class Metric:
    name: str
    label: str
    kind: Kind
    higher_is_better: bool


METRICS = (
    Metric("cure_rate", "cure rate", "rate", True),
    Metric("days_to_cure", "days to cure", "mean", False),
    Metric("recovered_minor", "amount recovered per account (minor units)", "mean", True),
    Metric("contacts_per_cure", "contacts per cure", "ratio", False),
    Metric("complaint_rate", "complaint rate", "rate", False),
    Metric("opt_out_rate", "opt-out rate", "rate", False),
    Metric("dispute_rate", "dispute rate", "rate", False),
)

_FLAGS: dict[str, Callable[[Outcome], bool]] = {
    "cure_rate": lambda o: o.cured,
    "complaint_rate": lambda o: o.complained,
    "opt_out_rate": lambda o: o.opted_out,
    "dispute_rate": lambda o: o.disputed,
}


@dataclass(frozen=True)
class Estimate:
    value: float | None
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class Comparison:
    """Challenger minus champion on one metric."""

    metric: str
    arm: str
    champion_value: float | None
    arm_value: float | None
    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    significant: bool
    verdict: str  # the plain statement


@dataclass(frozen=True)
class ArmSummary:
    arm: str
    accounts: int
    cures: int
    metrics: dict[str, Estimate] = field(default_factory=dict)


@dataclass(frozen=True)
class Analysis:
    champion: str
    alpha: float
    arms: list[ArmSummary]
    comparisons: list[Comparison]
    notes: list[str]


@dataclass(frozen=True)
class Test:
    """A test's result: the difference, its interval and p-value (None: not computable)."""

    difference: float | None
    low: float | None
    high: float | None
    p_value: float | None
    reason: str = ""


def compare_rates(
    arm_hits: int, arm_n: int, champion_hits: int, champion_n: int, alpha: float
) -> Test:
    """Score test and score interval for p_arm - p_champion."""
    from statsmodels.stats.proportion import confint_proportions_2indep, test_proportions_2indep

    if min(arm_n, champion_n) < MIN_PER_ARM:
        return Test(None, None, None, None, f"fewer than {MIN_PER_ARM} accounts in an arm")
    difference = arm_hits / arm_n - champion_hits / champion_n
    pooled = arm_hits + champion_hits
    if pooled in (0, arm_n + champion_n):  # all or none in both arms: nothing to tell apart
        return Test(difference, 0.0, 0.0, 1.0)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        # statsmodels also computes the ratio and odds ratio, which divide by a zero rate.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = test_proportions_2indep(
            arm_hits, arm_n, champion_hits, champion_n, method="score", compare="diff"
        )
        low, high = confint_proportions_2indep(
            arm_hits,
            arm_n,
            champion_hits,
            champion_n,
            method="newcomb",
            compare="diff",
            alpha=alpha,
        )
    return Test(difference, float(low), float(high), float(result.pvalue))


def compare_means(arm: Sequence[float], champion: Sequence[float], alpha: float) -> Test:
    """Welch's t test and interval for mean_arm - mean_champion."""
    from scipy import stats

    if min(len(arm), len(champion)) < MIN_PER_ARM:
        return Test(None, None, None, None, f"fewer than {MIN_PER_ARM} values in an arm")
    difference = float(np.mean(arm) - np.mean(champion))
    if np.var(arm) == 0 and np.var(champion) == 0:
        same = difference == 0
        return Test(difference, difference, difference, 1.0 if same else 0.0)
    with warnings.catch_warnings():
        # One arm's values all alike (every account recovered 0) is a valid Welch case.
        warnings.simplefilter("ignore", RuntimeWarning)
        result = stats.ttest_ind(arm, champion, equal_var=False)
    interval = result.confidence_interval(confidence_level=1 - alpha)
    return Test(difference, float(interval.low), float(interval.high), float(result.pvalue))


def compare_ratios(
    arm: Sequence[Outcome], champion: Sequence[Outcome], alpha: float, seed: int
) -> Test:
    """Bootstrap interval for contacts-per-cure(arm) - contacts-per-cure(champion)."""
    from scipy import stats

    arm_cures = sum(o.cured for o in arm)
    champion_cures = sum(o.cured for o in champion)
    if min(arm_cures, champion_cures) < MIN_CURES_FOR_RATIO:
        return Test(None, None, None, None, f"fewer than {MIN_CURES_FOR_RATIO} cures in an arm")
    a_contacts = np.array([o.contacts for o in arm], dtype=float)
    a_cured = np.array([o.cured for o in arm], dtype=float)
    c_contacts = np.array([o.contacts for o in champion], dtype=float)
    c_cured = np.array([o.cured for o in champion], dtype=float)

    def statistic(a_idx: np.ndarray, c_idx: np.ndarray, axis: int = -1) -> np.ndarray:
        # Resampling account indices keeps each account's contacts and cure together.
        a_idx, c_idx = a_idx.astype(int), c_idx.astype(int)
        a = a_contacts[a_idx].sum(axis=axis) / np.maximum(a_cured[a_idx].sum(axis=axis), 1)
        c = c_contacts[c_idx].sum(axis=axis) / np.maximum(c_cured[c_idx].sum(axis=axis), 1)
        return np.asarray(a - c)

    difference = float(statistic(np.arange(len(arm)), np.arange(len(champion))))
    result = stats.bootstrap(
        (np.arange(len(arm)), np.arange(len(champion))),
        statistic,
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=1 - alpha,
        method="percentile",
        vectorized=True,
        batch=50,
        rng=np.random.default_rng(seed),
    )
    interval = result.confidence_interval
    return Test(difference, float(interval.low), float(interval.high), None)


def _rate(hits: int, n: int, alpha: float) -> Estimate:
    from statsmodels.stats.proportion import proportion_confint

    if n == 0:
        return Estimate(None)
    low, high = proportion_confint(hits, n, alpha=alpha, method="wilson")
    return Estimate(hits / n, float(low), float(high))


def _mean(values: Sequence[float], alpha: float) -> Estimate:
    from scipy import stats

    if not values:
        return Estimate(None)
    mean = float(np.mean(values))
    if len(values) < MIN_PER_ARM or np.var(values) == 0:
        return Estimate(mean)
    interval = stats.t.interval(1 - alpha, len(values) - 1, loc=mean, scale=stats.sem(values))
    return Estimate(mean, float(interval[0]), float(interval[1]))


def _values(metric: str, rows: Sequence[Outcome]) -> list[float]:
    if metric == "days_to_cure":
        return [o.days_to_cure for o in rows if o.cured and o.days_to_cure is not None]
    return [float(o.recovered_minor) for o in rows]


def summarise(arm: str, rows: Sequence[Outcome], alpha: float) -> ArmSummary:
    cures = sum(o.cured for o in rows)
    metrics = {
        name: _rate(sum(flag(o) for o in rows), len(rows), alpha) for name, flag in _FLAGS.items()
    }
    for name in ("days_to_cure", "recovered_minor"):
        metrics[name] = _mean(_values(name, rows), alpha)
    contacts = sum(o.contacts for o in rows)
    metrics["contacts_per_cure"] = Estimate(contacts / cures if cures else None)
    return ArmSummary(arm=arm, accounts=len(rows), cures=cures, metrics=metrics)


def compare(
    metric: Metric,
    arm: Sequence[Outcome],
    champion: Sequence[Outcome],
    alpha: float,
    seed: int,
) -> Test:
    """One metric's test, challenger rows against champion rows."""
    if metric.kind == "rate":
        flag = _FLAGS[metric.name]
        return compare_rates(
            sum(flag(o) for o in arm),
            len(arm),
            sum(flag(o) for o in champion),
            len(champion),
            alpha,
        )
    if metric.kind == "mean":
        return compare_means(_values(metric.name, arm), _values(metric.name, champion), alpha)
    return compare_ratios(arm, champion, alpha, seed)


def significant(test: Test, alpha: float) -> bool:
    if test.difference is None or test.low is None or test.high is None:
        return False
    if test.p_value is not None:
        return test.p_value < alpha
    return test.low > 0 or test.high < 0


def verdict(metric: Metric, arm: str, champion: str, test: Test, alpha: float) -> str:
    """The plain statement the report prints for one comparison."""
    if test.difference is None:
        return f"not enough data to compare {metric.label} ({test.reason})"
    level = f"{(1 - alpha) * 100:g}%"
    if not significant(test, alpha):
        return (
            f"no significant difference in {metric.label} between {arm} and {champion} "
            f"at the {level} level"
        )
    better = (test.difference > 0) == metric.higher_is_better
    direction = "higher" if test.difference > 0 else "lower"
    return (
        f"{arm}'s {metric.label} is significantly {direction} than {champion}'s "
        f"({'better' if better else 'worse'}) at the {level} level"
    )


def report_seed(experiment_id: str) -> int:
    """The bootstrap's seed: the same experiment's report draws the same resamples."""
    return int.from_bytes(hashlib.sha256(experiment_id.encode()).digest()[:4], "big")


def analyse(
    rows: Sequence[Outcome], *, arms: Sequence[str], champion: str, alpha: float, seed: int
) -> Analysis:
    """Each arm's summary and each challenger's comparison with the champion."""
    by_arm = {name: [o for o in rows if o.arm == name] for name in arms}
    notes = []
    currencies = sorted({o.currency for o in rows})
    mixed = len(currencies) > 1
    if mixed:
        notes.append(
            f"amounts are in several currencies ({', '.join(currencies)}): the amount "
            "recovered is not compared; report one currency at a time (--currency)"
        )
    summaries = {arm: summarise(arm, by_arm[arm], alpha) for arm in arms}
    comparisons = [
        _comparison(metric, arm, champion, summaries, by_arm, alpha, seed)
        for arm in arms
        if arm != champion
        for metric in METRICS
        if not (mixed and metric.name == "recovered_minor")
    ]
    return Analysis(champion, alpha, list(summaries.values()), comparisons, notes)


def _comparison(
    metric: Metric,
    arm: str,
    champion: str,
    summaries: dict[str, ArmSummary],
    by_arm: dict[str, list[Outcome]],
    alpha: float,
    seed: int,
) -> Comparison:
    test = compare(metric, by_arm[arm], by_arm[champion], alpha, seed)
    return Comparison(
        metric=metric.name,
        arm=arm,
        champion_value=summaries[champion].metrics[metric.name].value,
        arm_value=summaries[arm].metrics[metric.name].value,
        difference=_finite(test.difference),
        low=_finite(test.low),
        high=_finite(test.high),
        p_value=_finite(test.p_value),
        significant=significant(test, alpha),
        verdict=verdict(metric, arm, champion, test, alpha),
    )


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None
