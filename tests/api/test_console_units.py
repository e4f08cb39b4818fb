"""Pure parts of the console: language choice, phone masking, parsing what agents type."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from api.console import i18n
from api.console.outcomes import (
    AGENT_ACTIONS,
    FormInvalid,
    agent_action,
    parse_amount,
    parse_local_datetime,
    parse_plan,
    supervisor_action,
)
from api.console.task_view import mask_phone
from workflows.types import AccountState, AccountStatus

STATUS = AccountStatus(
    account_id="A-1",
    state=AccountState.ACTIVE,
    stage=None,
    balance_minor=10_000,
    currency="CNY",
    due_date=date(2026, 11, 30),
    time_zone="Asia/Shanghai",
    days_past_due=2,
    as_of=datetime(2026, 12, 2, tzinfo=UTC),
    next_action=None,
    stages_done=[],
    stages_skipped=[],
    policy_id="default",
    policy_version=1,
)


@pytest.mark.parametrize(
    ("cookie", "accept", "expected"),
    [
        (None, None, "en"),
        (None, "zh-CN,zh;q=0.9,en;q=0.8", "zh-CN"),
        (None, "en-US,en;q=0.9,zh;q=0.5", "en"),
        (None, "fr-FR, zh-TW;q=0.3", "zh-CN"),
        (None, "de", "en"),
        ("en", "zh-CN", "en"),
        ("zh-CN", "en", "zh-CN"),
        ("xx", "zh", "zh-CN"),
    ],
)
def test_language_is_cookie_then_accept_language_then_english(
    cookie: str | None, accept: str | None, expected: str
) -> None:
    assert i18n.negotiate(cookie, accept) == expected


def test_phone_is_masked_but_for_country_code_and_last_four() -> None:
    assert mask_phone("+8613800138000") == "+86 *******8000"
    assert mask_phone("+14155550123") == "+1 ******0123"
    assert mask_phone(None) == "—"


@pytest.mark.parametrize(
    ("text", "currency", "minor"),
    [("1234.56", "CNY", 123_456), ("1,000", "USD", 100_000), ("500", "JPY", 500)],
)
def test_amounts_are_read_in_the_currencys_minor_units(
    text: str, currency: str, minor: int
) -> None:
    assert parse_amount(text, currency) == minor


@pytest.mark.parametrize(
    ("text", "currency"),
    [("1.234", "CNY"), ("1.5", "JPY"), ("-3", "CNY"), ("abc", "CNY"), ("0", "CNY"), ("NaN", "CNY")],
)
def test_bad_amounts_are_refused_with_a_reason(text: str, currency: str) -> None:
    with pytest.raises(FormInvalid):
        parse_amount(text, currency)


def test_callback_time_is_read_in_the_customers_time_zone() -> None:
    assert parse_local_datetime("2026-12-01T09:30", "Asia/Shanghai") == datetime(
        2026, 12, 1, 1, 30, tzinfo=UTC
    )
    with pytest.raises(FormInvalid):
        parse_local_datetime("tomorrow", "Asia/Shanghai")


def test_plan_lines_become_instalments() -> None:
    plan = parse_plan("2026-12-01 100.00\n\n2027-01-01 50", "CNY")
    assert [(i.due_date.isoformat(), i.amount_minor) for i in plan] == [
        ("2026-12-01", 10_000),
        ("2027-01-01", 5_000),
    ]
    with pytest.raises(FormInvalid):
        parse_plan("2026-12-01", "CNY")


@pytest.mark.parametrize(
    ("name", "form", "kind", "details", "typed"),
    [
        ("call", {"outcome": "no_answer"}, "call.outcome", {"outcome": "no_answer"}, None),
        (
            "call",
            {"outcome": "callback_requested", "callback_at": "2026-12-03T10:00", "note": "n"},
            "call.outcome",
            {
                "outcome": "callback_requested",
                "callback_at": "2026-12-03T02:00:00+00:00",  # read in the customer's zone
            },
            "n",
        ),
        (
            "promise",
            {"amount": "12.34", "promised_date": "2026-12-10"},
            "promise.recorded",
            {"amount_minor": 1234, "promised_date": "2026-12-10"},
            None,
        ),
        ("hardship", {"reason": "lost job"}, "hardship.reported", {}, "lost job"),
        ("dispute", {"reason": "not mine"}, "dispute.opened", {}, "not mine"),
        ("escalate", {"reason": "abusive"}, "account.escalated", {}, "abusive"),
    ],
)
def test_each_agent_form_is_its_action_and_audit_entry(
    name: str, form: dict[str, str], kind: str, details: dict[str, object], typed: str | None
) -> None:
    """What was typed goes to Postgres as a text; the audit row and the workflow get its id."""
    assert name in AGENT_ACTIONS
    action = agent_action({"action": name, **form}, actor="agent-1", task_id=7, status=STATUS)
    assert (action.name, action.audit_kind) == (name, kind)
    made_up = {"report_id", "dispute_id"}  # console-7-<random>
    assert all(
        action.audit_details[k].startswith("console-7-") for k in made_up & {*action.audit_details}
    )
    if typed is None:
        assert action.text is None
    else:
        assert action.text is not None and action.text.text == typed
        details = {**details, "text_id": action.text.id}
    assert {k: v for k, v in action.audit_details.items() if k not in made_up} == {
        "task_id": 7,
        **details,
    }


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"action": "call", "outcome": "bogus"}, "'bogus' is not a valid CallOutcomeKind"),
        ({"action": "call"}, "outcome is required"),
        ({"action": "promise", "amount": "1.234", "promised_date": "2026-12-10"}, "at most 2"),
        ({"action": "escalate", "reason": "x" * 501}, "longer than 500 characters"),
        ({"action": "nope"}, "unknown action 'nope'"),
        ({}, "unknown action ''"),
    ],
)
def test_a_form_that_cannot_be_sent_says_what_to_correct(
    form: dict[str, str], message: str
) -> None:
    with pytest.raises(FormInvalid, match=message.replace("(", r"\(")):
        agent_action(form, actor="agent-1", task_id=7, status=STATUS)


def test_hardship_decision_audits_its_plan_for_the_reports() -> None:
    """The reports tell kept from broken plans by the instalments in the audit row."""
    action = supervisor_action(
        {"action": "hardship_decision", "decision": "approve",
         "plan": "2026-12-10 40.00\n2027-01-10 60.00"},
        actor="sup-1",
        status=STATUS,
    )  # fmt: skip
    assert action.audit_kind == "hardship.decided"
    assert action.audit_details == {
        "approve": True,
        "instalments": 2,
        "plan": [
            {"due_date": "2026-12-10", "amount_minor": 4000},
            {"due_date": "2027-01-10", "amount_minor": 6000},
        ],
    }
