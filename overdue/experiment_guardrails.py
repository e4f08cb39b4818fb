"""Guardrails: when a challenger stops receiving new accounts. Pure, over the outcome rows.

A challenger breaches when, with at least `min_accounts` in it and in the champion, its
complaint or opt-out rate is higher than the champion's by more than the experiment's
threshold; or when, with at least `min_accounts` vulnerable accounts in each, its vulnerable
customers' cure rate is lower, or their complaint rate higher, by more than the threshold.
Point estimates are compared, not confidence bounds: a guardrail protects customers while
the evidence builds, and a stopped arm's accounts already assigned keep running (their
outcomes still count in the report).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from overdue.experiment_analysis import Outcome
from overdue.experiments import Experiment


@dataclass(frozen=True)
class Breach:
    arm: str
    metric: str  # complaint_rate, opt_out_rate, vulnerable_cure_rate, vulnerable_complaint_rate
    arm_value: float
    champion_value: float
    threshold: float
    arm_accounts: int
    champion_accounts: int

    def describe(self) -> str:
        worse = "lower" if self.metric == "vulnerable_cure_rate" else "higher"
        return (
            f"{self.arm}: {self.metric.replace('_', ' ')} {self.arm_value:.2%} vs champion "
            f"{self.champion_value:.2%} ({worse} by more than {self.threshold:.2%}; "
            f"{self.arm_accounts} vs {self.champion_accounts} accounts)"
        )

    def details(self) -> dict[str, object]:
        """What the audit trail and the stop record keep."""
        return {
            "arm": self.arm,
            "metric": self.metric,
            "arm_value": self.arm_value,
            "champion_value": self.champion_value,
            "threshold": self.threshold,
            "arm_accounts": self.arm_accounts,
            "champion_accounts": self.champion_accounts,
        }


@dataclass(frozen=True)
class _Check:
    metric: str
    vulnerable_only: bool
    flag: Callable[[Outcome], bool]
    threshold: float
    higher_is_worse: bool


def _checks(experiment: Experiment) -> list[_Check]:
    g = experiment.guardrails
    return [
        _Check("complaint_rate", False, lambda o: o.complained, g.complaint_rate_increase, True),
        _Check("opt_out_rate", False, lambda o: o.opted_out, g.opt_out_rate_increase, True),
        _Check("vulnerable_cure_rate", True, lambda o: o.cured, g.vulnerable_cure_rate_drop, False),
        _Check(
            "vulnerable_complaint_rate",
            True,
            lambda o: o.complained,
            g.vulnerable_complaint_rate_increase,
            True,
        ),
    ]


def breaches(experiment: Experiment, rows: Sequence[Outcome]) -> list[Breach]:
    """Each challenger's first breach (at most one per arm), in the arms' order."""
    found = []
    for arm in experiment.arms:
        if arm.name == experiment.champion:
            continue
        breach = _first_breach(experiment, arm.name, rows)
        if breach is not None:
            found.append(breach)
    return found


def _first_breach(experiment: Experiment, arm: str, rows: Sequence[Outcome]) -> Breach | None:
    minimum = experiment.guardrails.min_accounts
    for check in _checks(experiment):
        pool = [o for o in rows if o.vulnerable] if check.vulnerable_only else list(rows)
        mine = [o for o in pool if o.arm == arm]
        theirs = [o for o in pool if o.arm == experiment.champion]
        if len(mine) < minimum or len(theirs) < minimum:
            continue
        mine_rate = sum(map(check.flag, mine)) / len(mine)
        their_rate = sum(map(check.flag, theirs)) / len(theirs)
        gap = mine_rate - their_rate if check.higher_is_worse else their_rate - mine_rate
        if gap > check.threshold:
            return Breach(
                arm=arm,
                metric=check.metric,
                arm_value=mine_rate,
                champion_value=their_rate,
                threshold=check.threshold,
                arm_accounts=len(mine),
                champion_accounts=len(theirs),
            )
    return None
