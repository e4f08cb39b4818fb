"""OverdueAccountWorkflow on the time-skipping server, with the activities replaced by recorders.

Each behaviour the issue names has a test here. Every test starts at a fixed local time
(`scenario`, 09:15 on a Wednesday in Asia/Shanghai by default) and moves its server's clock to
absolute local instants ("D+3 12:00"), so it holds whatever the wall clock reads. Tests marked
`@hour_guard` run at starts spread over the day and across a DST change (tests/workflows/
conftest.py).
"""

from __future__ import annotations

from datetime import time, timedelta

import pytest
from temporalio.client import WorkflowUpdateFailedError

from overdue.policy_files import load_policy
from tests.workflows.conftest import hour_guard
from tests.workflows.harness import (
    ROOT,
    Recorder,
    Scenario,
    account_of,
    at,
    payment,
)
from workflows import search_attributes as sa
from workflows.contact_types import SmsFailure
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import Policy
from workflows.types import (
    AccountState,
    CallOutcome,
    CallOutcomeKind,
    ContactCeased,
    DisputeClosed,
    DisputeOpened,
    Escalation,
    HardshipDecision,
    HardshipReported,
    Instalment,
    PauseRequest,
    PromiseToPay,
    ResumeRequest,
    SmsConsentChanged,
)

DAY = timedelta(days=1)

# A compact policy with every feature, at simple local times.
POLICY = Policy.model_validate(
    {
        "id": "wf-test",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "caps": {"sms_per_day": 1, "sms_per_week": 3},
        "promise": {"max_days": 14, "min_percent": 10, "grace_days": 2},
        "hardship": {"reminder_template": "t", "reminder_before": "2d", "grace_days": 3},
        "broken_promise_stage": "d7_sms",
        "final_stage": "d60_legal",
        "stages": [
            {"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {
                "id": "d2_call",
                "offset": "2d",
                "channel": "call_task",
                "queue": "general",
                "send_at": "09:00",
            },
            {"id": "d7_sms", "offset": "7d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {
                "id": "d15_call",
                "offset": "15d",
                "channel": "call_task",
                "queue": "general",
                "send_at": "09:00",
            },
            {"id": "d60_legal", "offset": "60d", "channel": "notify", "kind": "legal_handover"},
        ],
        "templates": {
            "t": {"en": "Hi {name}. Reply STOP to opt out.", "zh-CN": "{name}您好。回复TD退订"}
        },
    }
)


@hour_guard
async def test_never_pays_follows_the_stages_at_their_local_times(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)

    await scenario.sleep_until(due + 16 * DAY)

    assert recorder.sms_stages(account) == ["d1_sms", "d7_sms"]
    assert recorder.call_stages(account) == ["d2_call", "d15_call"]
    sms_times = [t for i, t in recorder.sms if i.account_id == account]
    assert at(sms_times[0], scenario.local(due + DAY, time(10)))
    assert at(sms_times[1], scenario.local(due + 7 * DAY, time(10)))
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.state is AccountState.ACTIVE
    assert status.next_action is not None and status.next_action.stage_id == "d60_legal"
    assert (status.policy_id, status.policy_version) == ("wf-test", 1)
    await scenario.keep_history(handle, "never_pays_sixteen_days")
    await handle.terminate("test over")


async def test_full_payment_resolves_cancels_tasks_and_sends_nothing_more(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 3 * DAY)
    assert recorder.call_stages(account) == ["d2_call"]

    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 150_000))
    outcome = await handle.result()
    paid_at = await scenario.now()

    assert outcome.state is AccountState.RESOLVED and outcome.balance_minor == 0
    assert [c.account_id for c, _ in recorder.cancels] == [account]
    assert recorder.contacts_after(account, paid_at) == []
    await scenario.keep_history(handle, "pays_in_full_on_day_three")


@hour_guard
async def test_partial_payments_lower_the_balance_and_never_skip_or_repeat_a_stage(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)

    # Payments land before, between and after stage times; one is replayed.
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 30_000))
    await scenario.sleep_until(due + DAY)  # after d1_sms (10:00), before d2_call
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-2", 20_000))
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-2", 20_000))
    await scenario.sleep_until(due + 7 * DAY)  # after d7_sms (10:00)
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-3", 10_000))
    await scenario.sleep_until(due + 17 * DAY)

    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.balance_minor == 90_000
    assert recorder.sms_stages(account) == ["d1_sms", "d7_sms"]
    assert recorder.call_stages(account) == ["d2_call", "d15_call"]
    assert [i.amount_minor for i, _ in recorder.sms if i.account_id == account] == [
        120_000,
        100_000,
    ]
    assert status.stages_skipped == []
    await scenario.keep_history(handle, "partial_payments")
    await handle.terminate("test over")


async def test_promise_kept_in_part_continues_on_the_remainder(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 3 * DAY)
    today = await scenario.today()

    answer = await handle.execute_update(
        OverdueAccountWorkflow.promise_to_pay,
        PromiseToPay(actor="agent-1", amount_minor=50_000, promised_date=today + 5 * DAY),
    )
    assert answer.state is AccountState.PROMISE
    await scenario.sleep_until(due + 5 * DAY)
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 50_000))
    await scenario.sleep_until(due + 6 * DAY)

    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.state is AccountState.ACTIVE and status.promise is None
    assert status.balance_minor == 100_000
    await scenario.sleep_until(due + 16 * DAY)
    assert recorder.call_stages(account) == ["d2_call", "d15_call"]
    await handle.terminate("test over")


@hour_guard
async def test_broken_promise_pauses_until_date_plus_grace_then_resumes_at_the_policy_stage(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 3 * DAY)
    today = await scenario.today()
    promised = today + 10 * DAY  # past d7_sms: the promise silences it
    await handle.execute_update(
        OverdueAccountWorkflow.promise_to_pay,
        PromiseToPay(actor="agent-1", amount_minor=150_000, promised_date=promised),
    )

    await scenario.sleep_until(due + 15 * DAY)
    assert recorder.sms_stages(account) == ["d1_sms"]  # quiet while the promise stands
    await scenario.sleep_until(due + 17 * DAY)

    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.state is AccountState.ACTIVE
    assert recorder.sms_stages(account) == ["d1_sms", "d7_sms"]  # resumed at d7_sms
    resumed_at = next(
        t for i, t in recorder.sms if i.stage_id == "d7_sms" and i.account_id == account
    )
    assert resumed_at >= scenario.local(
        promised + 3 * DAY
    )  # not before the date plus two days' grace
    assert [
        i.idempotency_key.rsplit("/", 1)[1] for i, _ in recorder.sms if i.account_id == account
    ] == ["1", "1"]
    await scenario.keep_history(handle, "broken_promise")
    await handle.terminate("test over")


async def test_invalid_promise_is_rejected_with_a_reason_and_changes_nothing(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    await scenario.sleep_until(due + 2 * DAY)
    today = await scenario.today()
    before = await handle.query(OverdueAccountWorkflow.status)

    for promise, reason in [
        (
            PromiseToPay(actor="a", amount_minor=50_000, promised_date=today + 30 * DAY),
            "at most 14 days",
        ),
        (PromiseToPay(actor="a", amount_minor=1, promised_date=today + DAY), "at least 10%"),
        (
            PromiseToPay(actor="a", amount_minor=999_999, promised_date=today + DAY),
            "exceeds the balance",
        ),
        (PromiseToPay(actor="a", amount_minor=50_000, promised_date=today - DAY), "in the past"),
    ]:
        with pytest.raises(WorkflowUpdateFailedError) as rejected:
            await handle.execute_update(OverdueAccountWorkflow.promise_to_pay, promise)
        assert reason in str(rejected.value.cause)

    after = await handle.query(OverdueAccountWorkflow.status)
    assert after.state is before.state and after.promise is None and after.notes == before.notes
    await handle.terminate("test over")


@hour_guard
async def test_hardship_stops_contact_creates_review_and_an_approved_plan_gets_reminders(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, amount=90_000)
    account = account_of(handle)
    await scenario.sleep_until(due + 3 * DAY)
    await handle.signal(
        OverdueAccountWorkflow.report_hardship,
        HardshipReported(report_id="h-1", reason="job loss", reported_at=await scenario.now()),
    )
    await scenario.sleep_until(due + 9 * DAY)
    assert "d7_sms" not in recorder.sms_stages(account)  # automated contact stopped
    review = [
        i
        for i, _ in recorder.calls
        if i.account_id == account and i.stage_id.startswith("hardship_review")
    ]
    assert [(r.queue.value) for r in review] == ["specialist"]

    today = await scenario.today()
    plan = [Instalment(due_date=today + (10 + 10 * n) * DAY, amount_minor=30_000) for n in range(3)]
    answer = await handle.execute_update(
        OverdueAccountWorkflow.decide_hardship,
        HardshipDecision(actor="spec-1", approve=True, plan=plan),
    )
    assert answer.state is AccountState.REPAYMENT_PLAN

    await scenario.sleep_until(due + 18 * DAY)  # the first instalment is due on D+19: a reminder
    assert recorder.sms_stages(account)[-1] == "plan_instalment_1"
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("i-1", 30_000))
    await scenario.sleep_until(due + 28 * DAY)
    assert recorder.sms_stages(account)[-1] == "plan_instalment_2"
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.state is AccountState.REPAYMENT_PLAN and status.balance_minor == 60_000

    # The second instalment is missed: after its grace the plan breaks and collection resumes.
    await scenario.sleep_until(due + 34 * DAY)
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.state is AccountState.ACTIVE and status.plan is None
    assert recorder.sms_stages(account)[-1] == "d7_sms"  # the broken-promise stage
    await scenario.keep_history(handle, "hardship_plan_broken")
    await handle.terminate("test over")


async def test_rejected_hardship_resumes_the_process(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await handle.signal(
        OverdueAccountWorkflow.report_hardship,
        HardshipReported(report_id="h-1", reason="illness", reported_at=await scenario.now()),
    )
    await scenario.sleep_until(due + 3 * DAY)
    assert recorder.sms_stages(account) == []
    with pytest.raises(WorkflowUpdateFailedError, match="Workflow update failed"):
        await handle.execute_update(
            OverdueAccountWorkflow.decide_hardship,
            HardshipDecision(actor="spec-1", approve=True, plan=[]),
        )
    answer = await handle.execute_update(
        OverdueAccountWorkflow.decide_hardship,
        HardshipDecision(actor="spec-1", approve=False, reason="income verified"),
    )
    assert answer.state is AccountState.ACTIVE
    await scenario.sleep_until(due + 8 * DAY)
    assert recorder.sms_stages(account) == ["d7_sms"]  # the current stage only, no burst
    await handle.terminate("test over")


async def test_dispute_stops_contact_until_closed(scenario: Scenario, recorder: Recorder) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await handle.signal(
        OverdueAccountWorkflow.open_dispute, DisputeOpened(dispute_id="d-1", reason="not mine")
    )
    await scenario.sleep_until(due + 8 * DAY)
    assert recorder.sms_stages(account) == [] and recorder.call_stages(account) == []
    assert (await handle.query(OverdueAccountWorkflow.status)).state is AccountState.DISPUTED

    await handle.signal(
        OverdueAccountWorkflow.close_dispute,
        DisputeClosed(dispute_id="d-1", resolution="valid debt"),
    )
    await scenario.sleep_until(due + 9 * DAY)
    assert recorder.sms_stages(account) == ["d7_sms"]
    await handle.terminate("test over")


async def test_opt_out_and_cease_contact_stop_sms_and_calls_where_the_policy_says(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await handle.signal(
        OverdueAccountWorkflow.sms_consent_changed,
        SmsConsentChanged(opted_out=True, source="inbound_sms"),
    )
    await scenario.sleep_until(due + 3 * DAY)
    assert recorder.sms_stages(account) == []
    assert recorder.call_stages(account) == ["d2_call"]  # calls go on after an SMS opt-out

    await handle.signal(
        OverdueAccountWorkflow.cease_contact, ContactCeased(request_id="c-1", reason="asked")
    )
    await scenario.sleep_until(due + 17 * DAY)
    assert recorder.call_stages(account) == ["d2_call"]  # calls_after_cease is false
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.stages_suppressed == ["d1_sms", "d7_sms", "d15_call"]
    assert [c.account_id for c, _ in recorder.cancels] == [account]  # open tasks cancelled
    await handle.terminate("test over")


async def test_provider_opt_out_and_unreachable_number_are_handled(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    unreachable = await scenario.start(POLICY, due)
    recorder.sms_failures["d1_sms"] = SmsFailure.UNREACHABLE_NUMBER
    await scenario.sleep_until(due + DAY, time(18))
    account = account_of(unreachable)
    assert "d1_sms_fallback" in recorder.call_stages(account)
    recorder.sms_failures["d1_sms"] = SmsFailure.RECIPIENT_OPTED_OUT
    # Due yesterday: D+1 10:00 is today, so d1_sms is the current stage and d2_call is not yet.
    opted_out = await scenario.start(POLICY, await scenario.today() - DAY)
    await scenario.sleep_until(due + DAY, time(20))
    assert (await opted_out.query(OverdueAccountWorkflow.status)).sms_opted_out
    await unreachable.terminate("test over")
    await opted_out.terminate("test over")


async def test_vulnerable_customers_calls_go_to_specialists(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, vulnerable=True)
    await scenario.sleep_until(due + 3 * DAY)
    queues = [i.queue.value for i, _ in recorder.calls if i.account_id == account_of(handle)]
    assert queues == ["specialist"]
    await handle.terminate("test over")


@hour_guard
async def test_nothing_is_sent_outside_contact_hours_and_deferred_actions_wait_for_the_window(
    scenario: Scenario, recorder: Recorder
) -> None:
    night_policy = POLICY.model_copy(
        update={
            "stages": tuple(
                stage.model_copy(update={"send_at": time(23, 30)}) for stage in POLICY.stages
            )
        }
    )
    due = await scenario.today()
    handle = await scenario.start(night_policy, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 3 * DAY)
    times = [t for i, t in recorder.sms if i.account_id == account]
    times += [t for i, t in recorder.calls if i.account_id == account]
    times.sort()
    assert len(times) == 2
    assert at(
        times[0], scenario.local(due + 2 * DAY, time(8))
    )  # D+1 23:30 deferred to 08:00 next day
    for t in times:
        assert time(8) <= scenario.local_time(t) < time(21)
    await handle.terminate("test over")


@hour_guard
async def test_late_start_acts_on_the_current_stage_only(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today() - 10 * DAY
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 11 * DAY)

    assert recorder.sms_stages(account) == ["d7_sms"]
    assert recorder.call_stages(account) == []
    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.stages_skipped == ["d1_sms", "d2_call"]
    await scenario.keep_history(handle, "late_start_ten_days_past_due")
    await handle.terminate("test over")


async def test_agent_requests_escalate_pause_resume_and_callbacks(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 3 * DAY)
    now = await scenario.now()

    status = await handle.execute_update(
        OverdueAccountWorkflow.record_call_outcome,
        CallOutcome(
            actor="agent-1",
            task_id=1,
            outcome=CallOutcomeKind.CALLBACK_REQUESTED,
            callback_at=now + DAY,
        ),
    )
    assert status.notes[0].startswith("call outcome callback_requested")
    paused = await handle.execute_update(
        OverdueAccountWorkflow.pause, PauseRequest(actor="sup-1", reason="review")
    )
    assert paused.state is AccountState.PAUSED and paused.pause is not None
    with pytest.raises(WorkflowUpdateFailedError):
        await handle.execute_update(
            OverdueAccountWorkflow.pause, PauseRequest(actor="sup-1", reason="again")
        )
    await scenario.sleep_until(due + 13 * DAY)
    assert "d7_sms" not in recorder.sms_stages(account)
    await handle.execute_update(
        OverdueAccountWorkflow.resume, ResumeRequest(actor="sup-1", reason="done")
    )
    escalated = await handle.execute_update(
        OverdueAccountWorkflow.escalate, Escalation(actor="agent-1", reason="refuses to pay")
    )
    assert escalated.state is AccountState.ESCALATED
    await scenario.sleep_until(due + 18 * DAY)
    calls = {i.stage_id: i.queue.value for i, _ in recorder.calls if i.account_id == account}
    assert calls["callback_1"] == "general"
    assert calls["supervisor_review_2"] == "supervisor"
    assert calls["d15_call"] == "supervisor"  # escalated accounts' calls go to supervisors
    await handle.terminate("test over")


async def test_search_attributes_follow_transitions_before_the_cost_release(
    scenario: Scenario, recorder: Recorder
) -> None:
    """A process started before cost-2026-12 (release 0) keeps DaysPastDue and NextActionAt
    current, as its history was recorded; later ones: test_transition_attributes.py."""
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, release=0)
    await scenario.sleep_until(due + DAY, time(18))

    attrs = (await handle.describe()).typed_search_attributes
    assert attrs.get(sa.OVERDUE_STATE) == "active"
    assert attrs.get(sa.OVERDUE_STAGE) == "d1_sms"
    assert attrs.get(sa.PRODUCT) == "credit_line"
    assert attrs.get(sa.DAYS_PAST_DUE) == 1
    assert attrs.get(sa.NEXT_ACTION_AT) == scenario.local(due + 2 * DAY, time(9))
    await handle.terminate("test over")


async def test_continue_as_new_mid_lifecycle_loses_no_event_or_stage(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due, history_event_bound=100)
    account = account_of(handle)
    for n in range(40):  # events enough to pass the bound several times
        await handle.signal(OverdueAccountWorkflow.report_payment, payment(f"p-{n}", 1_000))
        if n % 10 == 0:
            await scenario.sleep_until(due + (n // 10 + 1) * DAY)
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-0", 1_000))  # replayed
    await scenario.sleep_until(due + 16 * DAY)

    status = await handle.query(OverdueAccountWorkflow.status)
    assert status.balance_minor == 150_000 - 40 * 1_000
    assert recorder.sms_stages(account) == ["d1_sms", "d7_sms"]
    assert recorder.call_stages(account) == ["d2_call", "d15_call"]
    latest = scenario.env.client.get_workflow_handle(handle.id)
    assert (await latest.describe()).run_id != handle.first_execution_run_id  # it continued as new
    assert len((await latest.fetch_history()).events) < 200
    await latest.terminate("test over")


@pytest.mark.parametrize(
    ("name", "pay_on_day"), [("never_pays_120_days", None), ("pays_on_day_9", 9)]
)
@hour_guard
async def test_default_policy_lifecycles_finish_in_seconds(
    scenario: Scenario, recorder: Recorder, name: str, pay_on_day: int | None
) -> None:
    policy = load_policy(ROOT / "policies" / "default.yaml")
    due = await scenario.today() + 5 * DAY
    handle = await scenario.start(policy, due)
    account = account_of(handle)
    if pay_on_day is None:
        await scenario.sleep_until(due + 120 * DAY)
        outcome = await handle.result()
        assert outcome.state is AccountState.CLOSED  # handed over for legal review on day 60
        assert recorder.notice_stages(account) == ["d1_app_notice", "d60_legal_review"]
        assert recorder.sms_stages(account) == ["d_minus_3_sms", "d1_sms", "d7_sms"]
        assert recorder.call_stages(account) == [
            "d2_call",
            "d15_collections_call",
            "d30_supervisor_review",
        ]
    else:
        await scenario.sleep_until(due + pay_on_day * DAY)
        await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-9", 150_000))
        outcome = await handle.result()
        assert outcome.state is AccountState.RESOLVED
        assert recorder.sms_stages(account) == ["d_minus_3_sms", "d1_sms", "d7_sms"]
    await scenario.keep_history(handle, f"default_{name}")


@hour_guard
async def test_sms_caps_defer_the_second_message_of_a_day(
    scenario: Scenario, recorder: Recorder
) -> None:
    two_a_day = POLICY.model_copy(
        update={
            "stages": (
                POLICY.stages[0],
                POLICY.stages[0].model_copy(update={"id": "d1_sms_again", "send_at": time(15)}),
            ),
            "final_stage": None,
            "broken_promise_stage": None,
        }
    )
    due = await scenario.today()
    handle = await scenario.start(two_a_day, due)
    account = account_of(handle)
    await scenario.sleep_until(due + 3 * DAY)
    times = [t for i, t in recorder.sms if i.account_id == account]
    assert recorder.sms_stages(account) == ["d1_sms", "d1_sms_again"]
    assert at(times[0], scenario.local(due + DAY, time(10)))
    assert at(
        times[1], scenario.local(due + 2 * DAY, time(8))
    )  # sms_per_day 1: next day, window opening
    await handle.terminate("test over")


async def test_a_permanent_refusal_is_noted_and_the_process_goes_on(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    recorder.sms_failures["d1_sms"] = "SmsRefused"
    await scenario.sleep_until(due + 3 * DAY)
    status = await handle.query(OverdueAccountWorkflow.status)
    assert "d1_sms: sms refused (SmsRefused)" in status.notes
    assert recorder.call_stages(account) == ["d2_call"]  # the process carried on
    del recorder.sms_failures["d1_sms"]
    await handle.terminate("test over")


async def test_a_payment_while_an_sms_is_in_flight_withholds_it_and_the_account_resolves(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    recorder.pay_during["d1_sms"] = payment("p-1", 150_000)

    outcome = await handle.result()

    assert outcome.state is AccountState.RESOLVED
    [(sms, _)] = [(i, t) for i, t in recorder.sms if i.account_id == account]
    assert sms.basis is not None and sms.basis.payments_known == []  # decided before it
    assert recorder.withheld == [sms.idempotency_key]  # nothing reached the customer
    assert recorder.call_stages(account) == []
    await scenario.keep_history(handle, "sms_withheld_for_a_payment_in_flight")


async def test_a_withheld_sms_after_a_partial_payment_goes_again_with_the_new_balance(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    recorder.pay_during["d1_sms"] = payment("p-1", 50_000)

    await scenario.sleep_until(due + DAY)

    sent = [(i, t) for i, t in recorder.sms if i.account_id == account]
    assert [i.idempotency_key.rsplit("/", 1)[1] for i, _ in sent] == ["1", "2"]
    (first, first_at), (second, second_at) = sent
    assert recorder.withheld == [first.idempotency_key]
    assert (first.amount_minor, second.amount_minor) == (150_000, 100_000)
    assert second.basis is not None and second.basis.payments_known == ["p-1"]
    assert second_at - first_at < timedelta(seconds=5)  # at once, not after WITHHELD_WAIT
    status = await handle.query(OverdueAccountWorkflow.status)
    assert "d1_sms" in status.stages_done  # the SMS cap (1 a day) did not count the withheld
    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-2", 100_000))
    assert (await handle.result()).state is AccountState.RESOLVED
    await scenario.keep_history(handle, "sms_withheld_partial_payment_sent_again")


async def test_a_call_task_withheld_for_a_payment_in_flight_is_not_made(
    scenario: Scenario, recorder: Recorder
) -> None:
    due = await scenario.today() - DAY  # d1_sms today at 10:00, d2_call tomorrow at 09:00
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    recorder.pay_during["d2_call"] = payment("p-1", 150_000)

    outcome = await handle.result()

    assert outcome.state is AccountState.RESOLVED
    [(call, _)] = [(i, t) for i, t in recorder.calls if i.account_id == account]
    assert call.stage_id == "d2_call"
    assert recorder.withheld == [call.idempotency_key]  # no task reached an agent


@pytest.mark.parametrize(
    ("stage", "history"),
    [("d1_sms", None), ("d2_call", "call_task_given_up_on_resolution")],
)
async def test_a_contact_still_retrying_when_the_account_resolves_is_given_up(
    scenario: Scenario, recorder: Recorder, stage: str, history: str | None
) -> None:
    due = await scenario.today()
    handle = await scenario.start(POLICY, due)
    account = account_of(handle)
    # The provider (SMS) or Postgres (call task) is down: the stage retries with backoff.
    outage, attempts_of = {
        "d1_sms": (recorder.sms_outage, recorder.sms_stages),
        "d2_call": (recorder.call_outage, recorder.call_stages),
    }[stage]
    outage.add(stage)
    await scenario.sleep_until(due + (2 * DAY if stage == "d2_call" else DAY), time(21))
    attempts = len(attempts_of(account))
    assert attempts > 1

    await handle.signal(OverdueAccountWorkflow.report_payment, payment("p-1", 150_000))
    outcome = await handle.result()
    paid_at = await scenario.now()
    await scenario.env.sleep(DAY)

    assert outcome.state is AccountState.RESOLVED
    assert len(attempts_of(account)) == attempts  # no attempt after the payment
    assert recorder.contacts_after(account, paid_at) == []
    # Open call tasks cancelled at the end, where the process asked for one (since release
    # cost-2026-12 one that never did skips the billed activity: it has none to cancel).
    cancels = [c.account_id for c, _ in recorder.cancels].count(account)
    assert cancels == (1 if stage == "d2_call" else 0)
    outage.discard(stage)
    if history is not None:
        await scenario.keep_history(handle, history)
