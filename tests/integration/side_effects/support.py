"""Helpers for side-effect tests: customers in Postgres, SMS inputs, and Temporal-like retries."""

from __future__ import annotations

import asyncio
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TypeVar

import asyncpg
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment

from activities.twilio_sender import TwilioSmsSender
from overdue.settings import TwilioConfig
from overdue.store import reported_events
from overdue.store.transactions import transaction
from tests.integration.support import CUSTOMER_ZONE
from workflows.contact_types import DecisionBasis, SendSmsInput

TWILIO_ACCOUNT_SID = "AC" + "5e" * 16
TWILIO_AUTH_TOKEN = "fake-twilio-auth-token"  # the fake's and the webhooks' shared secret
TWILIO_FROM = "+15005550006"
CLIENT_TIMEOUT = 1.0  # the fake hangs for 3 s: a hang is a timeout; a busy machine is not
LIST_SETTLE = timedelta(seconds=0.2)

TEMPLATES = {
    "en": "Hello {name}, {amount} {currency} was due on {due_date} ({days_past_due} days). "
    "Reply STOP to opt out.",
    "zh-CN": "{name}您好，您于{due_date}到期的{amount}{currency}尚未还款。回复TD退订。",  # noqa: RUF001
}
T = TypeVar("T")


@dataclass(frozen=True)
class Customer:
    account_id: str
    name: str
    phone: str
    locale: str


def unique_phone() -> str:
    return "+86139" + "".join(random.choices("0123456789", k=8))


async def add_customer(
    pool: asyncpg.Pool,
    *,
    name: str = "Zhou Huimin",
    phone: str | None = None,
    locale: str = "en",
) -> Customer:
    """An account with its contact row, as the API stores them (no workflow)."""
    customer = Customer(
        account_id=f"acct-{uuid.uuid4().hex[:10]}",
        name=name,
        phone=phone or unique_phone(),
        locale=locale,
    )
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute(
            """
            INSERT INTO accounts (account_id, product, currency)
            VALUES ($1, 'credit_line', 'CNY')
            """,
            customer.account_id,
        )
        await conn.execute(
            """
            INSERT INTO customer_contacts (account_id, full_name, phone_e164, time_zone, locale)
            VALUES ($1, $2, $3, $4, $5)
            """,
            customer.account_id,
            customer.name,
            customer.phone,
            CUSTOMER_ZONE,
            customer.locale,
        )
    return customer


def sms_input(
    customer: Customer, stage_id: str = "d1_sms", *, days_past_due: int = 1
) -> SendSmsInput:
    return SendSmsInput(
        idempotency_key=f"{customer.account_id}/episode-1/{stage_id}/1",
        account_id=customer.account_id,
        stage_id=stage_id,
        template_id="notice",
        templates=TEMPLATES,
        default_locale="en",
        amount_minor=123_456,
        currency="CNY",
        due_date=date(2026, 11, 20),
        days_past_due=days_past_due,
    )


def twilio_sender(api_base: str, public_url: str) -> TwilioSmsSender:
    return TwilioSmsSender(
        TwilioConfig(
            account_sid=TWILIO_ACCOUNT_SID,
            auth_token=TWILIO_AUTH_TOKEN,
            from_=TWILIO_FROM,
            messaging_service_sid=None,
            api_base=api_base,
            timeout_seconds=CLIENT_TIMEOUT,
            validity_period_seconds=3600,
            status_callback_url=f"{public_url}/webhooks/twilio/status",
        ),
        list_settle=LIST_SETTLE,
    )


@dataclass
class Attempts:
    """What a run of retries saw: the ApplicationError types of the failed attempts."""

    errors: list[str] = field(default_factory=list)


async def run_like_temporal(
    activity: Callable[[T], Awaitable[object]],
    input: T,
    *,
    attempts: Attempts | None = None,
    max_attempts: int = 40,
) -> object:
    """Call an activity as Temporal would: retry retryable failures with backoff, stop at a
    non-retryable one (raised) or a result (returned)."""
    env = ActivityEnvironment()
    attempts = attempts if attempts is not None else Attempts()
    delay = 0.05
    for _ in range(max_attempts):
        try:
            return await env.run(activity, input)
        except ApplicationError as err:
            attempts.errors.append(err.type or "")
            if err.non_retryable:
                raise
        await asyncio.sleep(delay)
        delay = min(delay * 2, 0.4)
    raise AssertionError(f"still failing after {max_attempts} attempts: {attempts.errors}")


async def decided_now(pool: asyncpg.Pool, known: tuple[str, ...] = ()) -> DecisionBasis:
    """A decision made now (Postgres' clock) by a run that started just now, knowing `known`."""
    now = await pool.fetchval("SELECT now()")
    return DecisionBasis(payments_known=list(known), since=now)


async def report_payment(
    db: asyncpg.Pool | asyncpg.Connection, account_id: str, payment_id: str
) -> None:
    """A payment as the API records it (its reported event and audit row, written with its
    signal); on a connection, inside the caller's transaction."""
    async with transaction(db) as conn:
        await reported_events.record_once(
            conn,
            account_id=account_id,
            kind=reported_events.PAYMENT_REPORTED,
            event_id=payment_id,
            actor="billing",
            details={"payment_id": payment_id, "amount_minor": 100, "currency": "CNY"},
        )
