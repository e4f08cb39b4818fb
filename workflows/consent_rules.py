"""How recorded consent gates contacts: a channel the policy lists in `consent_required` is used
only while the account holds a grant for it (workflows.consent).

The decision core calls `missing` from `blocked_reason` (a stage on such a channel is
suppressed with the note `no_consent: <channel>`), and `allows` for instalment reminders and
the call task that stands in for an unreachable SMS. With a policy that requires nothing (every
policy recorded before consent existed) every answer is "allowed": recorded histories replay
unchanged. Pure: no Temporal, no I/O.
"""

from __future__ import annotations

from workflows.consent import ChannelConsent, ConsentChanged, initial_consents
from workflows.contact_types import ConsentBasis
from workflows.policy import Channel, NotifyKind, Policy, Stage
from workflows.types import AccountRecord, OverdueAccountInput

_NOTICE_CHANNELS = {
    NotifyKind.APP_NOTICE: "app_notice",
    NotifyKind.EMAIL: "email",
    NotifyKind.LETTER: "letter",
}
NO_CONSENT = "no_consent"


def channel_of(stage: Stage) -> str | None:
    """The consent channel a stage contacts the customer on; None for the lender's own steps
    (credit restriction, legal hand-over), which reach no one."""
    if stage.channel is Channel.SMS:
        return "sms"
    if stage.channel is Channel.CALL_TASK:
        return "call"
    return _NOTICE_CHANNELS.get(stage.kind) if stage.kind is not None else None


def required_channels(policy: Policy, jurisdiction: str) -> tuple[str, ...]:
    """The channels `policy` uses only with consent in `jurisdiction`."""
    rules = policy.consent_required
    channels = rules.get(jurisdiction.upper(), rules.get("default", ()))
    return tuple(c.value for c in channels)


def required(record: AccountRecord, channel: str) -> bool:
    return channel in required_channels(record.policy, record.jurisdiction)


def held(record: AccountRecord, channel: str) -> ChannelConsent | None:
    """The grant the account holds for `channel`, if it holds one."""
    state = record.consents.get(channel)
    return state if state is not None and state.granted else None


def allows(record: AccountRecord, channel: str) -> bool:
    """Whether consent permits a contact on `channel` now."""
    return not required(record, channel) or held(record, channel) is not None


def missing(record: AccountRecord, stage: Stage) -> str | None:
    """`no_consent: <channel>` when the stage's channel needs consent the account lacks."""
    channel = channel_of(stage)
    if channel is None or allows(record, channel):
        return None
    return f"{NO_CONSENT}: {channel}"


def relied_on(record: AccountRecord, channel: str | None) -> str | None:
    """The channel whose recorded consent a contact on `channel` relies on (the policy requires
    it): the pre-send check re-reads it in Postgres. None: consent plays no part."""
    return channel if channel is not None and required(record, channel) else None


def basis_of(record: AccountRecord, channel: str | None) -> ConsentBasis | None:
    """For a contact's receipt: the grant it relied on, when its channel needs one."""
    if relied_on(record, channel) is None:
        return None
    assert channel is not None
    grant = held(record, channel)
    if grant is None:  # decided without it: the receipt and the audit show that
        return ConsentBasis(channel=channel, source="none", given_at=None)
    return ConsentBasis(channel=channel, source=grant.source.value, given_at=grant.at)


def start_state(input: OverdueAccountInput) -> dict[str, ChannelConsent]:
    return initial_consents(input.consents)


def apply_change(record: AccountRecord, change: ConsentChanged) -> bool:
    """Apply a grant or a withdrawal; one older than the change held for its channel (a late
    or redelivered signal) changes nothing, nor does the same state again."""
    channel = change.channel.value
    current = record.consents.get(channel)
    if current is not None and change.at < current.at:
        return False
    new = ChannelConsent(granted=change.granted, source=change.source, at=change.at)
    if current == new:
        return False
    record.consents = {**record.consents, channel: new}
    verb = "granted" if change.granted else "withdrawn"
    record.note(f"consent {verb}: {channel} ({change.source.value})")
    if channel == "call" and not change.granted and required(record, channel):
        record.cancel_open_tasks = True  # agents stop calling at once
    return True
