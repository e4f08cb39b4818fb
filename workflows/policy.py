"""Reminder policy: the stages of an account's process and the messages they send.

Pure data with validation; no I/O. Files are read by `overdue.policy_files`.
"""

from __future__ import annotations

import re
import string
from datetime import timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

# Placeholders a template may use. Rendering happens in activities, where contacts are read.
TEMPLATE_FIELDS = frozenset({"name", "amount", "currency", "due_date", "days_past_due"})

_SHORT_DURATION = re.compile(
    r"^(?P<sign>[+-]?)(?:(?P<d>\d+)d)?(?:(?P<h>\d+)h)?(?:(?P<m>\d+)m)?(?:(?P<s>\d+)s)?$"
)


def parse_duration(value: Any) -> Any:
    """Accept '1d', '-3d', '2h30m', '45s' (and ISO 8601, which is how the model serialises)."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool) or isinstance(value, int | float):
        raise ValueError("write a duration with a unit, like '1d', '-3d', '12h' or '90s'")
    if isinstance(value, str):
        match = _SHORT_DURATION.match(value.strip())
        if match and any(match.group(unit) for unit in "dhms"):
            parts = {unit: int(match.group(unit) or 0) for unit in "dhms"}
            delta = timedelta(
                days=parts["d"], hours=parts["h"], minutes=parts["m"], seconds=parts["s"]
            )
            return -delta if match.group("sign") == "-" else delta
    return value  # ISO 8601 ('P1D', '-P3D') is left to pydantic, which names the error


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]


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


class CallQueue(StrEnum):
    GENERAL = "general"
    SPECIALIST = "specialist"
    SUPERVISOR = "supervisor"


class Stage(BaseModel):
    """One reminder step, at `offset` from the policy's anchor (the due date by default)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]{0,62}$")
    offset: Duration
    channel: Channel
    template: str | None = Field(default=None, description="Message template id (sms).")
    queue: CallQueue | None = Field(default=None, description="Agent queue (call_task).")
    priority: int = Field(default=0, ge=0, le=100)

    @model_validator(mode="after")
    def _channel_fields(self) -> Stage:
        if self.channel is Channel.SMS and not self.template:
            raise ValueError("an sms stage needs a 'template'")
        if self.channel is Channel.CALL_TASK and self.queue is None:
            raise ValueError("a call_task stage needs a 'queue' (general, specialist, supervisor)")
        return self

    @property
    def label(self) -> str:
        """How the stage reads in the Temporal UI, e.g. 'D+1 sms'."""
        return f"{offset_label(self.offset)} {self.channel.value} ({self.id})"


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


class Policy(BaseModel):
    """A whole reminder policy. Snapshotted into each workflow when it starts."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")
    version: int = Field(ge=1)
    description: str = ""
    anchor: Literal["due_date", "process_start"] = Field(
        default="due_date",
        description="What offsets count from: local midnight of the due date, or the moment "
        "the account's process started (demo policies that run in minutes).",
    )
    default_locale: str = "en"
    stages: tuple[Stage, ...] = Field(min_length=1)
    templates: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="template id -> locale -> text"
    )

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        ids = [stage.id for stage in self.stages]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"stage ids must be unique; repeated: {', '.join(duplicates)}")
        for earlier, later in zip(self.stages, self.stages[1:], strict=False):
            if later.offset <= earlier.offset:
                raise ValueError(
                    f"stages must be in strictly increasing offset order: {later.id!r} "
                    f"({offset_label(later.offset)}) does not come after {earlier.id!r} "
                    f"({offset_label(earlier.offset)})"
                )
        for stage in self.stages:
            if stage.template is not None and stage.template not in self.templates:
                raise ValueError(f"stage {stage.id!r} uses unknown template {stage.template!r}")
        for template_id, texts in self.templates.items():
            if self.default_locale not in texts:
                raise ValueError(
                    f"template {template_id!r} has no text for the default locale "
                    f"{self.default_locale!r}"
                )
            for locale, text in texts.items():
                unknown = template_placeholders(text) - TEMPLATE_FIELDS
                if unknown:
                    raise ValueError(
                        f"template {template_id!r} ({locale}) uses unknown placeholder(s) "
                        f"{', '.join(sorted(unknown))}; "
                        f"allowed: {', '.join(sorted(TEMPLATE_FIELDS))}"
                    )
        return self

    def stage(self, stage_id: str) -> Stage:
        for stage in self.stages:
            if stage.id == stage_id:
                return stage
        raise KeyError(stage_id)


def template_placeholders(text: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as err:
        raise ValueError(f"malformed template {text!r}: {err}") from err
