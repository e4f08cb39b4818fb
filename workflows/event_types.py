"""Events backends report about an account, as the workflow receives them (signals: durable,
accepted even while workers are down). Re-exported by `workflows.types`, where callers have
always found them. No personal data: a typed reason is kept in Postgres and named by
`text_id`.
"""

from __future__ import annotations

from datetime import date

from pydantic import AwareDatetime, Field

from workflows import forbearance_types as fb
from workflows.messages import Message, legacy_text_field, text_id_field


class PaymentReported(Message):
    payment_id: str = Field(min_length=1, max_length=128)
    amount_minor: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    paid_at: AwareDatetime


class OverdueAmountReported(fb.Itemized):
    """A new unpaid bill for an account already in its process: adds to the balance."""

    bill_id: str = Field(min_length=1, max_length=128)
    amount_minor: int = Field(gt=0)
    currency: str = Field(pattern=r"^[A-Z]{3}$")
    due_date: date
    itemization: fb.Itemization | None = fb.itemization_field()


class HardshipReported(Message):
    report_id: str = Field(min_length=1, max_length=128)
    reason: str = legacy_text_field()
    text_id: str | None = text_id_field()
    reported_at: AwareDatetime


class DisputeOpened(Message):
    dispute_id: str = Field(min_length=1, max_length=128)
    reason: str = legacy_text_field()
    text_id: str | None = text_id_field()


class DisputeClosed(Message):
    dispute_id: str = Field(min_length=1, max_length=128)
    resolution: str = legacy_text_field()
    text_id: str | None = text_id_field()


class ContactCeased(Message):
    """The customer asked us to stop contacting them (calls only where the policy allows)."""

    request_id: str = Field(min_length=1, max_length=128)
    reason: str = legacy_text_field()
    text_id: str | None = text_id_field()


class SmsConsentChanged(Message):
    """STOP / START from an inbound SMS, or the provider reporting an opt-out (21610)."""

    opted_out: bool
    source: str = Field(description="inbound_sms, provider_error, backend, agent")
    # The stored consent's version (a sequence in Postgres, one value per change): a signal
    # older than the last one applied is stale (a redelivered STOP after a START) and ignored.
    # None: a sender from before versions (old histories), applied as it comes.
    version: int | None = Field(default=None, ge=1)
