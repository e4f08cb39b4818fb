"""Events a workflow received that it records in the audit trail itself.

Backends report payments, hardship, disputes and cease-contact requests through the API, which
records each once per id (`reported_events` and its audit row) before it signals. A signal can
also reach the workflow straight from Temporal (`temporal workflow signal`, another client),
with no API and so no record. So the workflow hands every event that was new to it to an
activity (`activities.event_audit`), which records the ones that have no row yet, with the
actor `DIRECT_ACTOR`; those the API recorded are left as they are. Pure: no Temporal, no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workflows.forbearance_types import ForbearanceRequested
from workflows.types import (
    ContactCeased,
    DisputeClosed,
    DisputeOpened,
    HardshipReported,
    PaymentReported,
)

DIRECT_ACTOR = "temporal-direct"  # the audit actor of an event no API call recorded
# Old messages' free text is left out of the activity's input: it stays out of the history.
LEGACY_TEXT_FIELDS = frozenset({"reason", "resolution", "note"})


@dataclass(frozen=True)
class EventKind:
    audit_kind: str  # the audit trail's and reported_events' name for it
    id_field: str  # the field that makes a repeated report the same event


KINDS: dict[type[BaseModel], EventKind] = {
    PaymentReported: EventKind("payment.reported", "payment_id"),
    HardshipReported: EventKind("hardship.reported", "report_id"),
    DisputeOpened: EventKind("dispute.opened", "dispute_id"),
    DisputeClosed: EventKind("dispute.closed", "dispute_id"),
    ContactCeased: EventKind("contact.ceased", "request_id"),
    ForbearanceRequested: EventKind("forbearance.requested", "request_id"),
}


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ReceivedEvent(_Model):
    kind: str = Field(pattern=r"^[a-z][a-z0-9_.]*$")
    event_id: str = Field(min_length=1, max_length=128)
    details: dict[str, Any] = Field(description="The event's fields, free text left out.")


class RecordEventsInput(_Model):
    account_id: str
    events: list[ReceivedEvent] = Field(min_length=1)


class RecordEventsResult(_Model):
    recorded: int = Field(description="How many had no record yet (reached us without the API).")


def received(event: BaseModel) -> ReceivedEvent | None:
    """The record of `event` if it is one the audit trail keeps, else None."""
    kind = KINDS.get(type(event))
    if kind is None:
        return None
    return ReceivedEvent(
        kind=kind.audit_kind,
        event_id=str(getattr(event, kind.id_field)),
        details=event.model_dump(
            mode="json", exclude_defaults=True, exclude=set(LEGACY_TEXT_FIELDS)
        ),
    )
