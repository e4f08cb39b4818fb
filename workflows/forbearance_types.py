"""What forbearance, review deadlines and amount itemizations exchange and keep. Pure data.

- `Itemization`: what makes up an amount (principal, interest, fees by kind, payments so far),
  as the backend reports it with a start or a bill; minor units, no personal data.
- `ForbearanceDecision` (an agent's update) grants a settlement for less than the balance, a
  freeze of interest and fees, or a payment holiday; `ForbearanceRequested` (a signal from the
  borrower's self-service page or a backend) asks for one: a specialist reviews it.
- `ForbearanceRules` and `ReviewRules` are the policy's `forbearance` and `dispute_review`
  sections; both absent in policies (and snapshots) from before them: nothing changes there.

The rules are in `workflows.forbearance` and `workflows.review_deadlines`. Old histories carry
none of these, so every new field of the record, the inputs and the status defaults to None.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.messages import Message, text_id_field
from workflows.stages import CallQueue, NotifyKind

MAX_MINOR = 2**53 - 1  # as overdue.inputs: exact as a JSON number everywhere
FEE_KIND_PATTERN = r"^[a-z][a-z0-9_]{0,31}$"
MAX_FEES = 10
SEEN_REQUESTS = 20  # borrower request ids kept to recognise a redelivered one

_Minor = Field(ge=0, le=MAX_MINOR)


# --- itemization ------------------------------------------------------------------------


class Fee(Message):
    kind: str = Field(
        pattern=FEE_KIND_PATTERN, description="A code such as late_fee, annual_fee: no text."
    )
    amount_minor: int = _Minor


class Itemization(Message):
    """What makes up an amount due: principal + interest + fees - payments so far."""

    principal_minor: int = _Minor
    interest_minor: int = _Minor
    fees: tuple[Fee, ...] = Field(default=(), max_length=MAX_FEES)
    payments_minor: int = Field(default=0, ge=0, le=MAX_MINOR, description="Paid so far.")

    @model_validator(mode="after")
    def _one_fee_per_kind(self) -> Itemization:
        kinds = [f.kind for f in self.fees]
        repeated = sorted({k for k in kinds if kinds.count(k) > 1})
        if repeated:
            raise ValueError(f"each fee kind at most once; repeated: {', '.join(repeated)}")
        return self

    @property
    def total_minor(self) -> int:
        fees = sum(f.amount_minor for f in self.fees)
        return self.principal_minor + self.interest_minor + fees - self.payments_minor


def itemization_problem(itemization: Itemization | None, amount_minor: int) -> str | None:
    """Why `itemization` does not explain `amount_minor`, if it does not."""
    if itemization is None or itemization.total_minor == amount_minor:
        return None
    return (
        f"itemization adds up to {itemization.total_minor} (principal + interest + fees - "
        f"payments), but the amount due is {amount_minor}"
    )


class Itemized(Message):
    """A message with an amount and an optional itemization of it, which must add up."""

    _AMOUNT: ClassVar[str] = "amount_minor"

    @model_validator(mode="after")
    def _itemization_adds_up(self) -> Any:
        itemization = getattr(self, "itemization", None)
        problem = itemization_problem(itemization, getattr(self, self._AMOUNT))
        if problem:
            raise ValueError(problem)
        return self


def itemization_field() -> Any:
    return Field(
        default=None,
        description="What makes up the amount (workflows.forbearance_types.Itemization); "
        "None: not reported.",
    )


class ItemizationState(BaseModel):
    """The latest itemization reported, and for which bill (None: the start's)."""

    itemization: Itemization
    amount_minor: int
    bill_id: str | None = None
    reported_at: datetime


# --- policy sections ----------------------------------------------------------------------


class ForbearanceRules(BaseModel):
    """Policy section `forbearance`: what agents may grant. Absent: none may be granted."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    settlement_min_percent: int = Field(
        default=60, ge=1, le=99, description="Least a settlement may be, % of the balance."
    )
    settlement_max_days: int = Field(
        default=30, ge=1, le=365, description="Latest date to pay a settlement, days ahead."
    )
    settlement_grace_days: int = Field(
        default=2, ge=0, le=30, description="Days after that date before it lapses."
    )
    freeze_max_days: int = Field(
        default=90, ge=1, le=365, description="Longest freeze of interest and fees."
    )
    holiday_max_days: int = Field(
        default=30, ge=1, le=365, description="Longest payment holiday (contact paused)."
    )
    review_queue: CallQueue = Field(
        default=CallQueue.SPECIALIST, description="Where a borrower's request is reviewed."
    )
    review_priority: int = Field(default=80, ge=0, le=100)


class ReviewRules(BaseModel):
    """Policy section `dispute_review`: how long a dispute or objection may wait for review
    before a supervisor's task is created. Absent: no deadline (policies from before it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    business_days: int = Field(ge=1, le=60, description="In the account's rest-day calendar.")
    escalate_to: CallQueue = Field(default=CallQueue.SUPERVISOR)
    priority: int = Field(default=90, ge=0, le=100)


# --- messages -----------------------------------------------------------------------------


class ForbearanceKind(StrEnum):
    SETTLEMENT = "settlement"  # pay less than the balance by a date; the rest is written down
    FREEZE = "freeze"  # no interest or fees until a date (the backend applies it)
    HOLIDAY = "holiday"  # no collection contact until a date


class _Terms(Message):
    """The terms of a forbearance: which fields a kind takes is checked here."""

    kind: ForbearanceKind
    amount_minor: int | None = Field(
        default=None, gt=0, le=MAX_MINOR, description="settlement: the amount to pay."
    )
    pay_by: date | None = Field(default=None, description="settlement: the date to pay by.")
    until: date | None = Field(default=None, description="freeze, holiday: the last day.")

    @model_validator(mode="after")
    def _fields_of_kind(self) -> Any:
        settlement = self.kind == ForbearanceKind.SETTLEMENT
        if not isinstance(self, ForbearanceRequested):  # a borrower may leave terms open
            if settlement and (self.amount_minor is None or self.pay_by is None):
                raise ValueError("a settlement needs amount_minor and pay_by")
            if not settlement and self.until is None:
                raise ValueError(f"a {self.kind.value} needs until")
        if settlement and self.until is not None:
            raise ValueError("until is for a freeze or a holiday, not a settlement")
        if not settlement and (self.amount_minor is not None or self.pay_by is not None):
            raise ValueError(f"amount_minor and pay_by are for a settlement, not a {self.kind}")
        return self


class ForbearanceDecision(_Terms):
    """An agent grants a forbearance (an update, validated against the policy's limits), or,
    with `approve` false, turns down the borrower's request `request_id`."""

    actor: str = Field(min_length=1, max_length=64)
    approve: bool = True
    request_id: str | None = Field(
        default=None, pattern=r"^[A-Za-z0-9_.:-]{1,128}$", description="The request answered."
    )
    text_id: str | None = text_id_field()


class ForbearanceRequested(_Terms):
    """A borrower asks for a forbearance (a signal: durable, deduplicated by `request_id`);
    a review task goes to the policy's review queue. Terms are what they proposed, if any."""

    request_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    text_id: str | None = text_id_field()


class EndReason(StrEnum):
    """Why a holiday or a freeze ends before its `until` (a code: no free text)."""

    BORROWER_ASKED = "borrower_asked"  # the borrower asks to resume
    GRANTED_IN_ERROR = "granted_in_error"
    OTHER = "other"  # the note says


class ForbearanceEnd(Message):
    """An agent or a backend ends a running payment holiday or freeze now (an update;
    `workflows.forbearance_end`). Old histories never carry it."""

    actor: str = Field(min_length=1, max_length=64)
    kind: ForbearanceKind
    reason: EndReason
    text_id: str | None = text_id_field()

    @model_validator(mode="after")
    def _a_period(self) -> ForbearanceEnd:
        if self.kind == ForbearanceKind.SETTLEMENT:
            raise ValueError(
                "only a holiday or a freeze ends early; a settlement is paid or lapses"
            )
        return self


# --- what the record keeps ----------------------------------------------------------------


class SettlementState(BaseModel):
    amount_minor: int  # to pay from the agreement on
    pay_by: date
    balance_at_agreement: int
    paid_since_minor: int = 0
    agreed_at: datetime
    actor: str

    @property
    def write_down_minor(self) -> int:
        return self.balance_at_agreement - self.amount_minor


class PeriodState(BaseModel):
    """A freeze or a holiday: from `since` to the end of local day `until`."""

    until: date
    since: datetime
    actor: str


class PendingRequest(BaseModel):
    request_id: str
    kind: ForbearanceKind
    since: datetime


class ForbearanceNotice(BaseModel):
    """A notice for the backend (the notify webhook) the workflow still owes."""

    notice_id: str  # its stage id in the contact ledger, e.g. forbearance_settlement_3
    kind: NotifyKind
    amount_minor: int | None = None  # the write-down
    until: date | None = None  # a freeze's last day (its end's: now the day it ended)


class ForbearanceState(BaseModel):
    settlement: SettlementState | None = None
    freeze: PeriodState | None = None
    holiday: PeriodState | None = None
    pending: list[PendingRequest] = Field(default_factory=list)
    seen: list[str] = Field(default_factory=list, description="Borrower request ids applied.")
    notices: list[ForbearanceNotice] = Field(default_factory=list, description="Still owed.")
    written_down_minor: int = 0


class ReviewDeadline(BaseModel):
    """A dispute (or objection) waiting for review, and when it escalates."""

    dispute_id: str
    opened_at: datetime
    deadline: datetime
    escalated: bool = False
