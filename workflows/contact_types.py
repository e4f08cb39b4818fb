"""What the workflow and its contact activities exchange: what to send, the basis it was
decided on, the receipts, and the errors the workflow acts on.

Single-argument Pydantic models that refuse unknown fields, so a new field reaches an activity
worker only once that worker knows it (docs/operations.md, deploy). No personal data: the
activities read contacts from Postgres.
"""

from __future__ import annotations

from datetime import date, datetime, time
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from workflows.forbearance_types import Itemization
from workflows.letters import LetterSpec
from workflows.policy import CallQueue, NotifyKind
from workflows.policy_shelf import PolicyRef
from workflows.provider_templates import RegisteredTemplate


class SmsFailure(StrEnum):
    """ApplicationError types the SMS activity raises (non-retryable) for the workflow to act on."""

    RECIPIENT_OPTED_OUT = "RecipientOptedOut"  # Twilio 21610: record the opt-out
    UNREACHABLE_NUMBER = "UnreachableNumber"  # 21211 / 21614: fall back to a call task


# ApplicationError type (non-retryable) every contact activity raises when the account changed
# after the workflow decided the contact (a payment, a cease-contact request or an open dispute
# it had not seen): nothing was sent, and the workflow decides again from its current state.
CONTACT_WITHHELD = "ContactWithheld"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DecisionBasis(_Model):
    """What the workflow knew when it decided a contact. The activity checks it again just
    before the provider is called: a payment, a cease-contact request or a dispute can arrive
    while an attempt is in flight or retrying, and a customer who has paid, asked us to stop
    or disputes the debt must not be contacted (overdue/store/contact_gate.py).

    The cease and dispute fields are None in inputs recorded before they were checked: such
    a basis is checked for payments only, as it always was."""

    payments_known: list[str] = Field(description="Payment ids the workflow had applied.")
    since: AwareDatetime = Field(
        description="Start of the workflow run; events reported earlier are carried in its state."
    )
    ceased_known: bool | None = Field(
        default=None, description="Whether the workflow had applied a cease-contact request."
    )
    disputes_known: list[str] | None = Field(
        default=None, description="Ids of the disputes the workflow knew open."
    )
    calls_after_cease: bool | None = Field(
        default=None,
        description="The policy's `calls_after_cease`: a cease then does not withhold calls.",
    )
    consent_channel: str | None = Field(
        default=None,
        description="The channel whose recorded consent the decision relied on (the policy "
        "requires it): withheld if Postgres has it withdrawn. None: consent plays no part.",
    )


# Why the workflow makes a contact: a policy stage, a repayment plan's instalment reminder, the
# call task that stands in for an SMS the number cannot receive, or a task an event or an agent
# asked for (a review, a callback), which the caps do not count.
ContactBasis = Literal["stage", "instalment", "fallback", "requested"]


class ConsentBasis(_Model):
    """The grant a contact on a channel needing consent relied on, for its receipt."""

    channel: str
    source: str = Field(description="The grant's source; `none`: no grant was held.")
    given_at: AwareDatetime | None


class ContactFacts(_Model):
    """What the workflow knew and applied when it decided a contact, for its compliance
    receipt (overdue/store/receipts.py): what Postgres does not know. No personal data."""

    basis: ContactBasis
    decided_at: AwareDatetime = Field(description="Workflow time of the decision.")
    policy_id: str
    policy_version: int
    jurisdiction: str
    time_zone: str
    window_start: time | None = Field(description="The contact window applied; None: no window.")
    window_end: time | None
    calendar_rule: str | None = Field(default=None, description="The calendar rule applied.")
    sms_per_day: int
    sms_per_week: int
    calls_per_day: int
    calls_per_7_days: int
    sms_opted_out: bool
    contact_ceased: bool
    open_disputes: int
    vulnerable: bool
    consent: ConsentBasis | None = Field(
        default=None,
        description="The recorded consent the contact relied on; None: its channel needs none "
        "(or the input is from before consent was recorded).",
    )


class _ContactInput(_Model):
    """Which contact: its ledger row's idempotency key, its account and its stage; and the
    facts of its decision, for its compliance receipt (None in inputs from before receipts)."""

    idempotency_key: str
    account_id: str
    stage_id: str
    facts: ContactFacts | None = None


class SendSmsInput(_ContactInput):
    template_id: str
    templates: dict[str, str] = Field(description="locale -> text for this template")
    default_locale: str
    amount_minor: int
    currency: str
    due_date: date
    days_past_due: int
    basis: DecisionBasis | None = Field(
        default=None, description="None (inputs from before the check): sent without it."
    )
    registered: dict[str, dict[str, RegisteredTemplate]] | None = Field(
        default=None,
        description="provider -> locale -> this template as registered there (sign name, "
        "code); None: none mapped (a provider that sends no free text refuses it).",
    )
    itemization: Itemization | None = None  # the latest reported, for its placeholders
    policy_ref: PolicyRef | None = Field(
        default=None,
        description="The account's policy by digest (workflows/policy_shelf.py): `templates` "
        "and `registered` are then left empty, and the activity reads them from the version "
        "(activities/templates.with_policy_texts). None: they travel in the input.",
    )


class SendSmsResult(_Model):
    idempotency_key: str
    status: str
    provider_id: str | None
    already_sent: bool = Field(description="True when a retry found the message already sent.")
    segments: int | None = Field(default=None, description="Segments the body is billed as.")
    encoding: str | None = Field(default=None, description="GSM-7 or UCS-2.")


class CreateCallTaskInput(_ContactInput):
    queue: CallQueue
    priority: int
    due_at: datetime
    basis: DecisionBasis | None = Field(
        default=None, description="None: agents' own tasks and inputs from before the check."
    )


class CreateCallTaskResult(_Model):
    task_id: int
    created: bool


class NotifyInput(_ContactInput):
    """A `notify` stage: an HMAC-signed webhook to the backend, which owns the channel; or,
    with `letter`, a letter we render for the mailroom (activities/letters/)."""

    kind: NotifyKind
    template_id: str | None = None
    amount_minor: int
    currency: str
    days_past_due: int
    basis: DecisionBasis | None = Field(
        default=None, description="None (inputs from before the check): sent without it."
    )
    letter: LetterSpec | None = Field(
        default=None,
        description="A letter stage of a policy with letters: rendered, not posted. None: "
        "other notices, and letter inputs from before letters were rendered (posted).",
    )
    # A forbearance notice's (workflows.forbearance); left out of the body when None.
    write_down_minor: int | None = None
    until: date | None = None


class NotifyResult(_Model):
    idempotency_key: str
    status_code: int
    already_sent: bool = Field(
        default=False, description="True when a retry found the webhook already delivered."
    )


class CancelCallTasksInput(_Model):
    account_id: str
    reason: str


class CancelCallTasksResult(_Model):
    cancelled: int
