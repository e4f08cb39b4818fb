"""What each accepted backend request becomes for the account's workflow: its input or the
payload of a signal. Pure, so the routes, `overdue bulk-start` and the property test
(tests/workflows/test_api_properties.py) map requests the one same way.
"""

from __future__ import annotations

from datetime import datetime

import phonenumbers

from api.schemas import (
    CeaseContactReport,
    DisputeReport,
    HardshipReport,
    OverdueReport,
    PaymentReport,
)
from overdue.store.bills import Bill
from workflows.forbearance_types import Itemization
from workflows.patches import RELEASES
from workflows.policy import Policy
from workflows.policy_shelf import PolicyRef
from workflows.types import (
    ContactCeased,
    DisputeClosed,
    DisputeOpened,
    HardshipReported,
    OverdueAccountInput,
    OverdueAmountReported,
    PaymentReported,
)


def jurisdiction(phone: str) -> str:
    """The ISO country whose contact window applies, from the customer's phone number."""
    region = phonenumbers.region_code_for_number(phonenumbers.parse(phone, None))
    return region if region and len(region) == 2 and region.isalpha() else "default"


def process_input(
    account_id: str, body: OverdueReport, policy: Policy, policy_ref: PolicyRef | None = None
) -> OverdueAccountInput:
    """A report that starts the account's process (no personal data: no name, no phone);
    with `policy_ref` (its stored version) the policy travels by digest."""
    return OverdueAccountInput(
        account_id=account_id,
        product=body.product,
        amount_due_minor=body.amount_due.amount_minor,
        currency=body.amount_due.currency,
        due_date=body.due_date,
        time_zone=body.customer.time_zone,
        jurisdiction=jurisdiction(body.customer.phone),
        risk_segment=body.risk_segment,
        vulnerable=body.vulnerable,
        policy=policy,
        policy_ref=policy_ref,
        bill_id=body.effective_bill_id(),
        consents=[consent.given() for consent in body.consents],
        itemization=body.itemization,
        release=max(RELEASES),  # this code's release (workflows/patches.py)
    )


def bill(account_id: str, body: OverdueReport) -> Bill:
    """The bill a report carries, as it is stored (and delivered from the store)."""
    return Bill(
        account_id=account_id,
        bill_id=body.effective_bill_id(),
        amount_minor=body.amount_due.amount_minor,
        currency=body.amount_due.currency,
        due_date=body.due_date,
    )


def new_bill(bill: Bill, itemization: Itemization | None = None) -> OverdueAmountReported:
    """A stored bill, signalled to a process already running, with its itemization (kept in
    the stored start input) if the report had one."""
    return OverdueAmountReported(
        bill_id=bill.bill_id,
        amount_minor=bill.amount_minor,
        currency=bill.currency,
        due_date=bill.due_date,
        itemization=itemization,
    )


def payment(body: PaymentReport) -> PaymentReported:
    return PaymentReported(
        payment_id=body.payment_id,
        amount_minor=body.amount_minor,
        currency=body.currency,
        paid_at=body.paid_at,
    )


def hardship(body: HardshipReport, text_id: str, now: datetime) -> HardshipReported:
    """`text_id`: the reason as stored in Postgres (`overdue.store.free_texts`); typed text
    never enters the workflow. Likewise below."""
    return HardshipReported(
        report_id=body.report_id, text_id=text_id, reported_at=body.reported_at or now
    )


def dispute_opened(body: DisputeReport, text_id: str) -> DisputeOpened:
    return DisputeOpened(dispute_id=body.dispute_id, text_id=text_id)


def dispute_closed(dispute_id: str, text_id: str) -> DisputeClosed:
    return DisputeClosed(dispute_id=dispute_id, text_id=text_id)


def contact_ceased(body: CeaseContactReport, text_id: str) -> ContactCeased:
    return ContactCeased(request_id=body.request_id, text_id=text_id)
