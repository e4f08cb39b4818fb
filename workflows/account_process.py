"""The account workflow's process: an imperative shell around the pure core
(`workflows.decisions`, `workflows.account`): apply events to the record, ask the core what is
next, wait for that time or for the next event, act through a contact attempt
(`workflows.contact_attempt`), record, repeat. Its patch ids, and when each can go, are in
`workflows.patches`.

`OverdueAccountWorkflow` (workflows/overdue_account.py) is this class with the workflow's
entry points. The sandbox runs every workflow instance on a fresh import of the module that
defines the workflow, code objects and all (48 KB of them per cached workflow when this code
lived there, docs/benchmarks.md "Memory"); this module is imported passed through, once per
worker, like the pure core and the handler mixins.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from temporalio import workflow
from temporalio.exceptions import ApplicationError, TemporalError

with workflow.unsafe.imports_passed_through():
    import workflows.account as acct
    import workflows.acting as acting
    import workflows.closing as closing
    import workflows.parking as parking
    import workflows.patches as patches
    import workflows.search_attributes as sa
    from workflows.account_handlers import AccountHandlers
    from workflows.acting import Reminder, StageContact
    from workflows.contact_attempt import (
        create_call_task,
        create_requested_task,
        send_notice,
        send_sms,
    )
    from workflows.decisions import Finished, WaitForEvents, WaitUntil
    from workflows.event_handlers import EventHandlers
    from workflows.handlers import Signal, Update
    from workflows.publishing import Published, account_attributes, publish_transitions
    from workflows.received_events import ReceivedEvents
    from workflows.status import stages_done
    from workflows.types import (
        AccountOutcome,
        AccountRecord,
        AccountState,
        AccountStatus,
        NextAction,
        OverdueAccountInput,
        Parked,
    )
    from workflows.validity_gate import ValidityGate
    from workflows.waiting import NextActionTimer


def _rejecting(error: acct.RequestRejected) -> ApplicationError:
    return ApplicationError(str(error), type="RequestRejected", non_retryable=True)


class HandlerFault(Exception):
    """A signal or update handler raised unexpectedly; the run loop parks on it."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AccountProcess(AccountHandlers, EventHandlers):
    def _begin(self, input: OverdueAccountInput) -> None:
        """The workflow's init: the record from the input (or the one carried across)."""
        self._input = input
        self.started_on_release = input.release  # workflows/patches.py, patched
        # `or` keeps a carried record from asking when the process started (a marker).
        self._record: AccountRecord = input.carried or acting.new_record(
            input, workflow.info().first_execution_run_id, self._process_start(input)
        )
        self._next: NextAction | None = None
        self._changed = False
        self._published = Published()
        self._on_change = input.release >= patches.COST_2026_12  # workflows/publishing.py
        if self._on_change:
            self._published.seed(workflow.info().typed_search_attributes)
        self._timer = NextActionTimer(keep_across_events=self._on_change)
        self._received = ReceivedEvents(self._record.account_id)  # for the audit trail
        self._parked: Parked | None = None
        self._fault: str | None = None  # a handler's unexpected error, for the loop to park on
        self._retry = False  # resume_by_ops while parked
        self._parks = 0  # times parked in this run
        self._rules = ValidityGate()  # the stage rules this history decides with

    @staticmethod
    def _process_start(input: OverdueAccountInput) -> datetime:
        """The execution's start, not its first task's (which an outage delays), for policies
        that count from it; only they ask, so other histories carry no marker."""
        info = workflow.info()
        at_start = input.policy.anchor == "process_start"
        if at_start and patches.patched(patches.ANCHOR_AT_EXECUTION_START, input.release):
            return info.workflow_start_time
        return info.start_time

    async def _run_parking(self, input: OverdueAccountInput) -> AccountOutcome:
        """The workflow's run: the loop, parked (not failed) on an unexpected error."""
        while True:
            try:
                return await self._run(input)
            except Exception as err:
                if not self._may_park(err):
                    raise
                reason = err.reason if isinstance(err, HandlerFault) else parking.reason_code(err)
                await self._park(reason)

    async def _run(self, input: OverdueAccountInput) -> AccountOutcome:
        record = self._record
        while True:
            self._raise_fault()
            await self._do_chores()
            now = workflow.now()
            action = acting.prepare(record, self._rules.next_step(record, now), now)
            if isinstance(action, Finished):
                break
            if isinstance(action, StageContact):
                await self._contact(action)
            elif isinstance(action, Reminder):
                await self._remind(action)
            elif isinstance(action, WaitUntil | WaitForEvents):
                if self._should_continue_as_new():
                    await self._settle()
                    workflow.continue_as_new(input.model_copy(update={"carried": record}))
                await self._wait(action)

        await self._close(record)
        self._publish()
        return AccountOutcome(
            account_id=record.account_id,
            state=record.state,
            balance_minor=record.balance_minor,
            stages_done=stages_done(record),
        )

    # --- internals -----------------------------------------------------------------------

    def _receive(self, signal: Signal[Any], payload: Any) -> None:
        try:
            changed = signal.apply(self._record, payload, workflow.now())
        except Exception as err:
            self._handler_fault(err)
            return
        self._changed |= changed
        if changed:
            self._received.note(payload)

    async def _settle(self) -> None:
        """Before the run ends: handlers done, events received recorded, no timer running."""
        self._timer.stop()
        await workflow.wait_condition(workflow.all_handlers_finished)
        while self._received.waiting:
            await self._received.record()
            await workflow.wait_condition(workflow.all_handlers_finished)

    async def _close(self, record: AccountRecord) -> None:
        """The run's end: its received events audited, its open call tasks cancelled."""
        release = self._input.release
        await closing.close_at_once(record, self._received, self._timer, release)
        await self._settle()  # (what arrived meanwhile)
        self._next = None
        await closing.cancel_at_end(record, release, on_change=self._on_change)

    def _check(self, update: Update[Any], payload: Any) -> None:
        try:
            update.validate(self._record, payload, workflow.now())
        except acct.RequestRejected as err:
            raise _rejecting(err) from None

    def _apply(self, update: Update[Any], payload: Any) -> AccountStatus:
        try:
            update.apply(self._record, payload, workflow.now())
        except Exception as err:
            self._handler_fault(err)
            raise ApplicationError(
                "the account's process met an unexpected error and is parked for ops",
                type="Parked",
                non_retryable=True,
            ) from None
        self._changed = True
        return self.status()

    # --- parking (workflows/parking.py) --------------------------------------------------

    def _may_park(self, err: Exception) -> bool:
        """Whether `err` parks the account: not a deliberate Temporal failure (an update's
        refusal, an activity's), not the SDK's own signal, and this history may park."""
        if isinstance(err, TemporalError) or type(err).__module__.startswith("temporalio"):
            return False
        return patches.patched(patches.PARK_ON_UNEXPECTED_ERROR)

    def _handler_fault(self, err: Exception) -> None:
        if not self._may_park(err):
            raise err
        self._fault = parking.reason_code(err)
        self._changed = True  # wakes the loop, which parks

    def _raise_fault(self) -> None:
        fault, self._fault = self._fault, None
        if fault is not None:
            raise HandlerFault(fault)

    async def _park(self, reason: str) -> None:
        """Stay parked, visibly, until ops resume or an event arrives; then the loop retries."""
        self._parked = Parked(reason=reason, since=workflow.now(), retries=self._parks)
        self._parks += 1
        self._next = None
        workflow.logger.error(
            "account process parked: %s", reason, extra={"account_id": self._record.account_id}
        )
        workflow.set_current_details(parking.details(self._parked))
        parked: dict[str, Any] = {sa.OVERDUE_STATE.name: AccountState.PARKED.value}
        if not self._on_change:
            parked[sa.NEXT_ACTION_AT.name] = None
        self._timer.stop()
        self._published.upsert(parked)
        self._changed = self._retry = False
        # A handler's fault while parked also sets `_changed`: the retry meets it and parks.
        await workflow.wait_condition(lambda: self._changed or self._retry)
        self._parked = None
        workflow.set_current_details("")

    def _should_continue_as_new(self) -> bool:
        info = workflow.info()
        return (
            info.is_continue_as_new_suggested()
            or info.get_current_history_length() >= self._input.history_event_bound
        )

    async def _wait(self, step: WaitUntil | WaitForEvents) -> None:
        self._next = acting.next_action(step)
        self._publish(step)
        self._changed = False
        await self._timer.wait(step, lambda: self._changed or bool(self._record.outbox))

    async def _contact(self, contact: StageContact) -> None:
        record, stage = self._record, contact.stage
        if contact.channel == "sms":
            assert stage.template is not None
            done = await send_sms(record, stage.id, stage.template, contact.key, stage.label)
        elif contact.channel == "call":
            assert contact.queue is not None
            done = await create_call_task(
                record, contact.key, stage.id, contact.queue, stage.priority, stage.label
            )
        else:
            done = await send_notice(record, stage, contact.key)
        if done:  # withheld: the stage is decided again (a notice given up stays open too)
            acting.finish(record, contact)

    async def _remind(self, reminder: Reminder) -> None:
        await send_sms(
            self._record, reminder.stage_id, reminder.template, reminder.key, reminder.label
        )

    async def _do_chores(self) -> None:
        """What events left to do: cancel open call tasks, create the tasks they asked for."""
        record = self._record
        # closing-2026-12: a finished account's events are audited with its close, at once.
        defer = record.finished and self._input.release >= patches.CLOSING_2026_12
        if not defer:
            await self._received.record()
        reason = acting.take_cancel(record)
        if reason is not None:
            await closing.cancel_open_tasks(record.account_id, reason)
        while (task := acting.next_requested_task(record)) is not None:
            await create_requested_task(record, task)
        await self.send_forbearance_notices()  # a write-down or a freeze to report
        # Events received meanwhile would wait for the next wake (days, for a disputed account).
        during = patches.AUDIT_EVENTS_DURING_CHORES
        while self._received.waiting and not defer and patches.patched(during):
            await self._received.record()

    def _publish(self, step: WaitUntil | WaitForEvents | None = None) -> None:
        """Upsert search attributes, only those whose value changed (each upsert is billed)."""
        if self._on_change:
            publish_transitions(self._published, self._record, self._next, step)
            return
        at = self._next.at if self._next else None
        self._published.upsert(account_attributes(self._record, at, workflow.now()))
