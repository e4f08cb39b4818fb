"""The events a simulated customer's behaviour makes, as the messages the workflow receives,
and what a process did given them (`Path`)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from workflows import handlers
from workflows.handlers import Message
from workflows.simulation import SimulatedContact, SimulatedTask, Simulation
from workflows.types import (
    CallOutcome,
    CallOutcomeKind,
    HardshipDecision,
    HardshipReported,
    Instalment,
    PaymentReported,
    PromiseToPay,
    SmsConsentChanged,
)


@dataclass(frozen=True)
class Ev:
    """An event the behaviour makes; a timeline of them is a path's key."""

    at: datetime
    kind: str  # pay, outcome, promise, hardship, decide, opt_out
    amount: int = 0  # pay, promise: stand-in minor units
    detail: str = ""  # outcome: the CallOutcomeKind
    task: int = 0  # outcome: the call task's number (1, 2, ...)
    day: date | None = None  # promise: the promised date
    plan: tuple[tuple[date, int], ...] = ()  # decide: instalments


def messages(
    timeline: Iterable[Ev], currency: str, first: int = 0
) -> list[tuple[datetime, Message[Any]]]:
    """The timeline as the signals and updates a backend or an agent would send (`first`: the
    number of the first event in the account's whole timeline, for ids)."""
    return [(ev.at, _message(ev, n, currency)) for n, ev in enumerate(timeline, first)]


def _message(ev: Ev, n: int, currency: str) -> Message[Any]:
    if ev.kind == "pay":
        paid = PaymentReported(
            payment_id=f"sim-{n}", amount_minor=ev.amount, currency=currency, paid_at=ev.at
        )
        return Message(handlers.REPORT_PAYMENT, paid)
    if ev.kind == "outcome":
        outcome = CallOutcome(actor="sim", task_id=ev.task, outcome=CallOutcomeKind(ev.detail))
        return Message(handlers.RECORD_CALL_OUTCOME, outcome)
    if ev.kind == "promise":
        assert ev.day is not None
        promise = PromiseToPay(actor="sim", amount_minor=ev.amount, promised_date=ev.day)
        return Message(handlers.PROMISE_TO_PAY, promise)
    if ev.kind == "hardship":
        report = HardshipReported(report_id=f"sim-{n}", reported_at=ev.at)
        return Message(handlers.REPORT_HARDSHIP, report)
    if ev.kind == "decide":
        plan = [Instalment(due_date=d, amount_minor=a) for d, a in ev.plan]
        return Message(
            handlers.DECIDE_HARDSHIP, HardshipDecision(actor="sim", approve=True, plan=plan)
        )
    return Message(
        handlers.SMS_CONSENT_CHANGED, SmsConsentChanged(opted_out=True, source="inbound_sms")
    )


@dataclass(frozen=True)
class Path:
    """What an account's process did over the simulated days, given its timeline."""

    timeline: tuple[Ev, ...]
    contacts: tuple[SimulatedContact, ...]
    tasks: tuple[SimulatedTask, ...]  # call tasks events asked for (reviews, callbacks)
    states: tuple[tuple[datetime, str], ...]  # each change, the first as it began
    cancellations: tuple[tuple[datetime, str], ...]
    answers: tuple[tuple[str, str | None], ...]  # each event's handler, why rejected
    finished_at: datetime | None
    # The other activities it scheduled (events' audit, cancels, notices) and when its end
    # ran the local activity that closes it: billed actions (tally.py).
    activities: tuple[tuple[datetime, str], ...] = ()
    closed_at: datetime | None = None

    @classmethod
    def of(cls, sim: Simulation, timeline: tuple[Ev, ...]) -> Path:
        return cls(
            timeline,
            tuple(sim.contacts),
            tuple(sim.tasks),
            tuple(sim.states),
            tuple(sim.cancellations),
            tuple((d.handler, d.receipt.rejected) for d in sim.delivered),
            sim.finished_at,
            tuple(sim.activities),
            sim.closed_at,
        )

    def continued(
        self,
        since: datetime,
        timeline: tuple[Ev, ...],
        upto: Simulation,
        rest: Simulation | None,
    ) -> Path:
        """This process until `since` (its last event), then the runs that went on from its
        record there: `upto` (the new events) and `rest` (to the end)."""
        runs = [upto, *([rest] if rest else [])]
        states = [s for s in self.states if s[0] <= since]
        for sim in runs:
            states += sim.states
        return Path(
            timeline,
            (*(c for c in self.contacts if c.at <= since), *(c for r in runs for c in r.contacts)),
            (*(t for t in self.tasks if t.at <= since), *(t for r in runs for t in r.tasks)),
            tuple(_changes(states)),
            (
                *(c for c in self.cancellations if c[0] <= since),
                *(c for r in runs for c in r.cancellations),
            ),
            (*self.answers, *((d.handler, d.receipt.rejected) for d in upto.delivered)),
            upto.finished_at or (rest.finished_at if rest else None),
            (
                *(a for a in self.activities if a[0] <= since),
                *(a for r in runs for a in r.activities),
            ),
            upto.closed_at or (rest.closed_at if rest else None),
        )

    def paid_off(self, payment: Ev) -> Path:
        """This process, had the customer paid everything at `payment.at`: the same until
        then (the payment is its timeline's last event), then resolved at once. The walk
        takes this for a run of the longer timeline; `check_paths` and the tests re-run."""
        at = payment.at
        states = tuple(s for s in self.states if s[0] < at)
        if states[-1][1] != "resolved":
            states += ((at, "resolved"),)
        contacts = tuple(c for c in self.contacts if c.at < at)
        tasks = tuple(t for t in self.tasks if t.at < at)
        # As the workflow (cost-2026-12): the end cancels call tasks only if any was asked.
        asked = bool(tasks) or any(c.channel == "call_task" for c in contacts)
        ending = ((at, "account resolved"),) if asked else ()
        return Path(
            (*self.timeline, payment),
            contacts,
            tasks,
            states,
            (*(c for c in self.cancellations if c[0] < at), *ending),
            (*self.answers, (handlers.REPORT_PAYMENT.name, None)),
            at,
            tuple(a for a in self.activities if a[0] < at),
            at,  # the payment waits for the close's audit: it always runs
        )


def _changes(states: list[tuple[datetime, str]]) -> list[tuple[datetime, str]]:
    """Each change once: a run resumed notes the state it starts in again."""
    found: list[tuple[datetime, str]] = []
    for at, state in states:
        if not found or found[-1][1] != state:
            found.append((at, state))
    return found
