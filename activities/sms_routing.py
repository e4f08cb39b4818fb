"""Residency: each message goes through the sender its jurisdiction is routed to.

The route is CN's when either the account's jurisdiction (the workflow's `facts.jurisdiction`)
or the number's country is CN, else the jurisdiction's when it is routed, else the number
country's, else the default sender. So a CN account and a +86 number both take the CN route
even when the other says otherwise: CN messages never reach a foreign provider (PIPL arts.
38-39). The ledger row's `provider` is the route's sender, written with the row; every
attempt of a row takes the same route (the number and the jurisdiction are the row's and the
input's, fixed across retries).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

import phonenumbers

from activities.sms_types import OutboundSms, SentSms, SmsSender
from activities.template_params import template_messages
from overdue.store.contact_ledger import LedgerRow
from workflows.contact_types import SendSmsInput

# The jurisdiction whose messages stay with its own route whichever side (the account's
# jurisdiction or the number's country) names it.
RESIDENT = "CN"


def number_country(e164: str) -> str | None:
    try:
        return phonenumbers.region_code_for_number(phonenumbers.parse(e164)) or None
    except phonenumbers.NumberParseException:
        return None


class RoutingSmsSender:
    """Dispatches to one sender per route; `default` for jurisdictions not routed."""

    def __init__(self, default: SmsSender, routes: Mapping[str, SmsSender]) -> None:
        self._default = default
        self._routes = {jurisdiction.upper(): sender for jurisdiction, sender in routes.items()}
        # What the worker's start line shows, e.g. "CN=alibaba,*=twilio" (never a ledger value:
        # rows carry the routed sender's own name).
        shown = [f"{where}={sender.name}" for where, sender in self._routes.items()]
        self.name = ",".join([*shown, f"*={default.name}"])
        senders = [default, *self._routes.values()]
        # A claim is trusted for the slowest sender: rows of every route share the claim rule.
        self.reconcile_after: timedelta = max(s.reconcile_after for s in senders)

    def route(self, to: str, jurisdiction: str | None) -> SmsSender:
        keys = [k for k in ((jurisdiction or "").upper(), number_country(to)) if k]
        if RESIDENT in keys and RESIDENT in self._routes:
            return self._routes[RESIDENT]  # a CN account or a CN number: kept in the PRC
        for key in keys:
            if key in self._routes:
                return self._routes[key]
        return self._default

    async def send(self, message: OutboundSms) -> SentSms:
        return await self.route(message.to, message.jurisdiction).send(message)

    async def find(self, message: OutboundSms, since: datetime) -> list[SentSms]:
        return await self.route(message.to, message.jurisdiction).find(message, since)

    async def close(self) -> None:
        closed: set[int] = set()
        for sender in (self._default, *self._routes.values()):
            if id(sender) not in closed:
                closed.add(id(sender))
                await sender.close()


def outbound_message(row: LedgerRow, input: SendSmsInput) -> OutboundSms:
    """The row's message: its route's facts, and the text as each provider's registered
    template where the policy maps one (activities.template_params)."""
    assert row.recipient is not None and row.body is not None  # checked by the activity
    return OutboundSms(
        idempotency_key=row.idempotency_key,
        reference=str(row.id),
        to=row.recipient,
        body=row.body,
        jurisdiction=jurisdiction(input),
        templates=template_messages(input, row.body),
    )


def jurisdiction(input: SendSmsInput) -> str | None:
    """The account's jurisdiction as the workflow decided with it (None in older inputs)."""
    return input.facts.jurisdiction if input.facts is not None else None


def provider_for(sender: SmsSender, to: str, jurisdiction: str | None) -> str:
    """The name of the sender a message to `to` goes through: the ledger row's provider."""
    if isinstance(sender, RoutingSmsSender):
        return sender.route(to, jurisdiction).name
    return sender.name
