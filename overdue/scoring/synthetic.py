"""The synthetic training set: closed bills with a planted relationship, so that
`overdue score train --from-csv` works on a fresh machine and tests can check the model finds
what was planted. `overdue score generate` writes it; the shipped file
(overdue/scoring/training_synthetic.csv) is `overdue score generate --rows 3000 --seed 18`.

The planted truth (PLANTED, on the log-odds of paying within the window): paying is less
likely the longer past due and the larger the bill, after disputes and hardship, and on
consumer loans; more likely with a record of paying earlier bills, of keeping promises, of
answered calls and of SMS replies. Everything else is noise.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from overdue.scoring.features import Example

SHIPPED_CSV = Path(__file__).with_name("training_synthetic.csv")
PRODUCTS = ("credit_card", "consumer_loan", "huabei")
PRODUCT_WEIGHTS = (0.5, 0.3, 0.2)
PLANTED: dict[str, float] = {
    "intercept": 0.9,
    "days_past_due": -0.05,
    "amount_log": -0.45,  # around amount_log 6 (about 400 in major units)
    "earlier_paid_share": 1.8,  # around 0.5, for accounts with earlier bills
    "promises_kept_share": 1.4,  # around 0.5, for accounts that made promises
    "calls_reached": 0.3,
    "calls_unanswered": -0.12,
    "sms_replies": 0.35,
    "disputes": -0.7,
    "hardship_reports": -0.5,
    "product:consumer_loan": -0.4,
}


def examples(rows: int, seed: int) -> Iterator[Example]:
    """`rows` closed bills drawn from the planted model (the same seed, the same rows)."""
    rng = np.random.default_rng(seed)
    for _ in range(rows):
        features = _features(rng)
        product = str(rng.choice(PRODUCTS, p=PRODUCT_WEIGHTS))
        logit = _planted_logit(features, product)
        paid = bool(rng.random() < 1 / (1 + math.exp(-logit)))
        yield Example(features=features, product=product, paid=paid)


def _features(rng: np.random.Generator) -> dict[str, float]:
    earlier_bills = int(rng.poisson(1.5))
    promises = int(rng.poisson(0.6))
    return {
        "days_past_due": float(min(rng.geometric(1 / 15) - 1, 120)),
        "amount_log": round(math.log1p(math.exp(rng.uniform(3.0, 9.5))), 4),
        "earlier_bills": float(earlier_bills),
        "earlier_paid_share": round(float(rng.beta(3, 1.5)), 4) if earlier_bills else 0.0,
        "promises_made": float(promises),
        "promises_kept_share": round(float(rng.binomial(promises, 0.6) / promises), 4)
        if promises
        else 0.0,
        "plans_granted": float(rng.random() < 0.08),
        "disputes": float(rng.random() < 0.06),
        "hardship_reports": float(rng.random() < 0.09),
        "calls_reached": float(rng.poisson(0.8)),
        "calls_unanswered": float(rng.poisson(1.5)),
        "sms_replies": float(rng.poisson(0.3)),
    }


def _planted_logit(f: dict[str, float], product: str) -> float:
    p = PLANTED
    logit = (
        p["intercept"]
        + p["days_past_due"] * f["days_past_due"]
        + p["amount_log"] * (f["amount_log"] - 6)
        + p["calls_reached"] * f["calls_reached"]
        + p["calls_unanswered"] * f["calls_unanswered"]
        + p["sms_replies"] * f["sms_replies"]
        + p["disputes"] * f["disputes"]
        + p["hardship_reports"] * f["hardship_reports"]
    )
    if f["earlier_bills"]:
        logit += p["earlier_paid_share"] * (f["earlier_paid_share"] - 0.5)
    if f["promises_made"]:
        logit += p["promises_kept_share"] * (f["promises_kept_share"] - 0.5)
    if product == "consumer_loan":
        logit += p["product:consumer_loan"]
    return logit
