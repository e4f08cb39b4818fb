"""What a revocation of SMS consent by free text exchanges and keeps (`workflows.revocation`).

A customer's reply such as "please stop texting me" arrives as `RevocationRequested` (a signal
from the inbound SMS webhook: the inbound message's id and the reply's `text_id`, never the
text); an agent's `RevocationDecision` confirms or rejects it (an update). Old histories carry
neither, so the record's `revocation` stays None for them.
"""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from workflows.messages import Message, text_id_field

# Inbound message ids kept to recognise a redelivered request, newest last.
SEEN_REQUESTS = 20


class RevocationRequested(Message):
    """A free-text SMS reply classified as a request to stop texting (TCPA 2024: consent is
    revoked by any reasonable means). SMS stop at once; an agent confirms or rejects."""

    request_id: str = Field(
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description="The inbound message's provider id (Twilio MessageSid): a redelivered "
        "request with the same id changes nothing.",
    )
    text_id: str | None = text_id_field()


class RevocationDecision(Message):
    """An agent's decision on the pending request: `confirm` makes it a full SMS opt-out;
    otherwise it was not a revocation and SMS resume."""

    actor: str = Field(min_length=1, max_length=64)
    confirm: bool
    text_id: str | None = text_id_field()


class PendingRevocation(BaseModel):
    """A request waiting for an agent: SMS are stopped meanwhile (the lawful default)."""

    request_id: str
    text_id: str | None = None
    since: datetime
    deadline: datetime = Field(description="Escalated to a supervisor when still pending.")
    escalated: bool = False


class RevocationState(BaseModel):
    seen: list[str] = Field(default_factory=list, description="Request ids applied.")
    pending: PendingRevocation | None = None


class RevocationRules(BaseModel):
    """Policy section `revocation`: how long a free-text revocation may wait for an agent."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    confirm_within_business_days: int = Field(
        default=10,
        ge=1,
        le=60,
        description="Business days an agent has to confirm or reject a free-text request to "
        "stop SMS (TCPA 2024: honour within 10 business days); then it is escalated to "
        "supervisors. SMS stay stopped meanwhile.",
    )
