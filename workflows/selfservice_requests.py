"""Requests borrowers send from the self-service page (docs/self-service.md) that the
workflow did not take before: asking for a repayment plan. Pure: no Temporal, no I/O.

A plan request is a hardship review with a proposed schedule: the account goes to
`hardship_review` and a `plan_review` task lands in the specialist queue (the policy's
`hardship.review_priority`); the specialist's `decide_hardship` approves that schedule (or
another) or rejects it. The schedule itself is kept in Postgres with the submission, for the
agent's page; the workflow checks it against the policy's plan limits before taking it.
"""

from __future__ import annotations

import itertools
from datetime import date, datetime, timedelta

from pydantic import Field

from workflows.account import RequestRejected
from workflows.agent_requests import Instalment
from workflows.contact_rules import local_date
from workflows.customer_rules import plan_rules
from workflows.messages import Message, text_id_field
from workflows.policy import CallQueue
from workflows.types import AccountRecord

PLAN_SPACING_DAYS = 30  # one instalment a month (every 30 days), the first on the chosen date
PLAN_REVIEW_TASK = "plan_review"


class PlanRequested(Message):
    """The borrower asks for this schedule; `request_id` is the form's idempotency key."""

    request_id: str = Field(min_length=1, max_length=128)
    plan: list[Instalment] = Field(min_length=1, max_length=60)
    text_id: str | None = text_id_field()


def schedule(balance_minor: int, count: int, first: date) -> list[Instalment]:
    """`count` instalments every 30 days from `first`, adding up to the balance exactly (the
    minor units left over go one each to the first instalments)."""
    share, left = divmod(balance_minor, count)
    return [
        Instalment(
            due_date=first + timedelta(days=PLAN_SPACING_DAYS * i),
            amount_minor=share + (1 if i < left else 0),
        )
        for i in range(count)
        if share + (1 if i < left else 0) > 0
    ]


def instalment_choices(
    max_instalments: int, max_days: int, balance_minor: int, first: date, today: date
) -> list[int]:
    """The instalment counts the plan limits allow from `first` (the last one within
    `max_days` of today), at least one minor unit each."""
    last_day = today + timedelta(days=max_days)
    return [
        n
        for n in range(2, max_instalments + 1)
        if first + timedelta(days=PLAN_SPACING_DAYS * (n - 1)) <= last_day and n <= balance_minor
    ]


def plan_problem(record: AccountRecord, plan: list[Instalment], now: datetime) -> str | None:
    """What is wrong with the schedule against the policy's plan limits; None when it fits."""
    rules = plan_rules(record)
    today = local_date(now, record.time_zone)
    if len(plan) > rules.max_instalments:
        return f"at most {rules.max_instalments} instalments"
    if plan[0].due_date < today:
        return "the first instalment is in the past"
    if any(b.due_date <= a.due_date for a, b in itertools.pairwise(plan)):
        return "instalment dates must be strictly increasing"
    if plan[-1].due_date > today + timedelta(days=rules.max_days):
        return f"the last instalment must be within {rules.max_days} days"
    total = sum(i.amount_minor for i in plan)
    if total != record.balance_minor:
        return f"instalments add up to {total}, but the balance is {record.balance_minor}"
    return None


def validate_plan_request(record: AccountRecord, request: PlanRequested, now: datetime) -> None:
    if record.finished:
        raise RequestRejected(f"the account is {record.state.value}; nothing more can be asked")
    if record.hardship_pending:
        raise RequestRejected("a request is already waiting for the specialist's review")
    if record.plan is not None:
        raise RequestRejected("the account already has a repayment plan")
    problem = plan_problem(record, request.plan, now)
    if problem:
        raise RequestRejected(problem)


def apply_plan_request(record: AccountRecord, request: PlanRequested, now: datetime) -> None:
    record.hardship_pending = True
    record.request_task(
        PLAN_REVIEW_TASK, CallQueue.SPECIALIST, record.policy.hardship.review_priority, now
    )
    record.note(f"repayment plan asked by the customer: {len(request.plan)} instalments")
