"""The borrower's forms as actions on the account's workflow: parse what was sent, build the
same validated update or signal agents' forms send (`api.console.outcomes.Action`).

Parsing is pure and raises `Invalid` with the key of a message the page translates. Every
action is idempotent under the form's key (one key per rendered form): updates carry it as
their update id, hardship and dispute signals as their report or dispute id, and the text the
borrower typed gets an id derived from it. So a form sent twice is one event.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from api.console.customer_forms import parse_inconvenient_times
from api.console.outcomes import Action, FormInvalid, Send, parse_amount, parse_date
from api.workflow_calls import AccountHandle
from overdue.inputs import control_character_in
from overdue.store.free_texts import FreeText
from workflows.customer_state import ContactPreferences
from workflows.forbearance_types import ForbearanceKind, ForbearanceRequested
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.selfservice_requests import PlanRequested, schedule
from workflows.types import AccountStatus, DisputeOpened, HardshipReported, PromiseToPay

ACTOR = "customer"  # how the borrower appears in the workflow and the audit trail
TEXT_LIMIT = 2000
HARDSHIP_CATEGORIES = ("income_loss", "illness", "family", "disaster", "other")
DISPUTE_CATEGORIES = ("not_mine", "wrong_amount", "already_paid", "fees", "other")
DAY_CHOICES = ("weekdays", "weekends", "daily")
PLAN_FIRST_DAYS = 7  # the first instalment a week from today: time to arrange it


class Invalid(ValueError):
    """What was sent cannot be taken; `key` names the message the page shows."""

    def __init__(self, key: str, detail: str = "") -> None:
        super().__init__(key)
        self.key = key
        self.detail = detail


def _update_once(method: Any, argument: Any, form_key: str) -> Send:
    async def send(handle: AccountHandle) -> AccountStatus | None:
        answer: AccountStatus = await handle.execute_update(
            method, argument, id=f"selfservice-{form_key}"
        )
        return answer

    return send


def _signal_then_status(method: Any, argument: Any) -> Send:
    async def send(handle: AccountHandle) -> AccountStatus | None:
        await handle.signal(method, argument)
        status: AccountStatus = await handle.query(OverdueAccountWorkflow.status)
        return status

    return send


def typed_text(form: Mapping[str, Any], kind: str, form_key: str) -> FreeText | None:
    value = str(form.get("explanation") or "").strip()
    if len(value) > TEXT_LIMIT:
        raise Invalid("form.text_too_long")
    if control_character_in(value, lines_allowed=True):
        raise Invalid("form.text_invalid")
    if not value:
        return None
    digest = hashlib.sha256(f"selfservice:{form_key}".encode()).hexdigest()[:32]
    return FreeText(id=f"txt-{digest}", kind=kind, text=value)


def promise(form: Mapping[str, Any], status: AccountStatus, form_key: str) -> Action:
    try:
        amount = parse_amount(str(form.get("amount") or ""), status.currency)
        day = parse_date(str(form.get("promised_date") or ""), "promised_date")
    except FormInvalid as err:
        raise Invalid("form.promise_invalid", str(err)) from None
    request = PromiseToPay(actor=ACTOR, amount_minor=amount, promised_date=day)
    details = {"amount_minor": amount, "promised_date": day.isoformat()}
    return Action(
        "promise",
        "selfservice.promise",
        _update_once(OverdueAccountWorkflow.promise_to_pay, request, form_key),
        details,
    )


def plan_first_day(today: date) -> date:
    return today + timedelta(days=PLAN_FIRST_DAYS)


def plan_choice(form: Mapping[str, Any], choices: list[int]) -> int:
    text = str(form.get("instalments") or "")
    if not text.isdigit() or int(text) not in choices:
        raise Invalid("form.plan_count")
    return int(text)


def plan_request(
    status: AccountStatus, count: int, first: date, form_key: str, text: FreeText | None
) -> Action:
    plan = schedule(status.balance_minor, count, first)
    request = PlanRequested(request_id=form_key, plan=plan, text_id=text.id if text else None)
    details: dict[str, Any] = {
        "instalments": [
            {"due_date": i.due_date.isoformat(), "amount_minor": i.amount_minor} for i in plan
        ]
    }
    if text:
        details["text_id"] = text.id
    return Action(
        "plan",
        "selfservice.plan_requested",
        _update_once(OverdueAccountWorkflow.request_repayment_plan, request, form_key),
        details,
        text,
    )


def report(form: Mapping[str, Any], kind: str, form_key: str) -> Action:
    """A hardship report or a dispute, with its category; the files are kept by the page."""
    categories = HARDSHIP_CATEGORIES if kind == "hardship" else DISPUTE_CATEGORIES
    category = str(form.get("category") or "")
    if category not in categories:
        raise Invalid("form.category")
    text = typed_text(form, f"{kind}.reason", form_key)
    text_id = text.id if text else None
    details: dict[str, Any] = {"category": category}
    if text:
        details["text_id"] = text.id
    if kind == "hardship":
        event: Any = HardshipReported(
            report_id=f"selfservice-{form_key}", text_id=text_id, reported_at=datetime.now(UTC)
        )
        send = _signal_then_status(OverdueAccountWorkflow.report_hardship, event)
        return Action("hardship", "selfservice.hardship_reported", send, details, text)
    dispute = DisputeOpened(dispute_id=f"selfservice-{form_key}", text_id=text_id)
    send = _signal_then_status(OverdueAccountWorkflow.open_dispute, dispute)
    return Action("dispute", "selfservice.dispute_opened", send, details, text)


FORBEARANCE_KINDS = tuple(k.value for k in ForbearanceKind)


def forbearance(form: Mapping[str, Any], form_key: str) -> Action:
    """The borrower asks for a settlement, a freeze or a payment holiday; the terms are left
    to the specialist the review task goes to (workflows.forbearance.apply_request)."""
    kind = str(form.get("kind") or "")
    if kind not in FORBEARANCE_KINDS:
        raise Invalid("form.forbearance_kind")
    text = typed_text(form, "forbearance.reason", form_key)
    request = ForbearanceRequested(
        kind=ForbearanceKind(kind),
        request_id=f"selfservice-{form_key}",
        text_id=text.id if text else None,
    )
    details: dict[str, Any] = {"kind": kind}
    if text:
        details["text_id"] = text.id
    send = _signal_then_status(OverdueAccountWorkflow.request_forbearance, request)
    return Action("forbearance", "selfservice.forbearance_requested", send, details, text)


def _clock(value: object) -> str:
    text = str(value or "").strip()
    try:
        parsed = time.fromisoformat(text)
    except ValueError:
        raise Invalid("form.times") from None
    return f"{parsed:%H:%M}"


def contact(form: Mapping[str, Any], form_key: str) -> Action:
    """Stop SMS (or calls), and one range of inconvenient times; replaces what was said."""
    refused = tuple(c for c in ("sms", "call") if form.get(f"refuse_{c}") in ("on", "1"))
    line = ""
    days = str(form.get("days") or "")
    if days:
        if days not in DAY_CHOICES:
            raise Invalid("form.times")
        line = f"{days} {_clock(form.get('start'))}-{_clock(form.get('end'))}"
    try:
        times = parse_inconvenient_times(line)
    except FormInvalid as err:
        raise Invalid("form.times", str(err)) from None
    prefs = ContactPreferences(actor=ACTOR, inconvenient_times=times, refused_channels=refused)
    details = {
        "inconvenient_times": [t.label() for t in times],
        "refused_channels": list(refused),
    }
    return Action(
        "contact",
        "selfservice.contact_preferences",
        _update_once(OverdueAccountWorkflow.set_contact_preferences, prefs, form_key),
        details,
    )
