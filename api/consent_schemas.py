"""Consent in backend requests: the consents a start request carries, and one grant or
withdrawal sent to `POST /v1/accounts/{id}/consents` (api/consents.py).

Channels and sources are closed sets (workflows.consent); instants carry their offset and lie
from 10 years back up to now: consent is recorded after it was given, never ahead of it (a few
minutes of clock skew between the backend and us are allowed).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from overdue.inputs import check_instant
from workflows.consent import ConsentChannel, ConsentGiven, ConsentSource

# Consent recorded "now" by a backend whose clock runs ahead of ours is still not future.
CLOCK_SKEW = timedelta(minutes=5)
# Every channel at most once.
MAX_START_CONSENTS = len(ConsentChannel)


def _not_future(value: datetime) -> datetime:
    check_instant(value)
    if value.astimezone(UTC) > datetime.now(UTC) + CLOCK_SKEW:
        raise ValueError("must not be in the future: consent is recorded after it was given")
    return value


PastInstant = Annotated[datetime, AfterValidator(_not_future)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class StartConsent(_Body):
    """The customer agreed to reminders on `channel`."""

    channel: ConsentChannel = Field(description="sms, call, app_notice, email or letter.")
    source: ConsentSource = Field(description="contract, app_settings, agent_recorded or backend.")
    given_at: PastInstant = Field(description="When it was given; not in the future.")

    def given(self) -> ConsentGiven:
        return ConsentGiven(channel=self.channel, source=self.source, given_at=self.given_at)


def check_start_consents(consents: list[StartConsent]) -> list[StartConsent]:
    seen: set[str] = set()
    for index, consent in enumerate(consents):
        if consent.channel.value in seen:
            raise ValueError(f"[{index}].channel {consent.channel.value} is listed twice")
        seen.add(consent.channel.value)
    return consents


StartConsents = Annotated[
    list[StartConsent],
    Field(max_length=MAX_START_CONSENTS),
    AfterValidator(check_start_consents),
]

ChangeId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.:-]+$")]


class ConsentChangeReport(_Body):
    """One grant or withdrawal of consent on a channel."""

    change_id: ChangeId = Field(
        description="The backend's id of this change: the same id again is recognised."
    )
    channel: ConsentChannel
    action: Literal["grant", "withdraw"]
    source: ConsentSource = Field(description="contract, app_settings, agent_recorded or backend.")
    at: PastInstant = Field(description="When the customer gave or withdrew it.")


class ConsentEntry(BaseModel):
    change_id: str
    channel: str
    granted: bool
    source: str
    at: datetime
    recorded_at: datetime
    actor: str


class ConsentHistory(BaseModel):
    account_id: str
    changes: list[ConsentEntry] = Field(description="In the order they happened (`at`).")


class ConsentRecorded(BaseModel):
    account_id: str
    change_id: str
    channel: str
    granted: bool
    recorded: bool = Field(description="false: this change_id was recorded before.")
    delivered: bool = Field(
        description="true: the account's running process has it; false: no process runs now "
        "(the change stays in the history)."
    )
