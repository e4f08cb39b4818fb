"""The chaos checker's stage audit: a stage the workflow could have acted on and did not is
missed; one waiting behind a contact still retrying has not had its turn yet."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from bench.chaos_check import (
    AccountHistory,
    Evidence,
    Findings,
    ScheduledContact,
    audit_stages,
    check_contacts_after_payment,
)
from overdue.policy_files import load_policy
from tests.workflows.harness import ROOT
from workflows.names import workflow_id
from workflows.types import OverdueAccountInput, PaymentReported

START = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)  # 12:00 UTC: inside the policy's window


def history(*, t15_closed: bool, t45_made: bool = False) -> AccountHistory:
    policy = load_policy(ROOT / "bench" / "policies" / "chaos.yaml")
    account = AccountHistory(
        workflow_id=workflow_id("chaos-x"),
        first_run_id="run-1",
        input=OverdueAccountInput(
            account_id="chaos-x",
            product="credit_line",
            amount_due_minor=150_000,
            currency="CNY",
            due_date=date(2026, 3, 1),
            time_zone="UTC",
            policy=policy,
        ),
        started_at=START,
        anchors_at_execution_start=True,
        completed_tasks=[(2, START), (4, START + timedelta(seconds=15))],
    )
    account.contacts.append(
        ScheduledContact(5, START + timedelta(seconds=15), "send_sms", "t15s_sms", "k1", None)
    )
    if t15_closed:
        account.contact_closed[5] = 7
    account.completed_tasks.append((10, START + timedelta(seconds=50)))
    if t45_made:
        account.contacts.append(
            ScheduledContact(
                12,
                START + timedelta(seconds=50),
                "send_notification",
                "t45s_app_notice",
                "k2",
                None,
            )
        )
    return account


UNTIL = START + timedelta(seconds=60)  # t15s_sms and t45s_app_notice are due


def test_a_stage_passed_over_while_the_workflow_was_free_is_missed() -> None:
    audit = audit_stages(history(t15_closed=True), set(), set(), UNTIL)
    assert audit.missed == ["t45s_app_notice"]


def test_a_stage_behind_a_contact_still_retrying_has_not_had_its_turn() -> None:
    audit = audit_stages(history(t15_closed=False), set(), set(), UNTIL)
    assert (audit.missed, audit.not_reached) == ([], ["t45s_app_notice"])


def test_made_or_recorded_as_skipped_is_neither() -> None:
    assert audit_stages(history(t15_closed=True, t45_made=True), set(), set(), UNTIL).missed == []
    skipped = audit_stages(history(t15_closed=True), {"t45s_app_notice"}, set(), UNTIL)
    assert (skipped.missed, skipped.skipped_by_catch_up) == ([], ["t45s_app_notice"])


def _evidence_with_sms(cleared_at: datetime, sms_at: datetime) -> Evidence:
    account = history(t15_closed=True)
    paid = PaymentReported(payment_id="p1", amount_minor=150_000, currency="CNY", paid_at=START)
    account.payments.append((8, PAID, paid))
    return Evidence(
        accounts={"chaos-x": account},
        skipped={},
        suppressed={},
        phones={"+8613800000000": "chaos-x"},
        provider_messages=[
            {"sid": "SM1", "to": "+8613800000000", "body": "b", "created_at": sms_at}
        ],
        ledger=[{"provider_id": "SM1", "cleared_at": cleared_at}],
        call_tasks=[],
        notices=[],
        until=UNTIL,
    )


PAID = START + timedelta(seconds=20)


def test_an_sms_let_go_before_the_payment_and_slow_to_arrive_is_in_flight_not_a_failure() -> None:
    found = Findings()
    late = PAID + timedelta(seconds=4)
    check_contacts_after_payment(_evidence_with_sms(PAID - timedelta(seconds=1), late), found)
    assert found.counts["contacts_after_resolution"] == 0
    assert found.info["in_flight_at_payment_beyond_grace"] == 1


def test_an_sms_let_go_after_the_payment_reached_the_process_fails() -> None:
    found = Findings()
    late = PAID + timedelta(seconds=4)
    check_contacts_after_payment(_evidence_with_sms(PAID + timedelta(seconds=1), late), found)
    assert found.counts["contacts_after_resolution"] == 1
    assert found.info["in_flight_at_payment_beyond_grace"] == 0
