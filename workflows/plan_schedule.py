"""Repayment plans: the schedule for N instalments and the policy's limits on a plan.

One home for both sides of a plan: the console's plan calculator shows an agent the schedule
(`schedule`) and what is wrong with it (`plan_problem`) before anyone proposes it, and the
workflow's hardship-decision validator refuses a plan with the very same `plan_problem`, so
the page can never call a plan fine that the workflow then rejects. Pure: no Temporal, no I/O.
"""

from __future__ import annotations

import calendar
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from workflows.agent_requests import Instalment
from workflows.policy import HardshipRules, Policy

MAX_CALCULATED_INSTALMENTS = 120  # the calculator's own bound (vulnerable plans allow up to 120)


def split_evenly(total_minor: int, count: int) -> list[int]:
    """`total_minor` in `count` amounts that differ by at most one minor unit and sum to it
    exactly; the earlier instalments carry the remainder (the customer pays it off first)."""
    if count < 1:
        raise ValueError("a plan has at least one instalment")
    base, extra = divmod(total_minor, count)
    return [base + (1 if index < extra else 0) for index in range(count)]


def add_months(day: date, months: int) -> date:
    """The same day of the month `months` later, or that month's last day (31 Jan -> 28 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def instalment_dates(first: date, count: int, interval_days: int | None) -> list[date]:
    """`count` dates from `first`: every `interval_days` days, or monthly (None) on `first`'s
    day of the month."""
    if interval_days is None:
        return [add_months(first, index) for index in range(count)]
    return [first + timedelta(days=interval_days * index) for index in range(count)]


def schedule(
    balance_minor: int, count: int, first: date, interval_days: int | None
) -> list[Instalment]:
    """The plan the calculator proposes: the balance split evenly over `count` dates."""
    amounts = split_evenly(balance_minor, count)
    dates = instalment_dates(first, count, interval_days)
    return [
        Instalment(due_date=day, amount_minor=amount)
        for day, amount in zip(dates, amounts, strict=True)
    ]


def plan_limits(policy: Policy, vulnerable: bool) -> HardshipRules:
    """The policy's plan limits for this customer: the vulnerable section's, where it has them."""
    rules, section = policy.hardship, policy.vulnerable if vulnerable else None
    if section is None:
        return rules
    return rules.model_copy(
        update={
            "max_instalments": _either(section.plan_max_instalments, rules.max_instalments),
            "max_days": _either(section.plan_max_days, rules.max_days),
        }
    )


def _either(override: int | None, default: int) -> int:
    return default if override is None else override


@dataclass(frozen=True)
class PlanProblem:
    """Why a plan cannot be agreed: a stable `code` (pages translate it), the English
    `message` the workflow rejects with, and the numbers in it."""

    code: str
    message: str
    values: dict[str, object] = field(default_factory=dict)


def plan_problem(
    plan: Sequence[Instalment], rules: HardshipRules, today: date, balance_minor: int
) -> PlanProblem | None:
    """The first thing that keeps `plan` from being agreed (None: it may be), in the order the
    workflow has always checked them; `today` is the customer's local date."""
    if not plan:
        return PlanProblem("plan_empty", "an approval needs a plan of instalments")
    if len(plan) > rules.max_instalments:
        return PlanProblem(
            "plan_too_many",
            f"at most {rules.max_instalments} instalments",
            {"max": rules.max_instalments},
        )
    if plan[0].due_date < today:
        return PlanProblem("plan_first_past", "the first instalment is in the past")
    if any(b.due_date <= a.due_date for a, b in itertools.pairwise(plan)):
        return PlanProblem("plan_dates_order", "instalment dates must be strictly increasing")
    if plan[-1].due_date > today + timedelta(days=rules.max_days):
        return PlanProblem(
            "plan_too_long",
            f"the last instalment must be within {rules.max_days} days",
            {"days": rules.max_days, "latest": today + timedelta(days=rules.max_days)},
        )
    total = sum(i.amount_minor for i in plan)
    if total != balance_minor:
        return PlanProblem(
            "plan_total",
            f"instalments add up to {total}, but the balance is {balance_minor}",
            {"total": total, "balance": balance_minor},
        )
    return None
