"""The score's features: what an account's history and its bill say, by name.

Every feature is a number a person can read back (days past due, counts, shares); none is a
name, a phone number or typed text, so the reasons built from them can be shown and stored.
Training (closed bills) and scoring (a report, `overdue score ACCOUNT`) build them the one same
way from `HistoryFacts`: the account's record strictly before the bill, plus the bill itself.
Pure: no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

# Name -> what it measures (docs/strategy.md#risk-scoring lists the same).
FEATURES: dict[str, str] = {
    "days_past_due": "days from the bill's due date to when it was scored (0 before it)",
    "amount_log": "log(1 + the bill's amount in major units)",
    "earlier_bills": "bills the account had before this one",
    "earlier_paid_share": "payments before this bill over the earlier bills' total (0 to 1)",
    "promises_made": "promises to pay agents recorded before",
    "promises_kept_share": "promises followed by a payment by their promised date (0 to 1)",
    "plans_granted": "instalment plans granted on hardship before",
    "disputes": "disputes opened before",
    "hardship_reports": "hardship reports before",
    "calls_reached": "calls that reached the customer before",
    "calls_unanswered": "calls not answered before",
    "sms_replies": "SMS replies from the customer before",
}
PRODUCT_PREFIX = "product:"  # one 0/1 feature per product the training set knew


@dataclass(frozen=True)
class HistoryFacts:
    """An account's record before a cutoff, as `overdue.store.risk_scores` counts it."""

    earlier_bills: int = 0
    earlier_bills_minor: int = 0
    earlier_paid_minor: int = 0
    promises_made: int = 0
    promises_kept: int = 0
    plans_granted: int = 0
    disputes: int = 0
    hardship_reports: int = 0
    calls_reached: int = 0
    calls_unanswered: int = 0
    sms_replies: int = 0


@dataclass(frozen=True)
class BillFacts:
    """The bill being scored."""

    product: str
    amount_minor: int
    due_date: date


@dataclass(frozen=True)
class Example:
    """One closed bill: its features, its product and whether it was paid in the window."""

    features: dict[str, float]
    product: str
    paid: bool


class TrainingDataError(ValueError):
    """The training rows cannot make a model; the message says why."""


def _share(part: int, whole: int) -> float:
    return min(part / whole, 1.0) if whole > 0 else 0.0


def account_features(history: HistoryFacts, bill: BillFacts, at: datetime) -> dict[str, float]:
    """The named features of `bill` scored at `at` (its product as `product`, a string)."""
    return {
        "days_past_due": float(max((at.date() - bill.due_date).days, 0)),
        # Minor units / 100: an amount's order of magnitude, whatever the currency's exponent.
        "amount_log": round(math.log1p(bill.amount_minor / 100), 6),
        "earlier_bills": float(history.earlier_bills),
        "earlier_paid_share": _share(history.earlier_paid_minor, history.earlier_bills_minor),
        "promises_made": float(history.promises_made),
        "promises_kept_share": _share(history.promises_kept, history.promises_made),
        "plans_granted": float(history.plans_granted),
        "disputes": float(history.disputes),
        "hardship_reports": float(history.hardship_reports),
        "calls_reached": float(history.calls_reached),
        "calls_unanswered": float(history.calls_unanswered),
        "sms_replies": float(history.sms_replies),
    }


def vector(values: dict[str, float], product: str, products: tuple[str, ...]) -> list[float]:
    """The model's input in its column order: FEATURES, then one indicator per product."""
    return [values[name] for name in FEATURES] + [1.0 if product == p else 0.0 for p in products]


def column_names(products: tuple[str, ...]) -> list[str]:
    return list(FEATURES) + [PRODUCT_PREFIX + p for p in products]
