"""Ending a holiday or a freeze early (workflows/forbearance_end.py), through the handlers
table and the simulator the workflow shares: refused with the reason and nothing changed when
none is running, a holiday's pause ends at once, a freeze's end is reported once."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from tests.workflows.test_forbearance_core import DUE, NOW, decide, local, record
from workflows import handlers
from workflows.forbearance_types import EndReason, ForbearanceEnd, ForbearanceKind
from workflows.handlers import Message, receive
from workflows.simulation import run
from workflows.stages import NotifyKind, Stage
from workflows.types import AccountRecord, PaymentReported


def end(kind: str, reason: str = "borrower_asked") -> Message[Any]:
    return Message(
        handlers.END_FORBEARANCE,
        ForbearanceEnd(actor="agent-2", kind=ForbearanceKind(kind), reason=EndReason(reason)),
    )


def granted(kind: str, until: date) -> AccountRecord:
    rec = record()
    assert receive(rec, decide(kind=kind, until=until), NOW).rejected is None
    return rec


@pytest.mark.parametrize(
    ("rec", "kind", "at", "reason"),
    [
        (record(), "holiday", NOW, "no payment holiday is running on this account"),
        (record(), "freeze", NOW, "no freeze of interest and fees is running on this account"),
        # Over at the end of its last local day: nothing left to end.
        (
            granted("holiday", DUE + timedelta(days=2)),
            "holiday",
            local(DUE + timedelta(days=3), time(0)),
            "no payment holiday is running",
        ),
        # A freeze running does not make a holiday running, and the other way round.
        (granted("freeze", DUE + timedelta(days=30)), "holiday", NOW, "no payment holiday"),
        (granted("holiday", DUE + timedelta(days=3)), "freeze", NOW, "no freeze of interest"),
    ],
)
def test_nothing_running_is_refused_and_changes_nothing(
    rec: AccountRecord, kind: str, at: datetime, reason: str
) -> None:
    before = rec.model_copy(deep=True)
    receipt = receive(rec, end(kind), at)
    assert receipt.rejected is not None and reason in receipt.rejected, receipt.rejected
    assert rec == before


def test_a_finished_account_is_refused() -> None:
    rec = granted("holiday", DUE + timedelta(days=5))
    paid = PaymentReported(
        payment_id="p-1", amount_minor=rec.balance_minor, currency="CNY", paid_at=NOW
    )
    assert receive(rec, handlers.signal_of(paid), NOW).changed and rec.finished
    receipt = receive(rec, end("holiday"), NOW)
    assert receipt.rejected is not None and "nothing more can be recorded" in receipt.rejected


def test_a_settlement_is_not_ended_early() -> None:
    with pytest.raises(ValidationError, match="only a holiday or a freeze ends early"):
        ForbearanceEnd(actor="a", kind=ForbearanceKind.SETTLEMENT, reason=EndReason.OTHER)
    with pytest.raises(ValidationError):
        ForbearanceEnd.model_validate({"actor": "a", "kind": "holiday", "reason": "because"})


def test_ending_a_holiday_lets_the_next_decision_contact_at_once() -> None:
    until = DUE + timedelta(days=10)
    ended_at = local(DUE + timedelta(days=2), time(11))  # a Friday, in calling hours
    events: list[tuple[datetime, Any]] = [
        (NOW, decide(kind="holiday", until=until)),
        (ended_at, end("holiday")),
    ]
    sim = run(record(), events, NOW, local(DUE + timedelta(days=3), time(8)))
    # d1_sms and d2_call came due in the holiday: the latest acts once it ends, no burst.
    assert [(c.stage_id, c.at) for c in sim.contacts] == [("d2_call", ended_at)]
    fb = sim.record.forbearance
    assert fb is not None and fb.holiday is None and fb.notices == []
    assert any("ended early by agent-2 (borrower_asked)" in n for n in sim.record.history)


def test_ending_a_freeze_reports_it_once_and_contact_goes_on() -> None:
    ended_at = local(DUE + timedelta(days=1), time(15))
    events: list[tuple[datetime, Any]] = [
        (NOW, decide(kind="freeze", until=DUE + timedelta(days=60))),
        (ended_at, end("freeze", "granted_in_error")),
        (ended_at + timedelta(minutes=1), end("freeze")),  # refused: already ended
    ]
    sim = run(record(), events, NOW, local(DUE + timedelta(days=3)))
    kinds = [(n.kind, n.until) for _, n in sim.notices]
    assert kinds == [
        (NotifyKind.INTEREST_FREEZE, DUE + timedelta(days=60)),
        (NotifyKind.INTEREST_FREEZE_ENDED, DUE + timedelta(days=1)),
    ]
    assert len({n.notice_id for _, n in sim.notices}) == 2  # each its own ledger key
    fb = sim.record.forbearance
    assert fb is not None and fb.freeze is None and fb.notices == []
    assert [c.stage_id for c in sim.contacts][:2] == ["d1_sms", "d2_call"]  # as without it


def test_a_stage_may_not_use_the_end_kind() -> None:
    with pytest.raises(ValidationError, match="reported by the workflow"):
        Stage.model_validate(
            {"id": "x", "offset": "1d", "channel": "notify", "kind": "interest_freeze_ended"}
        )
