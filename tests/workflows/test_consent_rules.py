"""Consent in the pure core: the policy's `consent_required`, the state a process starts with and
the changes it applies, and how the decision core plans contacts from them. No Temporal."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from overdue.policy_files import load_policy
from tests.workflows.records import make_record
from workflows import consent_rules
from workflows.consent import (
    ChannelConsent,
    ConsentChanged,
    ConsentChannel,
    ConsentGiven,
    ConsentSource,
    initial_consents,
)
from workflows.contact_facts import facts_for
from workflows.decisions import Act, Suppress, next_step
from workflows.policy import Policy
from workflows.types import AccountRecord, Instalment, PlanState

ROOT = Path(__file__).resolve().parents[2]
SIGNED = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DUE = date(2026, 3, 10)


def policy(**fields: Any) -> Policy:
    return Policy.model_validate(
        {
            "id": "p",
            "version": 1,
            "stages": [
                {"id": "d1", "offset": "1d", "channel": "sms", "template": "t", "send_at": "10:00"},
                {"id": "d2", "offset": "2d", "channel": "call_task", "queue": "general"},
                {"id": "d3", "offset": "3d", "channel": "notify", "kind": "email"},
                {"id": "d4", "offset": "4d", "channel": "notify", "kind": "credit_restriction"},
            ],
            "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
            "hardship": {"reminder_template": "t"},
            **fields,
        }
    )


def grant(channel: str, at: datetime = SIGNED) -> ChannelConsent:
    return ChannelConsent(granted=True, source=ConsentSource.CONTRACT, at=at)


def change(channel: str, granted: bool, at: datetime) -> ConsentChanged:
    return ConsentChanged(
        channel=ConsentChannel(channel),
        granted=granted,
        source=ConsentSource.BACKEND,
        at=at,
        actor="backend",
    )


def local_noon(day: int) -> datetime:
    return datetime(2026, 3, 10 + day, 4, 0, tzinfo=UTC)  # 12:00 in Asia/Shanghai


# --- the policy field ------------------------------------------------------------------------


def test_a_list_is_every_jurisdictions_rule_and_a_mapping_says_it_per_country() -> None:
    assert policy(consent_required=["sms", "call"]).consent_required == {
        "default": (ConsentChannel.SMS, ConsentChannel.CALL)
    }
    per = policy(consent_required={"CN": ["sms"], "default": []})
    assert consent_rules.required_channels(per, "cn") == ("sms",)
    assert consent_rules.required_channels(per, "US") == ()
    assert consent_rules.required_channels(policy(consent_required={"CN": ["sms"]}), "US") == ()


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (["sms", "fax"], "Input should be 'sms', 'call', 'app_notice', 'email' or 'letter'"),
        (["sms", "sms"], "consent_required[default]: sms listed twice"),
        ({"china": ["sms"]}, "'china' is neither 'default' nor an ISO country code"),
        ("sms", "Input should be a valid dictionary"),
    ],
)
def test_an_unusable_consent_rule_is_refused_at_load(value: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        policy(consent_required=value)


def test_the_shipped_default_policy_requires_no_consent() -> None:
    default = load_policy(ROOT / "policies" / "default.yaml", today=DUE)
    assert default.consent_required == {}


# --- state ------------------------------------------------------------------------------------


def test_a_process_starts_with_the_latest_grant_per_channel() -> None:
    later = SIGNED + timedelta(days=3)
    state = initial_consents(
        [
            ConsentGiven(channel=ConsentChannel.SMS, source=ConsentSource.CONTRACT, given_at=later),
            ConsentGiven(
                channel=ConsentChannel.CALL, source=ConsentSource.APP_SETTINGS, given_at=SIGNED
            ),
        ]
    )
    assert state == {
        "sms": ChannelConsent(granted=True, source=ConsentSource.CONTRACT, at=later),
        "call": ChannelConsent(granted=True, source=ConsentSource.APP_SETTINGS, at=SIGNED),
    }


def test_a_change_applies_once_and_never_undoes_a_later_one() -> None:
    record = make_record(policy(consent_required=["sms"]))
    assert consent_rules.apply_change(record, change("sms", True, SIGNED))
    assert not consent_rules.apply_change(record, change("sms", True, SIGNED))  # the same again
    withdrawn = SIGNED + timedelta(days=1)
    assert consent_rules.apply_change(record, change("sms", False, withdrawn))
    assert not consent_rules.apply_change(record, change("sms", True, SIGNED))  # older: ignored
    assert record.consents["sms"].granted is False
    assert record.history[-1] == "consent withdrawn: sms (backend)"


def test_withdrawing_a_required_call_consent_cancels_the_open_call_tasks() -> None:
    record = make_record(policy(consent_required=["call"]), consents={"call": grant("call")})
    consent_rules.apply_change(record, change("call", False, SIGNED + timedelta(days=1)))
    assert record.cancel_open_tasks
    unrequired = make_record(policy(), consents={"call": grant("call")})
    consent_rules.apply_change(unrequired, change("call", False, SIGNED + timedelta(days=1)))
    assert not unrequired.cancel_open_tasks


# --- decisions --------------------------------------------------------------------------------


def _step(record: AccountRecord, day: int) -> Act | Suppress:
    step = next_step(record, local_noon(day))
    assert isinstance(step, Act | Suppress), step
    return step


def test_a_stage_on_a_channel_lacking_required_consent_is_suppressed_with_its_note() -> None:
    record = make_record(policy(consent_required=["sms", "email"]), due_date=DUE)
    step = _step(record, 1)
    assert isinstance(step, Suppress) and step.reason == "no_consent: sms"


def test_a_held_grant_lets_the_stage_act_and_a_withdrawal_stops_it() -> None:
    rules = policy(consent_required=["sms"])
    record = make_record(rules, due_date=DUE, consents={"sms": grant("sms")})
    assert isinstance(_step(record, 1), Act)
    consent_rules.apply_change(record, change("sms", False, SIGNED + timedelta(days=1)))
    step = _step(record, 1)
    assert isinstance(step, Suppress) and step.reason == "no_consent: sms"


@pytest.mark.parametrize(("day", "stage"), [(1, "d1"), (2, "d2"), (3, "d3"), (4, "d4")])
def test_without_a_requirement_nothing_changes(day: int, stage: str) -> None:
    """Every policy from before consent: the decision is what it always was."""
    record = make_record(policy(), due_date=DUE)
    record.handled = [s.id for s in record.policy.stages if s.id < stage]
    step = _step(record, day)
    assert isinstance(step, Act) and step.stage.id == stage


def test_the_lenders_own_steps_need_no_consent() -> None:
    every = [c.value for c in ConsentChannel]
    record = make_record(policy(consent_required=every), due_date=DUE)
    record.handled = ["d1", "d2", "d3"]
    step = _step(record, 4)  # credit_restriction reaches no one
    assert isinstance(step, Act) and step.stage.id == "d4"


def test_the_consent_required_depends_on_the_jurisdiction() -> None:
    rules = policy(consent_required={"US": ["sms"]})
    assert isinstance(_step(make_record(rules, due_date=DUE), 1), Act)  # CN: none required
    step = _step(make_record(rules, due_date=DUE, jurisdiction="US"), 1)
    assert isinstance(step, Suppress) and step.reason == "no_consent: sms"


def test_an_instalment_reminder_needs_sms_consent_when_required() -> None:
    plan = PlanState(
        instalments=[Instalment(due_date=date(2026, 4, 20), amount_minor=50_000)],
        approved_at=SIGNED,
        actor="sup",
    )
    now = datetime(2026, 4, 18, 4, 0, tzinfo=UTC)
    without = make_record(policy(consent_required=["sms"]), due_date=DUE, plan=plan)
    assert type(next_step(without, now)).__name__ == "WaitUntil"
    held = make_record(
        policy(consent_required=["sms"]), due_date=DUE, plan=plan, consents={"sms": grant("sms")}
    )
    assert type(next_step(held, now)).__name__ == "RemindInstalment"


def test_a_receipt_records_the_grant_relied_on() -> None:
    rules = policy(consent_required=["sms"])
    record = make_record(rules, due_date=DUE, consents={"sms": grant("sms")})
    facts = facts_for(record, "d1", now=local_noon(1))
    assert facts.consent is not None
    assert (facts.consent.channel, facts.consent.source, facts.consent.given_at) == (
        "sms",
        "contract",
        SIGNED,
    )
    assert facts_for(record, "d2", now=local_noon(2)).consent is None  # calls need none here
