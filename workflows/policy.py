"""Reminder policy: the stages of an account's process and the messages they send.

Pure data with validation; no I/O. Files are read by `overdue.policy_files`. Durations live in
`workflows.durations`, stages in `workflows.stages`; both are re-exported here.
"""

from __future__ import annotations

import itertools
import string
from datetime import time, timedelta
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from workflows.calendars import Calendar, check_calendar_keys
from workflows.consent import ConsentChannel, normalize_required, required_problem
from workflows.durations import (
    Duration,
    Grace,
    LocalTime,
    duration_text,
    not_negative,
    parse_duration,
    parse_grace,
    parse_local_time,
)
from workflows.forbearance_types import ForbearanceRules, ReviewRules
from workflows.letters import LetterPolicy
from workflows.provider_templates import (
    ProviderMapping,
    TemplateProvider,
    provider_templates_problem,
)
from workflows.revocation_types import RevocationRules
from workflows.stage_ends import check_ends, check_final_stage, check_written_notice
from workflows.stages import (
    CallQueue,
    Channel,
    Conditions,
    NotifyKind,
    Stage,
    offset_label,
)
from workflows.vulnerability import VulnerableTreatment, section_problem

# Placeholders a template may use. Rendering happens in activities, where contacts are read.
TEMPLATE_FIELDS = frozenset(
    {"name", "amount", "currency", "due_date", "days_past_due"}
    # The amount's itemization, when the backend reported one (else "-"): activities/templates.py
    | {"principal", "interest", "fees", "payments"}
    # `link`: the borrower's self-service link (activities/selfservice_link.py).
    | {"link"}
)

__all__ = [
    "TEMPLATE_FIELDS",
    "CallQueue",
    "Caps",
    "Channel",
    "Conditions",
    "ContactWindow",
    "Duration",
    "Grace",
    "HardshipRules",
    "LocalTime",
    "NotifyKind",
    "Policy",
    "PromiseRules",
    "RevocationRules",
    "Stage",
    "duration_text",
    "not_negative",
    "offset_label",
    "parse_duration",
    "parse_grace",
    "parse_local_time",
    "template_placeholders",
]


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
    calendars: dict[str, Calendar] = Field(
        default_factory=dict,
        description="Per jurisdiction (and 'default'): rest days and each channel's rule on "
        "them (workflows.calendars). None: no day is special, as before calendars existed.",
    )
    caps: Caps = Field(default_factory=Caps)
    promise: PromiseRules = Field(default_factory=PromiseRules)
    hardship: HardshipRules = Field(default_factory=HardshipRules)
    revocation: RevocationRules = Field(default_factory=RevocationRules)
    forbearance: ForbearanceRules | None = Field(
        default=None, description="What agents may grant (workflows.forbearance); none: nothing."
    )
    dispute_review: ReviewRules | None = Field(
        default=None, description="Review deadline of a dispute (workflows.review_deadlines)."
    )
    broken_promise_stage: str | None = Field(
        default=None, description="Stage to resume at when a promise or a plan is broken."
    )
    calls_after_cease: bool = Field(
        default=False, description="Whether agents may still call after a cease-contact request."
    )
    final_stage: str | None = Field(
        default=None, description="After this stage acts, the process closes (hand-over)."
    )
    written_notice: str | None = Field(
        default=None,
        description="The stage (sms, or notify letter/email) that must precede the first call: "
        "a call stage about to act while it has not been sent sends it first (a late start "
        "begins there); while its channel is closed, call stages are suppressed.",
    )
    catch_up_grace: Grace = Field(
        default=timedelta(0),
        description="When several stages are due at once, an earlier one is skipped only if it "
        "came due more than this long ago; within it, it still acts (oldest first) before the "
        "latest. 0: only the latest acts. Covers a worker outage or backlog, not a late start.",
    )
    consent_required: dict[str, tuple[ConsentChannel, ...]] = Field(
        default_factory=dict,
        description="Channels used only with the customer's recorded consent (workflows.consent): "
        "a list for every jurisdiction, or per ISO country code with 'default' for the others. "
        "None (the default): no channel needs it, as before consent was recorded.",
    )
    stages: tuple[Stage, ...] = Field(min_length=1)
    templates: dict[str, dict[str, str]] = Field(
        default_factory=dict, description="template id -> locale -> text"
    )
    provider_templates: dict[TemplateProvider, ProviderMapping] = Field(
        default_factory=dict,
        description="provider -> template id -> locale -> its registered sign name and code "
        "(workflows.provider_templates); required where a route sends no free text (CN).",
    )
    letters: LetterPolicy | None = Field(
        default=None,
        description="What letter stages print (workflows.letters, docs/letters.md). A file "
        "with a letter stage needs it (checked on load, overdue.template_lint); a snapshot "
        "without it (from before letters were rendered) posts its letters to the webhook.",
    )
    vulnerable: VulnerableTreatment | None = Field(
        default=None,
        description="How treatment adapts while the customer is vulnerable "
        "(workflows.vulnerability); none: their general call tasks go to specialists, no more.",
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

    @field_validator("consent_required", mode="before")
    @classmethod
    def _required_form(cls, value: Any) -> Any:
        return normalize_required(value)

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
        problem = section_problem(self.vulnerable, ids)
        if problem:
            raise ValueError(problem)
        if "default" not in self.contact_windows:
            raise ValueError("contact_windows needs a 'default' window")
        check_calendar_keys(self.calendars)
        consent_problem = required_problem(self.consent_required)
        if consent_problem:
            raise ValueError(consent_problem)
        for name in ("broken_promise_stage", "final_stage"):
            stage_id = getattr(self, name)
            if stage_id is not None and stage_id not in ids:
                raise ValueError(f"{name} {stage_id!r} is not a stage id")
        check_ends(self.stages, self.anchor)
        check_written_notice(self.stages, self.written_notice)
        check_final_stage(self.stages, self.final_stage)
        problem = provider_templates_problem(self.templates, self.provider_templates)
        if problem:
            raise ValueError(problem)
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
