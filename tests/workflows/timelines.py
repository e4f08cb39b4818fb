"""Random timelines of what backends, ops and agents send an account's workflow, for the parity
test (test_simulation_parity.py): drawn relative to the process start, made into messages
(`workflows.handlers.Message`) once the start instant is known.

Times are chosen so that no event can coincide with anything the process does by itself. The
process starts 17 s past a minute; stages, windows, deadlines and graces fall on whole minutes
(the catch-up grace's look-again one second after); and event `n` of a timeline comes at
`SECONDS[n]` past its minute, a second no other event uses. A contact an event brings about,
and caps counted from it, keep that event's second. So the workflow (which receives an event
some milliseconds after its instant) and the simulator (exactly at it) see the same order.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from workflows import handlers
from workflows.consent import ConsentChanged, ConsentChannel, ConsentSource
from workflows.customer_state import (
    UNTIL_MIDNIGHT,
    ContactPreferences,
    InconvenientTime,
    VulnerabilityCategory,
    VulnerabilityChange,
)
from workflows.forbearance_types import (
    EndReason,
    ForbearanceDecision,
    ForbearanceEnd,
    ForbearanceKind,
    ForbearanceRequested,
)
from workflows.handlers import Message
from workflows.policy import Policy
from workflows.types import (
    CallOutcome,
    CallOutcomeKind,
    ContactCeased,
    DisputeClosed,
    DisputeOpened,
    Escalation,
    HardshipDecision,
    HardshipReported,
    Instalment,
    OverdueAmountReported,
    PauseRequest,
    PaymentReported,
    PromiseToPay,
    ResumeRequest,
    RevocationDecision,
    RevocationRequested,
    SmsConsentChanged,
)

START_SECOND = 17  # the process starts this many seconds past a minute
SECONDS = (5, 11, 23, 29, 35, 41, 47, 53)  # event n's second past its minute
UNTIL = timedelta(days=75, seconds=39)  # how long after the start a run is watched (:56)
CURRENCY = "CNY"

KINDS = (
    "pay_part",
    "pay_full",
    "pay_again",  # a payment id sent again
    "bill",
    "promise",
    "hardship",
    "hardship_again",  # the first report id again
    "decide",
    "dispute",
    "close_dispute",
    "pause",
    "resume",
    "opt_out",
    "opt_in",
    "cease",
    "call",
    "escalate",
    "vulnerability",  # flag: mark (a category from size), else clear
    "preferences",  # one inconvenient time from size and days; a refused channel from size
    "revocation",  # a free-text request to stop SMS (flag: one id, so a redelivery)
    "decide_revocation",  # flag: confirm
    "consent",  # flag: grant, else withdraw; a channel from size, given size hours before
    "forbear",  # an agent's forbearance: kind from size, a date from days; flag: answers f0
    "ask_forbearance",  # the borrower asks (flag: one id, so a redelivery)
    "end_forbearance",  # an agent ends the running holiday (flag) or freeze now
)


@dataclass(frozen=True)
class Planned:
    """One thing sent to the process, `minute` minutes after its start's minute. What `size`,
    `days` and `flag` mean depends on `kind` (see `_build`)."""

    minute: int
    kind: str
    size: int  # a percent of the balance, hours to a callback, an amount in units
    days: tuple[int, ...]  # days after the event's local date: a promised date, instalments
    flag: bool  # by ops (a signal) or a supervisor (an update); approve; which dispute


@st.composite
def planned(draw: st.DrawFn) -> Planned:
    return Planned(
        minute=draw(st.integers(1, UNTIL.days * 24 * 60)),
        kind=draw(st.sampled_from(KINDS)),
        size=draw(st.integers(1, 120)),
        days=tuple(draw(st.lists(st.integers(-1, 25), min_size=1, max_size=3))),
        flag=draw(st.booleans()),
    )


def timelines() -> st.SearchStrategy[list[Planned]]:
    return st.lists(planned(), max_size=len(SECONDS)).map(
        lambda items: sorted(items, key=lambda p: p.minute)
    )


# Two timelines that go through what random ones seldom reach (the parity test's explicit
# examples), on a policy with every feature.
DAY = 24 * 60  # minutes
FEATURED = Policy.model_validate(
    {
        "id": "parity",
        "version": 1,
        "contact_windows": {"default": {"start": "08:00", "end": "21:00"}},
        "caps": {"sms_per_day": 1, "sms_per_week": 3},
        "promise": {"max_days": 14, "min_percent": 10, "grace_days": 2},
        "hardship": {"reminder_template": "t", "reminder_before": "2d", "grace_days": 3},
        "broken_promise_stage": "d7_sms",
        "final_stage": "d60_legal",
        "forbearance": {"settlement_min_percent": 50, "holiday_max_days": 10},
        "dispute_review": {"business_days": 2},
        "stages": [
            {"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {"id": "d2_call", "offset": "2d", "channel": "call_task", "queue": "general"},
            {"id": "d7_sms", "offset": "7d", "channel": "sms", "template": "t", "send_at": "10:00"},
            {"id": "d15_call", "offset": "15d", "channel": "call_task", "queue": "general"},
            {"id": "d60_legal", "offset": "60d", "channel": "notify", "kind": "legal_handover"},
        ],
        "templates": {"t": {"en": "Hi. Reply STOP to opt out."}},
    }
)
# A plan approved and reminded, then broken (the broken-promise stage acts again); an ops
# pause sent twice (the second ignored, and noted), a pause update while paused (rejected), a
# resume; a promise made and broken.
PLAN_BROKEN = [
    Planned(3 * DAY, "hardship", 1, (0,), False),
    Planned(4 * DAY, "decide", 1, (10, 10, 10), True),
    Planned(5 * DAY, "pause", 1, (0,), True),
    Planned(5 * DAY + 1, "pause", 1, (0,), True),
    Planned(6 * DAY, "pause", 1, (0,), False),
    Planned(6 * DAY + 1, "resume", 1, (0,), False),
    Planned(16 * DAY, "pay_part", 34, (0,), False),
    Planned(40 * DAY, "promise", 50, (3,), False),
]
# Call outcomes (a callback, one too far ahead, a complaint), an escalation refused once
# escalated, a dispute opened and closed, an SMS opt-out, and the balance paid in full.
AGENTS_AND_BACKENDS = [
    Planned(2 * DAY + 600, "call", 5, (2,), True),
    Planned(2 * DAY + 601, "call", 5, (24,), False),
    Planned(3 * DAY, "call", 4, (0,), False),
    Planned(3 * DAY + 1, "escalate", 1, (0,), False),
    Planned(4 * DAY, "dispute", 1, (0,), False),
    Planned(9 * DAY, "close_dispute", 1, (0,), False),
    Planned(10 * DAY, "opt_out", 1, (0,), False),
    Planned(20 * DAY, "pay_full", 1, (0,), False),
]
# Free-text revocations: one rejected after a day (SMS resume), one redelivered and then left
# undecided past its 10 business days (escalated, SMS still stopped), then confirmed.
REVOCATIONS = [
    Planned(DAY // 2, "revocation", 1, (0,), False),
    Planned(2 * DAY, "decide_revocation", 1, (0,), False),
    Planned(3 * DAY, "revocation", 1, (0,), True),
    Planned(3 * DAY + 1, "revocation", 1, (0,), True),
    Planned(25 * DAY, "decide_revocation", 1, (0,), True),
    Planned(26 * DAY, "decide_revocation", 1, (0,), True),
]

# Forbearance: a holiday asked for and granted (contact paused, then resumed), a freeze, a
# dispute left unreviewed past its two business days (a supervisor's task) and closed later,
# then a settlement agreed and paid (the rest written down: the account resolves).
FORBEARANCE = [
    Planned(DAY // 2, "ask_forbearance", 2, (0,), True),
    Planned(DAY // 2 + 1, "ask_forbearance", 2, (0,), True),
    Planned(DAY, "forbear", 2, (3,), True),
    Planned(2 * DAY, "forbear", 1, (40,), False),
    Planned(5 * DAY, "dispute", 1, (0,), False),
    Planned(14 * DAY, "close_dispute", 1, (0,), False),
    Planned(20 * DAY, "forbear", 75, (10,), False),
    Planned(24 * DAY, "pay_part", 90, (0,), False),
]

# Ended early: a holiday of ten days and a freeze granted, the holiday ended on day 3 (contact
# resumes at once; ending it again is refused), the freeze on day 5 (reported once).
FORBEARANCE_ENDED = [
    Planned(DAY, "forbear", 2, (10,), False),
    Planned(DAY + 5, "forbear", 1, (40,), False),
    Planned(3 * DAY, "end_forbearance", 0, (0,), True),
    Planned(3 * DAY + 1, "end_forbearance", 0, (0,), True),
    Planned(5 * DAY, "end_forbearance", 0, (0,), False),
]


@dataclass
class _Account:
    """What the timeline knows of the account while it is made: its balance, and ids used."""

    balance: int
    payments: list[str]
    zone: str


def process_start(minute: datetime) -> datetime:
    return minute.replace(second=START_SECOND, microsecond=0)


def messages(
    timeline: list[Planned], start: datetime, zone: str, amount: int
) -> list[tuple[datetime, Message[Any]]]:
    """The timeline as messages at their instants, after a process that started at `start`."""
    base = start.replace(second=0, microsecond=0)
    account = _Account(balance=amount, payments=[], zone=zone)
    made: list[tuple[datetime, Message[Any]]] = []
    for n, item in enumerate(timeline):
        at = base + timedelta(minutes=item.minute, seconds=SECONDS[n])
        made.append((at, _build(item, n, at, account)))
    return made


def _build(item: Planned, n: int, at: datetime, account: _Account) -> Message[Any]:
    today = at.astimezone(ZoneInfo(account.zone)).date()
    kind = item.kind
    if kind.startswith("pay"):
        return _payment(item, n, at, account)
    if kind == "bill":
        account.balance += item.size * 1_000
        bill = OverdueAmountReported(
            bill_id=f"b{n}", amount_minor=item.size * 1_000, currency=CURRENCY, due_date=today
        )
        return Message(handlers.REPORT_OVERDUE_AMOUNT, bill)
    if kind == "promise":
        promise = PromiseToPay(
            actor="agent-1",
            amount_minor=max(1, account.balance * item.size // 100),
            promised_date=today + timedelta(days=item.days[0]),
        )
        return Message(handlers.PROMISE_TO_PAY, promise)
    if kind.startswith("hardship"):
        report_id = "h0" if kind == "hardship_again" else f"h{n}"
        report = HardshipReported(report_id=report_id, reason="job loss", reported_at=at)
        return Message(handlers.REPORT_HARDSHIP, report)
    if kind == "decide":
        return Message(handlers.DECIDE_HARDSHIP, _decision(item, today, account.balance))
    if kind in ("forbear", "ask_forbearance"):
        return _forbearance(item, n, today, account.balance)
    if kind == "end_forbearance":
        period = ForbearanceKind.HOLIDAY if item.flag else ForbearanceKind.FREEZE
        end = ForbearanceEnd(actor="agent-1", kind=period, reason=EndReason.BORROWER_ASKED)
        return Message(handlers.END_FORBEARANCE, end)
    if kind in ("dispute", "close_dispute"):
        dispute_id = f"d{int(item.flag)}"
        if kind == "dispute":
            return Message(handlers.OPEN_DISPUTE, DisputeOpened(dispute_id=dispute_id, reason="r"))
        closed = DisputeClosed(dispute_id=dispute_id, resolution="valid debt")
        return Message(handlers.CLOSE_DISPUTE, closed)
    return _request(item, n, at)


def _payment(item: Planned, n: int, at: datetime, account: _Account) -> Message[Any]:
    if item.kind == "pay_again" and account.payments:
        payment_id = account.payments[item.size % len(account.payments)]
        amount = 1  # a replayed id: the amount does not matter, nothing changes
    else:
        payment_id = f"p{n}"
        share = 100 if item.kind == "pay_full" else min(item.size, 90)
        amount = max(1, account.balance * share // 100)
        account.balance = max(0, account.balance - amount)
        account.payments.append(payment_id)
    payment = PaymentReported(
        payment_id=payment_id, amount_minor=amount, currency=CURRENCY, paid_at=at
    )
    return Message(handlers.REPORT_PAYMENT, payment)


def _decision(item: Planned, today: date, balance: int) -> HardshipDecision:
    """Approved: instalments that add up to the balance the timeline expects by then, dated from
    `days` (made increasing; the first may be in the past)."""
    if not item.flag:
        return HardshipDecision(actor="spec-1", approve=False, reason="income verified")
    count = max(1, min(len(item.days), balance))
    offsets = [item.days[0]]
    for step in item.days[1:count]:
        offsets.append(offsets[-1] + 1 + abs(step))
    share, rest = divmod(max(balance, count), count)
    plan = [
        Instalment(
            due_date=today + timedelta(days=offset),
            amount_minor=share + (rest if index == count - 1 else 0),
        )
        for index, offset in enumerate(offsets)
    ]
    return HardshipDecision(actor="spec-1", approve=True, plan=plan)


def _forbearance(item: Planned, n: int, today: date, balance: int) -> Message[Any]:
    """A settlement of 40-99% of the balance by a date, or a freeze or a holiday until one
    (in the past or beyond the limits: rejected); a borrower's request of that kind."""
    kind = list(ForbearanceKind)[item.size % len(ForbearanceKind)]
    request_id = "f0" if item.flag else f"f{n}"
    if item.kind == "ask_forbearance":
        return Message(
            handlers.REQUEST_FORBEARANCE, ForbearanceRequested(request_id=request_id, kind=kind)
        )
    day = today + timedelta(days=item.days[0])
    terms: dict[str, Any] = {"until": day}
    if kind == ForbearanceKind.SETTLEMENT:
        terms = {"amount_minor": max(1, balance * (40 + item.size % 60) // 100), "pay_by": day}
    decision = ForbearanceDecision(
        actor="agent-1", kind=kind, request_id="f0" if item.flag else None, **terms
    )
    return Message(handlers.DECIDE_FORBEARANCE, decision)


def _request(item: Planned, n: int, at: datetime) -> Message[Any]:
    kind = item.kind
    if kind == "pause":
        pause = PauseRequest(actor="ops" if item.flag else "sup-1", reason="review")
        return Message(handlers.PAUSE_BY_OPS if item.flag else handlers.PAUSE, pause)
    if kind == "resume":
        resume = ResumeRequest(actor="ops" if item.flag else "sup-1", reason="done")
        return Message(handlers.RESUME_BY_OPS if item.flag else handlers.RESUME, resume)
    if kind in ("opt_out", "opt_in"):
        change = SmsConsentChanged(opted_out=kind == "opt_out", source="inbound_sms")
        return Message(handlers.SMS_CONSENT_CHANGED, change)
    if kind == "consent":
        change = ConsentChanged(
            channel=list(ConsentChannel)[item.size % len(ConsentChannel)],
            granted=item.flag,
            source=ConsentSource.APP_SETTINGS,
            at=at - timedelta(hours=item.size),
            actor="backend",
        )
        return Message(handlers.CONSENT_CHANGED, change)
    if kind == "cease":
        ceased = ContactCeased(request_id=f"c{n}", reason="asked")
        return Message(handlers.CEASE_CONTACT, ceased)
    if kind == "revocation":
        request = RevocationRequested(request_id="SMrepeated" if item.flag else f"SM{n}")
        return Message(handlers.REVOCATION_REQUESTED, request)
    if kind == "decide_revocation":
        decision = RevocationDecision(actor="agent-1", confirm=item.flag)
        return Message(handlers.DECIDE_REVOCATION, decision)
    if kind == "escalate":
        escalation = Escalation(actor="agent-1", reason="refuses to pay")
        return Message(handlers.ESCALATE, escalation)
    if kind in ("vulnerability", "preferences"):
        return _customer(item)
    assert kind == "call", kind
    outcome = list(CallOutcomeKind)[item.size % len(CallOutcomeKind)]
    callback = outcome is CallOutcomeKind.CALLBACK_REQUESTED
    call = CallOutcome(
        actor="agent-1",
        task_id=1 if item.flag else None,
        outcome=outcome,
        # From 14 hours before to 16 days after: in the past or beyond 14 days, rejected.
        callback_at=at + timedelta(hours=item.days[0] * 15 + 1) if callback else None,
    )
    return Message(handlers.RECORD_CALL_OUTCOME, call)


def _customer(item: Planned) -> Message[Any]:
    if item.kind == "vulnerability":
        category = list(VulnerabilityCategory)[item.size % len(VulnerabilityCategory)]
        change = VulnerabilityChange(
            actor="agent-1", vulnerable=item.flag, category=category if item.flag else None
        )
        return Message(handlers.SET_VULNERABILITY, change)
    start = 7 + item.size % 14  # 07:00 to 20:00, one to four hours long
    end = start + 1 + item.days[0] % 4
    inconvenient = InconvenientTime(
        weekdays=tuple(sorted({d % 7 for d in item.days})),
        start=time(start),
        end=UNTIL_MIDNIGHT if end >= 24 else time(end),
    )
    refused = (("sms",), ("call",), ())[item.size % 3] if item.flag else ()
    prefs = ContactPreferences(
        actor="agent-1", inconvenient_times=(inconvenient,), refused_channels=refused
    )
    return Message(handlers.SET_CONTACT_PREFERENCES, prefs)
