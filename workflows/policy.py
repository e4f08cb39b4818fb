"""Reminder policy: the stages of an account's process and the messages they send.

Pure data with validation; no I/O. Files are read by `overdue.policy_files`.
"""

from __future__ import annotations

import itertools
import re
import string
from datetime import time, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)

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

_ISO_DURATION = re.compile(r"^[+-]?P", re.IGNORECASE)


def parse_grace(value: Any) -> Any:
    """A duration of 0 or more: the short form or ISO 8601; anything else is refused here, with
    the examples, rather than with pydantic's parser message."""
    parsed = parse_duration(value)
    if isinstance(parsed, timedelta):
        return parsed
    if isinstance(parsed, str) and _ISO_DURATION.match(parsed.strip()):
        return parsed
    raise ValueError(f"write a duration with a unit, like '6h', '60s' or '0s'; got {value!r}")


def not_negative(value: timedelta) -> timedelta:
    if value < timedelta(0):
        raise ValueError(f"must be 0 or more, like '6h', '60s' or '0s'; got {duration_text(value)}")
    return value


Grace = Annotated[timedelta, BeforeValidator(parse_grace), AfterValidator(not_negative)]


def duration_text(value: timedelta) -> str:
    """A duration in the short form policies use: '6h', '-1h30m', '2d', '0s'."""
    sign = "-" if value < timedelta(0) else ""
    magnitude = abs(value)
    days, rest = divmod(magnitude.days * 86_400 + magnitude.seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    fraction = f"{magnitude.microseconds / 1e6:f}".rstrip("0")[1:] if magnitude.microseconds else ""
    parts = ((days, "d"), (hours, "h"), (minutes, "m"))
    text = "".join(f"{n}{u}" for n, u in parts if n)
    if secs or fraction or not text:
        text += f"{secs}{fraction}s"
    return sign + text


def parse_local_time(value: Any) -> Any:
    """'08:00' or '8:30' (YAML may also hand over minutes since midnight for 08:00)."""
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError("write a local time in quotes, like '08:00'")
    return value


LocalTime = Annotated[time, BeforeValidator(parse_local_time)]


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


class ContactWindow(BaseModel):
    """Local hours in which the customer may be contacted (start inclusive, end exclusive)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _ordered(self) -> ContactWindow:
        if self.end <= self.start:
            raise ValueError(f"window end {self.end} must be after its start {self.start}")
        return self


class Caps(BaseModel):
    """How often we may contact one customer. Days are the customer's local calendar days."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sms_per_day: int = Field(default=1, ge=0)
    sms_per_week: int = Field(default=3, ge=0, description="Rolling 7 days.")
    calls_per_day: int = Field(default=6, ge=0, description="Call attempts per local day.")
    calls_per_7_days: int = Field(default=7, ge=0)
    call_quiet_days_after_conversation: int = Field(
        default=7,
        ge=0,
        description="No new call task this many days after the customer was reached.",
    )


class PromiseRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_days: int = Field(default=14, ge=0, description="Latest promised date, days from today.")
    min_percent: int = Field(default=10, ge=1, le=100, description="Of the current balance.")
    grace_days: int = Field(default=2, ge=0, description="Days after the date before it is broken.")


class HardshipRules(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    max_instalments: int = Field(default=12, ge=1)
    max_days: int = Field(default=365, ge=1, description="Last instalment at most this far out.")
    grace_days: int = Field(default=3, ge=0, description="Days after an instalment's date.")
    reminder_before: Duration = Field(
        default=timedelta(days=2), description="Reminder SMS this long before each instalment."
    )
    reminder_template: str | None = None
    review_priority: int = Field(default=80, ge=0, le=100)


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
    contact_windows: dict[str, ContactWindow] = Field(
        default_factory=lambda: {
            "default": ContactWindow(start=time(8), end=time(21)),
        },
        description="Per jurisdiction (ISO country code); 'default' applies to all others.",
    )
    caps: Caps = Field(default_factory=Caps)
    promise: PromiseRules = Field(default_factory=PromiseRules)
    hardship: HardshipRules = Field(default_factory=HardshipRules)
    broken_promise_stage: str | None = Field(
        default=None, description="Stage to resume at when a promise or a plan is broken."
    )
    calls_after_cease: bool = Field(
        default=False, description="Whether agents may still call after a cease-contact request."
    )
    final_stage: str | None = Field(
        default=None, description="After this stage acts, the process closes (hand-over)."
    )
    catch_up_grace: Grace = Field(
        default=timedelta(0),
        description="When several stages are due at once, an earlier one is skipped only if it "
        "came due more than this long ago; within it, it still acts (oldest first) before the "
        "latest. 0: only the latest acts. Covers a worker outage or backlog, not a late start.",
    )
    stages: tuple[Stage, ...] = Field(min_length=1)
    templates: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="template id -> locale -> text"
    )
    # Template rules (overdue.template_lint), checked when a policy file is loaded, never on a
    # workflow's input: snapshots recorded before these fields existed take the defaults.
    sms_segment_budget: int = Field(
        default=2,
        ge=1,
        le=10,
        description="Most SMS segments a template may cost, rendered with worst-case values.",
    )
    sms_opt_out_phrases: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="locale or language -> more opt-out phrases accepted in SMS texts, added "
        "to the built-in table (overdue/template_rules.yaml).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Policy:
        ids = [stage.id for stage in self.stages]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"stage ids must be unique; repeated: {', '.join(duplicates)}")
        for earlier, later in itertools.pairwise(self.stages):
            if later.offset < earlier.offset:
                raise ValueError(
                    f"stages must be in offset order: {later.id!r} "
                    f"({offset_label(later.offset)}) does not come after {earlier.id!r} "
                    f"({offset_label(earlier.offset)})"
                )
        if "default" not in self.contact_windows:
            raise ValueError("contact_windows needs a 'default' window")
        for name in ("broken_promise_stage", "final_stage"):
            stage_id = getattr(self, name)
            if stage_id is not None and stage_id not in ids:
                raise ValueError(f"{name} {stage_id!r} is not a stage id")
        used = [s.template for s in self.stages] + [self.hardship.reminder_template]
        for template in used:
            if template is not None and template not in self.templates:
                raise ValueError(f"unknown template {template!r}")
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

    def window_for(self, jurisdiction: str) -> ContactWindow:
        return self.contact_windows.get(jurisdiction.upper(), self.contact_windows["default"])


def template_placeholders(text: str) -> set[str]:
    try:
        return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}
    except ValueError as err:
        raise ValueError(f"malformed template {text!r}: {err}") from err
