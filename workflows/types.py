"""Data the workflow exchanges with its callers, and the record it keeps of an account.

Single-argument Pydantic models so fields can be added compatibly. No personal data: the
workflow carries the account id and money; activities read contacts from Postgres. What the
workflow exchanges with its contact activities is in `workflows.contact_types`.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from workflows import forbearance_types as fb
from workflows.agent_requests import CallOutcome as CallOutcome
from workflows.agent_requests import CallOutcomeKind as CallOutcomeKind
from workflows.agent_requests import Escalation as Escalation
from workflows.agent_requests import HardshipDecision as HardshipDecision
from workflows.agent_requests import Instalment as Instalment
from workflows.agent_requests import PauseRequest as PauseRequest
from workflows.agent_requests import PromiseToPay as PromiseToPay
from workflows.agent_requests import ResumeRequest as ResumeRequest
from workflows.consent import ChannelConsent, ConsentGiven
from workflows.customer_state import ContactPreferences as ContactPreferences
from workflows.customer_state import PreferencesState, VulnerabilityState
from workflows.customer_state import VulnerabilityChange as VulnerabilityChange
from workflows.event_types import ContactCeased as ContactCeased
from workflows.event_types import DisputeClosed as DisputeClosed
from workflows.event_types import DisputeOpened as DisputeOpened
from workflows.event_types import HardshipReported as HardshipReported
from workflows.event_types import OverdueAmountReported as OverdueAmountReported
from workflows.event_types import PaymentReported as PaymentReported
from workflows.event_types import SmsConsentChanged as SmsConsentChanged
from workflows.messages import TEXT_ID_PATTERN as TEXT_ID_PATTERN
from workflows.messages import Message
from workflows.policy import CallQueue, Policy
from workflows.policy_shelf import ByPolicyRef
from workflows.revocation_types import PendingRevocation as PendingRevocation
from workflows.revocation_types import RevocationDecision as RevocationDecision
from workflows.revocation_types import RevocationRequested as RevocationRequested
from workflows.revocation_types import RevocationState
from workflows.vulnerability import vulnerable_queue

ACCOUNT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$"


class AccountState(StrEnum):
    ACTIVE = "active"
    PROMISE = "promise"  # reminders paused until the promised date plus grace
    HARDSHIP_REVIEW = "hardship_review"
    REPAYMENT_PLAN = "repayment_plan"
    DISPUTED = "disputed"
    PAUSED = "paused"
    ESCALATED = "escalated"
    RESOLVED = "resolved"  # paid
    CLOSED = "closed"  # handed over or cancelled
    # An unexpected error stopped the process until ops resume it (workflows/parking.py); the
    # workflow's own state, never the record's.
    PARKED = "parked"


class OverdueAccountInput(fb.Itemized, ByPolicyRef):
    _AMOUNT = "amount_due_minor"

    account_id: str = Field(pattern=ACCOUNT_ID_PATTERN)
    product: str
    amount_due_minor: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    due_date: date
    time_zone: str = Field(description="Customer's IANA time zone: not personal on its own.")
    jurisdiction: str = Field(
        default="default",
        pattern=r"^([A-Z]{2}|default)$",
        description="ISO country code whose contact window applies (from the phone number).",
    )
    risk_segment: str | None = Field(default=None, max_length=32)
    vulnerable: bool = Field(default=False, description="Route calls to specialists.")
    policy: Policy
    carried: AccountRecord | None = Field(
        default=None, description="State carried over by continue-as-new; None at the start."
    )
    history_event_bound: int = Field(
        default=10_000,
        ge=100,
        description="Continue-as-new past this many history events (the server also suggests).",
    )
    bill_id: str | None = Field(
        default=None,
        max_length=128,
        description="The bill this process was started for: a later signal of the same bill "
        "(a start retried after its answer was lost) is recognized, not added again.",
    )
    consents: list[ConsentGiven] = Field(
        default_factory=list,
        description="Consents the start request carried (workflows.consent); none in inputs "
        "from before consent was recorded.",
    )
    itemization: fb.Itemization | None = fb.itemization_field()
    release: int = Field(
        default=0,
        ge=0,
        le=4,
        description="The code release that started the process (workflows/patches.py, "
        "RELEASES); 0 in inputs from before cost-2026-12. Its patch ids are taken as given, "
        "and its search attributes are kept (workflows/publishing.py).",
    )


# --- the process state, carried across continue-as-new ----------------------------------

RECENT_CONTACTS = 50  # kept for caps (a rolling week) and for the status


class ContactEntry(BaseModel):
    """One contact or call outcome, as kept in the workflow for caps and the status."""

    model_config = ConfigDict(frozen=True)

    channel: Literal["sms", "call", "notify"]
    stage_id: str
    at: datetime
    outcome: str  # sent, task_created, or a call outcome
    conversation: bool = False
    actor: str = "system"


class PromiseState(BaseModel):
    """A promise to pay in force."""

    amount_minor: int
    promised_date: date
    made_at: datetime
    actor: str
    paid_since_minor: int = 0


class PlanState(BaseModel):
    """An approved hardship repayment plan."""

    instalments: list[Instalment]
    approved_at: datetime
    actor: str
    paid_minor: int = 0
    reminded: list[int] = Field(default_factory=list)


class PauseState(BaseModel):
    """Who paused the process, why and since when (dated and audited, never edited)."""

    actor: str
    reason: str = ""  # legacy: set only by a request from an old history
    text_id: str | None = None  # why, in Postgres (free_texts)
    since: datetime


class TaskRequest(BaseModel):
    """A call task the workflow must create outside the stage sequence (review, callback, ...)."""

    stage_id: str
    queue: CallQueue
    priority: int
    due_at: datetime


class AccountRecord(ByPolicyRef):
    """Everything the workflow knows about one account's process. No personal data."""

    account_id: str
    product: str
    currency: str
    due_date: date
    time_zone: str
    jurisdiction: str
    risk_segment: str | None
    vulnerable: bool
    policy: Policy
    episode_id: str
    anchor_at: datetime

    balance_minor: int
    bills_seen: list[str] = Field(default_factory=list)
    payments_seen: list[str] = Field(default_factory=list)
    handled: list[str] = Field(default_factory=list, description="Stage ids done or passed over.")
    attempts: dict[str, int] = Field(default_factory=dict, description="Stage id -> times acted.")
    skipped: list[str] = Field(default_factory=list)
    suppressed: list[str] = Field(default_factory=list)
    last_stage: str | None = None
    handed_over: bool = False
    # When the policy's written notice was sent in this episode (workflows/stage_validity.py).
    written_notice_at: datetime | None = None

    sms_opted_out: bool = False
    sms_consent_version: int | None = None  # of the last versioned consent change applied
    sms_unreachable: bool = False
    wrong_number: bool = False
    contact_ceased: bool = False
    open_disputes: list[str] = Field(default_factory=list)
    hardship_reports: list[str] = Field(default_factory=list)
    hardship_pending: bool = False
    escalated: bool = False
    promise: PromiseState | None = None
    plan: PlanState | None = None
    pause: PauseState | None = None
    vulnerability: VulnerabilityState | None = None  # marked by an update (who, when, why)
    preferences: PreferencesState | None = None  # the customer's stated times and channels
    revocation: RevocationState | None = None  # workflows.revocation; None: never requested
    # Channel -> the last consent change applied (workflows.consent_rules); empty: none known.
    consents: dict[str, ChannelConsent] = Field(default_factory=dict)
    # workflows.forbearance, workflows.review_deadlines: None / empty in old histories.
    itemization: fb.ItemizationState | None = None
    forbearance: fb.ForbearanceState | None = None
    reviews: list[fb.ReviewDeadline] = Field(default_factory=list)

    contacts: list[ContactEntry] = Field(default_factory=list)
    unchecked_stages: list[str] = Field(
        default_factory=list,
        description="Stage ids whose next contact goes without the pre-send payment check: "
        "one was withheld for a payment this process never received (another currency, "
        "another process), so the check would withhold it again.",
    )
    outbox: list[TaskRequest] = Field(default_factory=list)
    cancel_open_tasks: bool = False
    # A call task was asked for in this process (any run): only then has its end any open task
    # to cancel. Counted from release cost-2026-12; older processes cancel at the end anyway.
    call_tasks_asked: bool = False
    task_counter: int = 0
    history: list[str] = Field(default_factory=list, description="Short audit notes, newest last.")

    @property
    def state(self) -> AccountState:
        if self.balance_minor == 0:
            return AccountState.RESOLVED
        if self.handed_over:
            return AccountState.CLOSED
        if self.pause is not None:
            return AccountState.PAUSED
        if self.open_disputes:
            return AccountState.DISPUTED
        if self.hardship_pending:
            return AccountState.HARDSHIP_REVIEW
        if self.plan is not None:
            return AccountState.REPAYMENT_PLAN
        if self.promise is not None:
            return AccountState.PROMISE
        if self.escalated:
            return AccountState.ESCALATED
        return AccountState.ACTIVE

    @property
    def finished(self) -> bool:
        return self.state in (AccountState.RESOLVED, AccountState.CLOSED)

    def note(self, text: str) -> None:
        self.history = [*self.history[-49:], text]

    def record_contact(self, entry: ContactEntry) -> None:
        self.contacts = [*self.contacts[-(RECENT_CONTACTS - 1) :], entry]
        if entry.stage_id == self.policy.written_notice and self.written_notice_at is None:
            self.written_notice_at = entry.at  # kept here: `contacts` keeps the recent only

    def call_queue(self, stage_queue: CallQueue) -> CallQueue:
        """Escalated accounts go to supervisors; vulnerable customers to specialists."""
        if self.escalated:
            return CallQueue.SUPERVISOR
        if self.vulnerable and stage_queue is CallQueue.GENERAL:
            return vulnerable_queue(self.policy.vulnerable)
        return stage_queue

    def next_task_id(self, kind: str) -> str:
        self.task_counter += 1
        return f"{kind}_{self.task_counter}"

    def request_task(self, kind: str, queue: CallQueue, priority: int, due_at: datetime) -> None:
        self.outbox.append(
            TaskRequest(
                stage_id=self.next_task_id(kind),
                queue=self.call_queue(queue) if queue is CallQueue.GENERAL else queue,
                priority=priority,
                due_at=due_at,
            )
        )


class NextAction(Message):
    stage_id: str
    label: str
    at: datetime


class Parked(Message):
    """Why and since when the account's process is parked (workflows/parking.py)."""

    reason: str = Field(
        description="The error's type and where it was raised, e.g. `OverflowError in "
        "decisions.days_past_due`. Never its message."
    )
    since: datetime
    retries: int = Field(default=0, description="Times it was parked before in this run.")


class AccountStatus(Message):
    account_id: str
    state: AccountState
    stage: str | None = Field(description="Last stage acted on, if any.")
    balance_minor: int
    currency: str
    due_date: date
    time_zone: str
    days_past_due: int = Field(description="As of `as_of`; the API recomputes it for 'now'.")
    as_of: datetime = Field(description="Workflow time of the last timer or event.")
    next_action: NextAction | None
    stages_done: list[str]
    stages_skipped: list[str]
    stages_suppressed: list[str] = Field(default_factory=list)
    promise: PromiseState | None = None
    plan: PlanState | None = None
    pause: PauseState | None = None
    open_disputes: list[str] = Field(default_factory=list)
    escalated: bool = False
    sms_opted_out: bool = False
    contact_ceased: bool = False
    vulnerable: bool = False
    vulnerability: VulnerabilityState | None = None
    preferences: PreferencesState | None = None
    revocation: PendingRevocation | None = Field(
        default=None, description="A free-text request to stop SMS, waiting for an agent."
    )
    consents: dict[str, ChannelConsent] = Field(
        default_factory=dict, description="Channel -> the consent recorded for it, if any."
    )
    consent_required: list[str] = Field(
        default_factory=list,
        description="Channels the policy uses only with recorded consent, here.",
    )
    recent_contacts: list[ContactEntry] = Field(default_factory=list, description="Newest first.")
    itemization: fb.ItemizationState | None = None
    forbearance: fb.ForbearanceState | None = None
    reviews: list[fb.ReviewDeadline] = Field(
        default_factory=list, description="Disputes to review."
    )
    notes: list[str] = Field(default_factory=list, description="What happened, newest first.")
    policy_id: str
    policy_version: int
    parked: Parked | None = Field(
        default=None, description="Set while an unexpected error keeps the process parked."
    )


class AccountOutcome(Message):
    account_id: str
    state: AccountState
    balance_minor: int
    stages_done: list[str]


# OverdueAccountInput refers to AccountRecord, defined after it.
OverdueAccountInput.model_rebuild()
