"""OverdueAccountWorkflow: one long-lived process per overdue account.

The workflow is an imperative shell around `workflows.decisions`: ask the core what is next,
wait for that time or for an event, act through an activity, record, repeat.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from activities.call_tasks import CallTaskActivities
    from activities.sms import SmsActivities
    from workflows import search_attributes as sa
    from workflows.decisions import (
        Act,
        Finished,
        Progress,
        WaitForEvents,
        WaitUntil,
        anchor_time,
        apply_payment,
        call_due_at,
        contact_key,
        days_past_due,
        next_step,
    )
    from workflows.policy import Channel, Stage
    from workflows.types import (
        AccountOutcome,
        AccountState,
        AccountStatus,
        CancelCallTasksInput,
        CreateCallTaskInput,
        NextAction,
        OverdueAccountInput,
        PaymentReported,
        SendSmsInput,
    )

ACTIVITY_TIMEOUT = timedelta(seconds=30)
# Transient failures (database restart, provider outage) retry for as long as it takes;
# the ledger's idempotency key makes every retry safe.
ACTIVITY_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1), maximum_interval=timedelta(minutes=5)
)


@workflow.defn
class OverdueAccountWorkflow:
    @workflow.init
    def __init__(self, input: OverdueAccountInput) -> None:
        self._input = input
        self._policy = input.policy
        self._state = AccountState.ACTIVE
        self._balance = input.amount_due_minor
        self._stage: str | None = None
        self._done: list[str] = []
        self._skipped: list[str] = []
        self._payments_seen: set[str] = set()
        self._next: NextAction | None = None
        self._changed = False
        self._search_attributes: dict[str, object] = {}

    @workflow.run
    async def run(self, input: OverdueAccountInput) -> AccountOutcome:
        anchor_at = anchor_time(
            self._policy, input.due_date, input.time_zone, workflow.info().start_time
        )
        episode = workflow.info().first_execution_run_id
        while True:
            step = next_step(self._policy, self._progress(anchor_at), workflow.now())
            if isinstance(step, Finished):
                break
            if isinstance(step, Act):
                self._skipped.extend(stage.id for stage in step.skipped)
                await self._act(step.stage, episode, anchor_at)
                self._done.append(step.stage.id)
                self._stage = step.stage.id
                continue
            await self._wait(step)

        self._next = None
        self._publish()
        await workflow.execute_activity_method(
            CallTaskActivities.cancel_open_call_tasks,
            CancelCallTasksInput(account_id=input.account_id, reason="account resolved"),
            start_to_close_timeout=ACTIVITY_TIMEOUT,
            retry_policy=ACTIVITY_RETRY,
            summary="Cancel open call tasks: account resolved",
        )
        return AccountOutcome(
            account_id=input.account_id,
            state=self._state,
            balance_minor=self._balance,
            stages_done=list(self._done),
        )

    # --- events ------------------------------------------------------------------------

    @workflow.signal
    def report_payment(self, payment: PaymentReported) -> None:
        """A payment from the backend; replaying the same payment_id changes nothing."""
        if payment.payment_id in self._payments_seen or self._state is AccountState.RESOLVED:
            return
        if payment.currency != self._input.currency:
            # The API checks currency before signalling; this guards other senders.
            workflow.logger.warning(
                "payment ignored: currency does not match the account",
                extra={"payment_currency": payment.currency},
            )
            return
        self._payments_seen.add(payment.payment_id)
        self._balance = apply_payment(self._balance, payment.amount_minor)
        if self._balance == 0:
            self._state = AccountState.RESOLVED
        self._changed = True

    @workflow.query
    def status(self) -> AccountStatus:
        return AccountStatus(
            account_id=self._input.account_id,
            state=self._state,
            stage=self._stage,
            balance_minor=self._balance,
            currency=self._input.currency,
            due_date=self._input.due_date,
            time_zone=self._input.time_zone,
            days_past_due=self._days_past_due(),
            as_of=workflow.now(),
            next_action=self._next,
            stages_done=list(self._done),
            stages_skipped=list(self._skipped),
            policy_id=self._policy.id,
            policy_version=self._policy.version,
        )

    # --- internals ---------------------------------------------------------------------

    def _progress(self, anchor_at: datetime) -> Progress:
        return Progress(
            anchor_at=anchor_at,
            resolved=self._state is AccountState.RESOLVED,
            handled=frozenset(self._done) | frozenset(self._skipped),
        )

    def _days_past_due(self) -> int:
        return days_past_due(self._input.due_date, self._input.time_zone, workflow.now())

    async def _wait(self, step: WaitUntil | WaitForEvents) -> None:
        if isinstance(step, WaitUntil):
            self._next = NextAction(stage_id=step.stage.id, label=step.stage.label, at=step.at)
            timeout: timedelta | None = max(step.at - workflow.now(), timedelta(0))
            summary = f"Wait for {step.stage.label}"
        else:
            self._next = None
            timeout = None
            summary = None
        self._publish()
        self._changed = False
        try:
            await workflow.wait_condition(
                lambda: self._changed, timeout=timeout, timeout_summary=summary
            )
        except TimeoutError:
            pass  # the stage's time has come; the loop re-evaluates

    async def _act(self, stage: Stage, episode: str, anchor_at: datetime) -> None:
        input = self._input
        key = contact_key(input.account_id, episode, stage.id)
        if stage.channel is Channel.SMS:
            assert stage.template is not None
            await workflow.execute_activity_method(
                SmsActivities.send_sms,
                SendSmsInput(
                    idempotency_key=key,
                    account_id=input.account_id,
                    stage_id=stage.id,
                    template_id=stage.template,
                    templates=self._policy.templates[stage.template],
                    default_locale=self._policy.default_locale,
                    amount_minor=self._balance,
                    currency=input.currency,
                    due_date=input.due_date,
                    days_past_due=self._days_past_due(),
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
                summary=f"{stage.label}: send SMS",
            )
        elif stage.channel is Channel.CALL_TASK:
            assert stage.queue is not None
            await workflow.execute_activity_method(
                CallTaskActivities.create_call_task,
                CreateCallTaskInput(
                    idempotency_key=key,
                    account_id=input.account_id,
                    stage_id=stage.id,
                    queue=stage.queue,
                    priority=stage.priority,
                    due_at=call_due_at(stage, anchor_at, workflow.now()),
                ),
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
                summary=f"{stage.label}: call task for the {stage.queue.value} queue",
            )

    def _publish(self) -> None:
        """Upsert search attributes, only those whose value changed (each upsert is billed)."""
        wanted: dict[str, object] = {
            sa.OVERDUE_STATE.name: self._state.value,
            sa.OVERDUE_STAGE.name: self._stage or "",
            sa.DAYS_PAST_DUE.name: self._days_past_due(),
            sa.AMOUNT_DUE_MINOR.name: self._balance,
            sa.NEXT_ACTION_AT.name: self._next.at if self._next else None,
            sa.PRODUCT.name: self._input.product,
        }
        changed = {k: v for k, v in wanted.items() if self._search_attributes.get(k, ...) != v}
        if not changed:
            return
        updates = []
        for key in sa.ALL:
            if key.name not in changed:
                continue
            value = changed[key.name]
            updates.append(
                key.value_unset() if value is None else key.value_set(value)  # type: ignore[arg-type]
            )
        workflow.upsert_search_attributes(updates)
        self._search_attributes.update(changed)
