"""The task page's plan calculator: N instalments (and a first date) in, the schedule out.

A GET form that re-renders the task page (no JavaScript): `?instalments=6&first=2026-12-20`.
The schedule is `workflows.plan_schedule.schedule` and its check `plan_problem`, the very
function the workflow's hardship-decision validator refuses a plan with, under the same
limits (`plan_limits`: the vulnerable section's where it applies). So what the page shows as
fine is what the workflow accepts, as of the customer's local today.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from api.console.formats import amount_text, date_text
from api.console.i18n import Translator
from api.console.reasons import explain
from workflows.currencies import format_minor
from workflows.plan_schedule import (
    MAX_CALCULATED_INSTALMENTS,
    instalment_dates,
    plan_limits,
    plan_problem,
    schedule,
)
from workflows.policy import Policy
from workflows.types import AccountStatus


@dataclass(frozen=True)
class PlanRow:
    number: int
    day: date
    date_text: str
    amount_text: str


@dataclass(frozen=True)
class PlanView:
    """What the calculator shows: the limits always; a schedule once N is given."""

    limits_text: str
    instalments: str = ""  # as typed, to refill the form
    first: str = ""
    rows: list[PlanRow] = field(default_factory=list)
    total_text: str = ""
    problem_code: str = ""  # '' when the plan is within the limits
    problem_text: str = ""
    plan_lines: str = ""  # the hardship-decision form's plan: 'YYYY-MM-DD amount' a line


def plan_view(
    t: Translator,
    query: Mapping[str, str],
    status: AccountStatus,
    policy: Policy,
    interval_days: int | None,
    today: date,
) -> PlanView:
    """The calculator for this account as of the customer's local `today`."""
    rules = plan_limits(policy, status.vulnerable)
    limits = t.gettext(
        "At most %(max)s instalments; the last within %(days)s days (by %(latest)s).",
        max=rules.max_instalments,
        days=rules.max_days,
        latest=date_text(today + timedelta(days=rules.max_days), t.lang),
    )
    typed_n, typed_first = query.get("instalments", "").strip(), query.get("first", "").strip()
    view = PlanView(limits_text=limits, instalments=typed_n, first=typed_first)
    if not typed_n:
        return view
    count, first, wrong = _parsed(t, typed_n, typed_first, today, interval_days)
    if wrong:
        return _with_problem(view, "form", wrong)
    if status.balance_minor < count:
        text = t.gettext("The balance is too small for %(num)s instalments.", num=count)
        return _with_problem(view, "plan_too_small", text)
    plan = schedule(status.balance_minor, count, first, interval_days)

    def money(minor: int) -> str:
        return amount_text(minor, status.currency, t.lang)

    rows = [
        PlanRow(n, i.due_date, date_text(i.due_date, t.lang), money(i.amount_minor))
        for n, i in enumerate(plan, start=1)
    ]
    problem = plan_problem(plan, rules, today, status.balance_minor)
    explained = explain(t, problem.message, rejection=True, money=money) if problem else None
    return PlanView(
        limits_text=limits,
        instalments=typed_n,
        first=typed_first,
        rows=rows,
        total_text=money(sum(i.amount_minor for i in plan)),
        problem_code=problem.code if problem else "",
        problem_text=explained.text if explained else "",
        plan_lines="\n".join(
            f"{i.due_date.isoformat()} {format_minor(i.amount_minor, status.currency)}"
            for i in plan
        ),
    )


def _with_problem(view: PlanView, code: str, text: str) -> PlanView:
    return PlanView(
        limits_text=view.limits_text,
        instalments=view.instalments,
        first=view.first,
        problem_code=code,
        problem_text=text,
    )


def _parsed(
    t: Translator, typed_n: str, typed_first: str, today: date, interval_days: int | None
) -> tuple[int, date, str]:
    """(N, first date, '') or (0, today, why the form is wrong)."""
    if not typed_n.isdigit() or not 1 <= int(typed_n) <= MAX_CALCULATED_INSTALMENTS:
        why = t.gettext(
            "The number of instalments must be a whole number from 1 to %(max)s.",
            max=MAX_CALCULATED_INSTALMENTS,
        )
        return 0, today, why
    if not typed_first:
        # The first instalment one interval from today (a month when the policy sets none).
        return int(typed_n), instalment_dates(today, 2, interval_days)[1], ""
    try:
        first = date.fromisoformat(typed_first)
    except ValueError:
        return 0, today, t.gettext("The first instalment's date must be a date (YYYY-MM-DD).")
    if abs((first - today).days) > 3660:
        return 0, today, t.gettext("The first instalment's date is too far from today.")
    return int(typed_n), first, ""
