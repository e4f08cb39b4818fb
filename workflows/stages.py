"""A policy's stages: what each reminder step sends, through which channel, and to whom.

Pure data with validation; no I/O.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workflows.durations import Duration, LocalTime, StageEnd


class Channel(StrEnum):
    SMS = "sms"
    CALL_TASK = "call_task"
    NOTIFY = "notify"  # a webhook to the backend, which sends through its own channels


class NotifyKind(StrEnum):
    APP_NOTICE = "app_notice"
    EMAIL = "email"
    LETTER = "letter"
    CREDIT_RESTRICTION = "credit_restriction"
    LEGAL_HANDOVER = "legal_handover"
    # Reported by the workflow itself, never a stage's kind (workflows.forbearance).
    SETTLEMENT_WRITE_DOWN = "settlement_write_down"
    INTEREST_FREEZE = "interest_freeze"
    INTEREST_FREEZE_ENDED = "interest_freeze_ended"  # a freeze ended before its `until`


# The kinds the workflow reports itself (workflows.forbearance, workflows.forbearance_end).
WORKFLOW_NOTICES = frozenset(
    {NotifyKind.SETTLEMENT_WRITE_DOWN, NotifyKind.INTEREST_FREEZE, NotifyKind.INTEREST_FREEZE_ENDED}
)


class CallQueue(StrEnum):
    GENERAL = "general"
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"


class Conditions(BaseModel):
    """A stage applies only to accounts that meet all of these (unset: no condition)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_balance_minor: int | None = Field(default=None, ge=0)
    products: tuple[str, ...] | None = None
    risk_segments: tuple[str, ...] | None = None


class Stage(BaseModel):
    """One reminder step, at `offset` from the policy's anchor (the due date by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]{0,62}$")
    offset: Duration
    channel: Channel
    template: str | None = Field(default=None, description="Message template id (sms, notify).")
    queue: CallQueue | None = Field(default=None, description="Agent queue (call_task).")
    kind: NotifyKind | None = Field(default=None, description="What the backend sends (notify).")
    priority: int = Field(default=0, ge=0, le=100)
    send_at: LocalTime | None = Field(
        default=None, description="Preferred local time on the stage's day, e.g. '10:00'."
    )
    when: Conditions = Field(default_factory=Conditions)
    until: StageEnd | None = Field(
        default=None,
        description="When the stage ends (never acts after): a duration from the anchor ('0d', "
        "'5d') or 'next_stage'. Unset: a pre-due stage ends at the anchor, others never end.",
    )

    @model_validator(mode="after")
    def _channel_fields(self) -> Stage:
        if self.channel is Channel.SMS and not self.template:
            raise ValueError("an sms stage needs a 'template'")
        if self.channel is Channel.CALL_TASK and self.queue is None:
            raise ValueError("a call_task stage needs a 'queue' (general, specialist, supervisor)")
        if self.channel is Channel.NOTIFY and self.kind is None:
            raise ValueError(
                "a notify stage needs a 'kind' (app_notice, email, letter, credit_restriction, "
                "legal_handover)"
            )
        if self.kind in WORKFLOW_NOTICES:
            raise ValueError(f"kind {self.kind.value!r} is reported by the workflow, not a stage")
        if self.channel is not Channel.CALL_TASK and self.queue is not None:
            raise ValueError("'queue' is for call_task stages only")
        if self.channel is not Channel.NOTIFY and self.kind is not None:
            raise ValueError("'kind' is for notify stages only")
        return self

    @property
    def label(self) -> str:
        """How the stage reads in the Temporal UI, e.g. 'D+1 sms (d1_sms)'."""
        what = self.kind.value if self.kind else self.channel.value
        return f"{offset_label(self.offset)} {what} ({self.id})"

    def applies_to(self, *, balance_minor: int, product: str, risk_segment: str | None) -> bool:
        when = self.when
        if when.min_balance_minor is not None and balance_minor < when.min_balance_minor:
            return False
        if when.products is not None and product not in when.products:
            return False
        return when.risk_segments is None or risk_segment in when.risk_segments


def offset_label(offset: timedelta) -> str:
    sign = "-" if offset < timedelta(0) else "+"
    magnitude = abs(offset)
    if magnitude % timedelta(days=1) == timedelta(0):
        return f"D{sign}{magnitude.days}"
    seconds = int(magnitude.total_seconds())
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    text = "".join(f"{n}{u}" for n, u in ((hours, "h"), (minutes, "m"), (secs, "s")) if n)
    return f"T{sign}{text}"
