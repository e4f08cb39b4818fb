"""A portfolio to simulate: accounts as the API's start gives them to the process, and the
documented synthetic generator (`overdue simulate --synthetic N --seed S`).

No names or phone numbers: an account here is what the workflow's input carries (plus the SMS
locale, for the segment count), nothing else.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from workflows.policy import Policy
from workflows.types import OverdueAccountInput


@dataclass(frozen=True)
class PortfolioAccount:
    account_id: str
    product: str
    amount_minor: int
    currency: str
    due_date: date
    time_zone: str
    jurisdiction: str = "default"
    risk_segment: str | None = None
    vulnerable: bool = False
    locale: str = "zh-CN"

    def process_input(self, policy: Policy, amount_minor: int | None = None) -> OverdueAccountInput:
        """The workflow's input, as the API's start builds it (`amount_minor`: the engine's
        stand-in balance, see engine.py)."""
        return OverdueAccountInput(
            account_id=self.account_id,
            product=self.product,
            amount_due_minor=amount_minor or self.amount_minor,
            currency=self.currency,
            due_date=self.due_date,
            time_zone=self.time_zone,
            jurisdiction=self.jurisdiction,
            risk_segment=self.risk_segment,
            vulnerable=self.vulnerable,
            policy=policy,
        )


# The generator's markets: (share, time zone, jurisdiction, currency, locale).
MARKETS = (
    (0.70, "Asia/Shanghai", "CN", "CNY", "zh-CN"),
    (0.20, "America/New_York", "US", "USD", "en"),
    (0.10, "Europe/London", "GB", "GBP", "en"),
)
PRODUCTS = ((0.6, "credit_card"), (0.4, "consumer_loan"))
SEGMENTS = ((0.5, "low"), (0.3, "medium"), (0.2, "high"))
VULNERABLE_SHARE = 0.03
# Four billing cycles, five days apart: each account's due date is its cycle's, from six days
# before the simulation's first day to nine days after (a card issuer's due dates fall on a
# few cycle days, not on every day).
CYCLE_DUE_DAYS = (-6, -1, 4, 9)
BALANCE_MINOR = (20_000, 2_000_000)  # log-uniform: 200 to 20,000 in major units


def synthetic(count: int, seed: int, first_day: date) -> list[PortfolioAccount]:
    """`count` accounts drawn from `seed` (the same accounts every time): markets, products,
    segments and the vulnerable share as above, the due date of one of CYCLE_DUE_DAYS around
    `first_day` (each as likely), balances log-uniform over BALANCE_MINOR."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible sample, not a secret
    low, high = BALANCE_MINOR
    accounts = []
    for n in range(count):
        _, zone, jurisdiction, currency, locale = _pick(rng, MARKETS)
        balance = round(low * (high / low) ** rng.random())
        accounts.append(
            PortfolioAccount(
                account_id=f"sim-{seed}-{n:07d}",
                product=_pick(rng, PRODUCTS)[1],
                amount_minor=balance,
                currency=currency,
                due_date=first_day + timedelta(days=rng.choice(CYCLE_DUE_DAYS)),
                time_zone=zone,
                jurisdiction=jurisdiction,
                risk_segment=_pick(rng, SEGMENTS)[1],
                vulnerable=rng.random() < VULNERABLE_SHARE,
                locale=locale,
            )
        )
    return accounts


def _pick(rng: random.Random, table: tuple[tuple[Any, ...], ...]) -> tuple[Any, ...]:
    u, total = rng.random(), 0.0
    for row in table:
        total += float(row[0])
        if u < total:
            return row
    return table[-1]
