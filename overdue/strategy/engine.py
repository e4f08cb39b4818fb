"""The portfolio simulator's engine: each account walks the workflow's own decision loop.

Pure (no I/O). An account's process is `workflows.simulation.run` (the workflow's handlers,
`next_step` and `acting`, nothing of its own) fed with the events its customer's behaviour
makes: payments, call outcomes, promises, hardship reports and plans, STOP texts. The events
depend on the contacts (a text lifts tomorrow's payment hazard, a call task gets an outcome),
so they are drawn as the process goes: from what the process does when nothing more happens,
the earliest event the behaviour makes is added to the account's timeline and the process is
run again with it, until no event comes before the end.

Two accounts of the same profile (everything the process reads: product, currency, due date,
zone, jurisdiction, segment, vulnerable) and the same timeline so far make the same decisions,
so each distinct timeline is run once (`Paths`) and shared. Amounts are run on a stand-in
balance (`STAND_IN_MINOR`) and scaled back per account, since the process reads a balance only
to resolve it at zero, unless the policy has a `min_balance_minor` condition: then the real
balance is part of the profile.

Draws are a hash of the seed, the account id and what is drawn (splitmix64), not a stream:
the same account makes the same draws whatever the order, the process or the other accounts,
and two policies compared on one portfolio meet the same customers.
"""

from __future__ import annotations

import copy
import hashlib
from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from overdue.strategy.behaviour import BehaviourModel, Segment
from overdue.strategy.portfolio import PortfolioAccount
from workflows import handlers
from workflows.acting import new_record
from workflows.handlers import Message
from workflows.policy import Policy
from workflows.simulation import SimulatedContact, SimulatedTask, Simulation, run
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

STAND_IN_MINOR = 1_000_000
MAX_EVENTS = 60  # an account's walk is bounded (each step adds at least one event)
OPT_OUT_AFTER = timedelta(minutes=20)
AFTER_CALL = timedelta(minutes=1)  # a promise or hardship report recorded after the call
DECISION_TIME = time(11, 0, 13)
_MASK = (1 << 64) - 1
# What a draw is for (the hash's second input).
PAYMENT, OPT_OUT, REACHED, ANSWER, KEEPS, INSTALMENT = range(1, 7)


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


def messages(timeline: Iterable[Ev], currency: str) -> list[tuple[datetime, Message[Any]]]:
    """The timeline as the signals and updates a backend or an agent would send."""
    return [(ev.at, _message(ev, n, currency)) for n, ev in enumerate(timeline)]


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


def draw(key: int, purpose: int, value: int) -> float:
    """A uniform number in [0, 1) from the account's key, the draw's purpose and a value."""
    return _mix(key ^ _mix(purpose * 1_000_003 + value)) / 2.0**64


def _mix(x: int) -> int:
    x = (x + 0x9E3779B97F4A7C15) & _MASK
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _MASK
    return x ^ (x >> 31)


def account_key(seed: int, account_id: str) -> int:
    digest = hashlib.blake2b(f"{seed}:{account_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big")


def profile_key(account: PortfolioAccount, policy: Policy) -> tuple[Any, ...]:
    """What the process reads of an account (and the SMS locale, for the tally)."""
    amount = account.amount_minor if _reads_balance(policy) else 0
    # The process reads the product only in stages' conditions (`when: products`).
    product = account.product if _reads_product(policy) else ""
    return (
        product,
        account.currency,
        account.due_date,
        account.time_zone,
        account.jurisdiction,
        account.risk_segment,
        account.vulnerable,
        account.locale,
        amount,
    )


def _reads_product(policy: Policy) -> bool:
    return any(stage.when.products is not None for stage in policy.stages)


def _reads_balance(policy: Policy) -> bool:
    return any(stage.when.min_balance_minor is not None for stage in policy.stages)


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
        )

    def paid_off(self, payment: Ev) -> Path:
        """This process, had the customer paid everything at `payment.at`: the same until
        then (the payment is its timeline's last event), then resolved at once. The walk
        takes this for a run of the longer timeline; `check_paths` and the tests re-run."""
        at = payment.at
        states = tuple(s for s in self.states if s[0] < at)
        if states[-1][1] != "resolved":
            states += ((at, "resolved"),)
        return Path(
            (*self.timeline, payment),
            tuple(c for c in self.contacts if c.at < at),
            tuple(t for t in self.tasks if t.at < at),
            states,
            (*(c for c in self.cancellations if c[0] < at), (at, "account resolved")),
            (*self.answers, (handlers.REPORT_PAYMENT.name, None)),
            at,
        )


@dataclass
class Node:
    """One timeline's run, and what the behaviour needs of it."""

    timeline: tuple[Ev, ...]
    path: Path
    finished_at: datetime | None
    paid: int
    pay_times: list[datetime] = field(default_factory=list)
    pay_odds: list[float] = field(default_factory=list)  # P(paid by pay_times[i]), rising
    texts: list[datetime] = field(default_factory=list)  # SMS after the last event
    calls: list[tuple[datetime, int]] = field(default_factory=list)  # call tasks after it


class Paths:
    """The runs of one profile's accounts, each distinct timeline once."""

    def __init__(
        self,
        policy: Policy,
        model: BehaviourModel,
        account: PortfolioAccount,
        start: datetime,
        until: datetime,
    ) -> None:
        self.policy, self.model, self.start, self.until = policy, model, start, until
        self.account = account
        self.zone = ZoneInfo(account.time_zone)
        self.segment: Segment = model.segment(account.risk_segment)
        self.stand_in = account.amount_minor if _reads_balance(policy) else STAND_IN_MINOR
        self.nodes: dict[tuple[Ev, ...], Node] = {}
        # Each run starts from a copy of one fresh record (the policy, frozen, shared): building
        # the input again would validate the whole policy again.
        self.fresh = new_record(account.process_input(policy, self.stand_in), "sim", start)
        self.days = self._days()
        self.paid_off: dict[tuple[tuple[Ev, ...], datetime], Path] = {}

    def local(self, day: date, clock: time) -> datetime:
        return datetime.combine(day, clock, tzinfo=self.zone).astimezone(UTC)

    def node(self, timeline: tuple[Ev, ...]) -> Node:
        found = self.nodes.get(timeline)
        if found is None:
            found = self.nodes[timeline] = self._build(timeline)
        return found

    def run(self, timeline: tuple[Ev, ...]) -> Path:
        """The process on `timeline`: `workflows.simulation.run`, the workflow's own loop."""
        record = copy.deepcopy(self.fresh, {id(self.policy): self.policy})
        sim = run(record, messages(timeline, self.account.currency), self.start, self.until)
        return Path.of(sim, timeline)

    def run_for(self, account: PortfolioAccount, timeline: tuple[Ev, ...]) -> Path:
        """The process of `account` itself (its own product, balance) on `timeline`, from its own
        input as the API builds it: what `check` compares a walked path with."""
        record = new_record(account.process_input(self.policy, self.stand_in), "sim", self.start)
        sim = run(record, messages(timeline, account.currency), self.start, self.until)
        return Path.of(sim, timeline)

    def _days(self) -> list[tuple[datetime, float]]:
        """Each local day's payment instant in the simulated span, and its base hazard."""
        days = []
        day = self.start.astimezone(self.zone).date()
        while (at := self.local(day, self.model.payment_time)) <= self.until:
            if at > self.start:
                days.append((at, self.segment.hazard((day - self.account.due_date).days)))
            day += timedelta(days=1)
        return days

    def paid_in_full(self, node: Node, payment: Ev) -> Path:
        key = (node.timeline, payment.at)
        found = self.paid_off.get(key)
        if found is None:
            found = self.paid_off[key] = node.path.paid_off(payment)
        return found

    def _build(self, timeline: tuple[Ev, ...]) -> Node:
        path = self.run(timeline)
        paid = sum(ev.amount for ev in timeline if ev.kind == "pay")
        node = Node(timeline, path, path.finished_at, paid)
        last = timeline[-1].at if timeline else self.start
        node.texts = [c.at for c in path.contacts if c.channel == "sms" and c.at > last]
        calls = [c.at for c in path.contacts if c.channel == "call_task"]
        node.calls = [(at, n) for n, at in enumerate(calls, 1) if at > last]
        if paid < self.stand_in:
            self._payment_odds(node, max([last, *(_hold(ev, self) for ev in timeline)]))
        return node

    def _payment_odds(self, node: Node, after: datetime) -> None:
        """Days on which the customer may pay, with the odds of having paid by each."""
        end = min(self.until, node.finished_at or self.until)
        lifted = self._lifts(node)
        unpaid = 1.0
        first = bisect_right(self.days, after, key=lambda day: day[0])
        for at, base in self.days[first:]:
            if at > end:
                break
            hazard = base * lifted.get(at.astimezone(self.zone).date(), 1.0) if lifted else base
            unpaid *= 1.0 - min(1.0, hazard)
            node.pay_times.append(at)
            node.pay_odds.append(1.0 - unpaid)

    def _lifts(self, node: Node) -> dict[date, float]:
        """The day after each contact: the payment hazard's factor."""
        uplift = self.model.channel_uplift
        lifts: dict[date, float] = {}
        touched = {(c.at.astimezone(self.zone).date(), c.channel) for c in node.path.contacts}
        touched |= {
            (ev.at.astimezone(self.zone).date(), "call")
            for ev in node.timeline
            if ev.kind == "outcome" and ev.detail == CallOutcomeKind.REACHED.value
        }
        for day, channel in touched:
            factor = 1.0 + uplift.get("call" if channel == "call" else channel, 0.0)
            if channel != "call_task":  # a task is not a conversation: its outcome says
                following = day + timedelta(days=1)
                lifts[following] = lifts.get(following, 1.0) * factor
        return lifts


def _hold(ev: Ev, paths: Paths) -> datetime:
    """Until when the customer pays only as an event said (a promise, a plan)."""
    if ev.kind == "promise" and ev.day is not None:
        return paths.local(ev.day + timedelta(days=1), time.min)
    if ev.kind == "decide" and ev.plan:
        return paths.local(ev.plan[-1][0] + timedelta(days=1), time.min)
    return ev.at


def walk(paths: Paths, key: int) -> Path:
    """The account's run: its timeline grown one drawn event at a time."""
    timeline: tuple[Ev, ...] = ()
    for depth in range(MAX_EVENTS):
        node = paths.node(timeline)
        found = _next_events(paths, node, key, depth)
        if not found:
            return node.path
        if (
            len(found) == 1
            and found[0].kind == "pay"
            and found[0].amount + node.paid >= paths.stand_in
        ):
            return paths.paid_in_full(node, found[0])
        timeline += found
    return paths.node(timeline).path


def _next_events(paths: Paths, node: Node, key: int, depth: int) -> tuple[Ev, ...]:
    best: tuple[Ev, ...] = ()
    k = bisect_left(node.pay_odds, draw(key, PAYMENT, depth))
    if k < len(node.pay_odds):
        best = (Ev(node.pay_times[k], "pay", paths.stand_in - node.paid),)
    delay = timedelta(minutes=paths.model.call_outcome_after_minutes)
    for at, task in node.calls[:1]:
        when = at + delay
        if when <= paths.until and (not best or when < best[0].at):
            best = _call_events(paths, node, key, when, task)
    for at in node.texts:
        when = at + OPT_OUT_AFTER
        if when > paths.until or (best and when >= best[0].at):
            break
        if draw(key, OPT_OUT, int(at.timestamp())) < paths.model.sms_opt_out:
            best = (Ev(when, "opt_out"),)
            break
    return tuple(ev for ev in best if ev.at <= paths.until)


def _call_events(paths: Paths, node: Node, key: int, when: datetime, task: int) -> tuple[Ev, ...]:
    segment, stamp = paths.segment, int(when.timestamp())
    if draw(key, REACHED, stamp) >= segment.right_party_contact:
        return (Ev(when, "outcome", detail=CallOutcomeKind.NO_ANSWER.value, task=task),)
    reached = Ev(when, "outcome", detail=CallOutcomeKind.REACHED.value, task=task)
    left = paths.stand_in - node.paid
    answer = draw(key, ANSWER, stamp)
    today = when.astimezone(paths.zone).date()
    pay_time = paths.model.payment_time
    if answer < segment.promise:
        promised = today + timedelta(days=paths.model.promise_days)
        made = (reached, Ev(when + AFTER_CALL, "promise", left, day=promised))
        if draw(key, KEEPS, stamp) < segment.promise_keeping:
            return (*made, Ev(paths.local(promised, pay_time), "pay", left))
        return made
    if answer < segment.promise + segment.hardship:
        return (reached, *_plan(paths, key, when, left))
    return (reached,)


def _plan(paths: Paths, key: int, when: datetime, left: int) -> tuple[Ev, ...]:
    model = paths.model
    decided_on = when.astimezone(paths.zone).date() + timedelta(days=model.plan_decision_after_days)
    decided = max(paths.local(decided_on, DECISION_TIME), when + 2 * AFTER_CALL)
    count, every = model.plan_instalments, model.plan_every_days
    amounts = [left // count] * (count - 1) + [left - left // count * (count - 1)]
    first = decided.astimezone(paths.zone).date()
    plan = tuple((first + timedelta(days=every * (i + 1)), a) for i, a in enumerate(amounts))
    events = [Ev(when + AFTER_CALL, "hardship"), Ev(decided, "decide", plan=plan)]
    for i, (due, amount) in enumerate(plan):
        if draw(key, INSTALMENT, int(when.timestamp()) * 32 + i) >= paths.segment.plan_keeping:
            break
        events.append(Ev(paths.local(due, model.payment_time), "pay", amount))
    return tuple(events)
