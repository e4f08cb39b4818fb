"""Recorded consent to be contacted on a channel: what the start request and the consent
endpoint carry, what the workflow keeps, and the policy's rule of which channels need it.

Consent here is the lender's record that the customer agreed to reminders on a channel (in the
contract, in the app's settings, to an agent): its channel, where it came from and when. No
personal data, so it travels in the workflow's input and signals. How it gates contacts is in
`workflows.consent_rules`; the history of every change lives in Postgres (`consent_events`).
Pure: no Temporal, no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from workflows.messages import Message


class ConsentChannel(StrEnum):
    """The policy's channel names: SMS, call tasks, and the notices the customer receives."""

    SMS = "sms"
    CALL = "call"
    APP_NOTICE = "app_notice"
    EMAIL = "email"
    LETTER = "letter"


class ConsentSource(StrEnum):
    """Where a grant or a withdrawal was recorded."""

    CONTRACT = "contract"  # the loan or card agreement
    APP_SETTINGS = "app_settings"  # the customer's own settings in the lender's app
    AGENT_RECORDED = "agent_recorded"  # the customer told an agent
    BACKEND = "backend"  # the lender's systems, no finer source


class ConsentGiven(Message):
    """One consent the start request carries: the customer agreed to `channel`."""

    channel: ConsentChannel
    source: ConsentSource
    given_at: AwareDatetime


class ConsentChanged(Message):
    """A grant or a withdrawal, recorded by the API (`consent_events`) and signalled to the
    workflow. `at`: when the customer gave or withdrew it; an older change than the one the
    workflow holds for the channel (a redelivered signal) changes nothing."""

    channel: ConsentChannel
    granted: bool
    source: ConsentSource
    at: AwareDatetime
    # Who recorded it: an API key's actor (`api:` and a name of up to 64), an ops user.
    actor: str = Field(min_length=1, max_length=80)


class ChannelConsent(BaseModel):
    """The consent the workflow holds for one channel: the last change it applied."""

    model_config = ConfigDict(frozen=True)

    granted: bool
    source: ConsentSource
    at: AwareDatetime


def duplicate_channels(consents: Sequence[ConsentGiven]) -> list[str]:
    seen = [c.channel.value for c in consents]
    return sorted({c for c in seen if seen.count(c) > 1})


def initial_consents(consents: Sequence[ConsentGiven]) -> dict[str, ChannelConsent]:
    """The state a process starts with: the latest grant per channel."""
    state: dict[str, ChannelConsent] = {}
    for given in sorted(consents, key=lambda c: c.given_at):
        state[given.channel.value] = ChannelConsent(
            granted=True, source=given.source, at=given.given_at
        )
    return state


def normalize_required(value: Any) -> Any:
    """`consent_required: [sms, call]` is every jurisdiction's rule: the mapping form
    `{default: [...], CN: [...]}` says it per ISO country code."""
    if isinstance(value, list | tuple):
        return {"default": value}
    return value


def required_problem(required: Mapping[str, Sequence[ConsentChannel]]) -> str | None:
    """Why a policy's `consent_required` is not usable, if it is not."""
    for key, channels in required.items():
        if key != "default" and not (len(key) == 2 and key.isalpha() and key.isupper()):
            return f"consent_required: {key!r} is neither 'default' nor an ISO country code (CN)"
        names = [c.value for c in channels]
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            return f"consent_required[{key}]: {', '.join(repeated)} listed twice"
    return None
