"""What the decision core can answer: the steps `workflows.decisions.next_step` returns.

Pure data; re-exported by `workflows.decisions`, where they are decided.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from workflows.policy import Stage
from workflows.review_deadlines import ReviewOverdue as ReviewOverdue
from workflows.revocation import RevocationOverdue


@dataclass(frozen=True)
class Act:
    """Act on `stage` now. `stage` is the latest due stage, or an earlier due stage that came
    due within the policy's `catch_up_grace` (a short outage or backlog): those act first, oldest
    first, one per step, before the latest. `skipped` are earlier due stages that came due more
    than `catch_up_grace` ago (late start, end of a pause) and are passed over: no burst.
    `not_applicable` are due stages whose conditions the account fails. `stage` may be the
    written notice, acting ahead of the call stage that was due (workflows/stage_validity.py)."""

    stage: Stage
    skipped: tuple[Stage, ...] = ()
    not_applicable: tuple[Stage, ...] = ()


@dataclass(frozen=True)
class Suppress:
    """The stage's time has come but its channel is closed for this customer."""

    stage: Stage
    reason: str
    skipped: tuple[Stage, ...] = ()
    not_applicable: tuple[Stage, ...] = ()


@dataclass(frozen=True)
class PassOver:
    """Due stages whose conditions the account fails (nothing else is due), or whose end has
    come (`expired`: passed over first, whatever else is due; workflows/stage_validity.py)."""

    stages: tuple[Stage, ...]
    expired: tuple[Stage, ...] = ()


@dataclass(frozen=True)
class RemindInstalment:
    index: int


@dataclass(frozen=True)
class BreakPromise:
    pass


@dataclass(frozen=True)
class BreakPlan:
    pass


@dataclass(frozen=True)
class PlanCompleted:
    pass


@dataclass(frozen=True)
class SettlementLapsed:
    """A settlement's date plus grace passed unpaid (workflows.forbearance)."""


@dataclass(frozen=True)
class WaitUntil:
    at: datetime
    label: str
    stage: Stage | None = None


@dataclass(frozen=True)
class WaitForEvents:
    reason: str


@dataclass(frozen=True)
class Finished:
    pass


Step = (
    Act
    | Suppress
    | PassOver
    | RemindInstalment
    | BreakPromise
    | BreakPlan
    | PlanCompleted
    | WaitUntil
    | WaitForEvents
    | Finished
    | RevocationOverdue
    | ReviewOverdue
    | SettlementLapsed
)
