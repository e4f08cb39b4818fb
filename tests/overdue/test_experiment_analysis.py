"""The experiment report's statistics on generated accounts with a known truth.

Over 200 seeds: with no difference between the arms the cure-rate test flags at most
alpha + 4 points of the experiments (the binomial's sd at 200 runs is about 1.5 points), and
with a planted effect (cure rate 30% vs 36%, 1,500 accounts per arm: power about 0.96 at
alpha 0.05) it flags at least 90% of them. The same for days to cure (Welch). Fixed seeds:
the counts are the same on every run.
"""

from __future__ import annotations

import random

import numpy as np
import pytest

from overdue.experiment_analysis import (
    Outcome,
    analyse,
    compare_means,
    compare_rates,
    significant,
)

ALPHA = 0.05
SEEDS = range(200)
TOLERANCE = 0.04
MIN_POWER = 0.90
N = 1500  # accounts per arm


def _cure_test(seed: int, champion_rate: float, challenger_rate: float) -> bool:
    rng = np.random.default_rng(seed)
    champion = int(rng.binomial(N, champion_rate))
    challenger = int(rng.binomial(N, challenger_rate))
    return significant(compare_rates(challenger, N, champion, N, ALPHA), ALPHA)


def test_no_effect_is_flagged_within_alpha() -> None:
    flagged = sum(_cure_test(seed, 0.30, 0.30) for seed in SEEDS)
    assert flagged / len(SEEDS) <= ALPHA + TOLERANCE, flagged


def test_a_planted_cure_rate_effect_is_detected() -> None:
    detected = sum(_cure_test(seed, 0.30, 0.36) for seed in SEEDS)
    assert detected / len(SEEDS) >= MIN_POWER, detected


def _days_test(seed: int, champion_mean: float, challenger_mean: float) -> bool:
    rng = np.random.default_rng(seed)
    # Days to cure are skewed (exponential): Welch's t holds at these sizes all the same.
    champion = rng.exponential(champion_mean, 400)
    challenger = rng.exponential(challenger_mean, 400)
    test = compare_means(list(challenger), list(champion), ALPHA)
    return significant(test, ALPHA)


def test_days_to_cure_no_effect_within_alpha_and_effect_detected() -> None:
    false_positives = sum(_days_test(seed, 12.0, 12.0) for seed in SEEDS)
    detected = sum(_days_test(seed, 12.0, 9.0) for seed in SEEDS)
    assert false_positives / len(SEEDS) <= ALPHA + TOLERANCE, false_positives
    assert detected / len(SEEDS) >= MIN_POWER, detected


def _accounts(seed: int, arm: str, cure_rate: float, n: int) -> list[Outcome]:
    rng = random.Random(f"{seed}-{arm}")
    rows = []
    for _ in range(n):
        cured = rng.random() < cure_rate
        rows.append(
            Outcome(
                arm=arm,
                vulnerable=rng.random() < 0.1,
                cured=cured,
                days_to_cure=rng.expovariate(1 / 10) if cured else None,
                recovered_minor=50_000 if cured else rng.choice((0, 10_000)),
                currency="CNY",
                contacts=rng.randint(1, 6),
                complained=rng.random() < 0.02,
                opted_out=rng.random() < 0.03,
                disputed=rng.random() < 0.01,
            )
        )
    return rows


def test_the_report_names_the_planted_effect_and_only_it() -> None:
    rows = _accounts(1, "champion", 0.30, N) + _accounts(1, "sms_first", 0.36, N)
    analysis = analyse(
        rows, arms=["champion", "sms_first"], champion="champion", alpha=ALPHA, seed=7
    )
    by_metric = {c.metric: c for c in analysis.comparisons}
    cure = by_metric["cure_rate"]
    assert cure.significant
    assert cure.low is not None and cure.high is not None and 0 < cure.low < 0.06 < cure.high
    assert "significantly higher" in cure.verdict and "(better)" in cure.verdict
    for metric in ("complaint_rate", "opt_out_rate", "dispute_rate", "days_to_cure"):
        assert not by_metric[metric].significant, by_metric[metric]
        assert by_metric[metric].verdict.startswith("no significant difference")
    # More cures for the same contacts: fewer contacts per cure, and the bootstrap sees it.
    assert by_metric["contacts_per_cure"].significant
    summary = {s.arm: s for s in analysis.arms}
    assert summary["champion"].accounts == N
    rate = summary["sms_first"].metrics["cure_rate"]
    assert rate.low is not None and rate.high is not None and rate.low < 0.36 < rate.high


def test_the_report_is_reproducible() -> None:
    rows = _accounts(2, "a", 0.3, 300) + _accounts(2, "b", 0.3, 300)
    first = analyse(rows, arms=["a", "b"], champion="a", alpha=ALPHA, seed=3)
    again = analyse(rows, arms=["a", "b"], champion="a", alpha=ALPHA, seed=3)
    assert first == again


def test_too_few_accounts_say_so_and_flag_nothing() -> None:
    rows = _accounts(3, "a", 0.5, 1) + _accounts(3, "b", 0.5, 5)
    analysis = analyse(rows, arms=["a", "b"], champion="a", alpha=ALPHA, seed=1)
    assert not any(c.significant for c in analysis.comparisons)
    assert analysis.comparisons[0].verdict.startswith("not enough data to compare cure rate")


def test_mixed_currencies_leave_the_amount_out_and_say_why() -> None:
    rows = (
        _accounts(4, "a", 0.3, 50)
        + [Outcome("b", False, True, 2.0, 100, "USD", 1, False, False, False)] * 50
    )
    analysis = analyse(rows, arms=["a", "b"], champion="a", alpha=ALPHA, seed=1)
    assert "recovered_minor" not in {c.metric for c in analysis.comparisons}
    assert "--currency" in analysis.notes[0]


@pytest.mark.parametrize(
    ("counts", "significant_expected"),
    [((0, 10, 0, 10), False), ((10, 10, 0, 10), True), ((5, 10, 5, 10), False)],
)
def test_rates_at_the_boundaries(
    counts: tuple[int, int, int, int], significant_expected: bool
) -> None:
    test = compare_rates(*counts, ALPHA)
    assert significant(test, ALPHA) is significant_expected
    assert test.low is not None and test.high is not None and test.low <= test.high
