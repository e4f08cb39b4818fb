"""Requests from agents, supervisors and ops: the workflow's updates (validated, then answered
with the new status) and the pause / resume its batch signals carry."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import AwareDatetime, Field

from workflows.messages import Message, legacy_text_field, text_id_field


class CallOutcomeKind(StrEnum):
    REACHED = "reached"
    NO_ANSWER = "no_answer"
    WRONG_NUMBER = "wrong_number"
    REFUSED = "refused"
    COMPLAINT = "complaint"
    CALLBACK_REQUESTED = "callback_requested"


class CallOutcome(Message):
    actor: str = Field(min_length=1, max_length=64, description="Agent id.")
    task_id: int | None = None
    outcome: CallOutcomeKind
    callback_at: AwareDatetime | None = Field(
        default=None, description="Required for callback_requested."
    )
    note: str = legacy_text_field(1000)
    text_id: str | None = text_id_field()


class PromiseToPay(Message):
    actor: str = Field(min_length=1, max_length=64)
    amount_minor: int = Field(gt=0)
    promised_date: date


class Instalment(Message):
    due_date: date
    amount_minor: int = Field(gt=0)


class HardshipDecision(Message):
    actor: str = Field(min_length=1, max_length=64)
    approve: bool
    plan: list[Instalment] = Field(
        default_factory=list, description="Instalments, required when approving."
    )
    reason: str = legacy_text_field()
    text_id: str | None = text_id_field()


class Escalation(Message):
    actor: str = Field(min_length=1, max_length=64)
    reason: str = legacy_text_field()
    text_id: str | None = text_id_field()


class PauseRequest(Message):
    actor: str = Field(min_length=1, max_length=64)
    reason: str = legacy_text_field()
    text_id: str | None = text_id_field()


class ResumeRequest(Message):
    actor: str = Field(min_length=1, max_length=64)
    reason: str = legacy_text_field()
    text_id: str | None = text_id_field()
