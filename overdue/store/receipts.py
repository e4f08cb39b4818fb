"""Compliance receipts: one per contact, written in the transaction that makes the contact.

A receipt says what held at the instant of the contact: the customer's local time, the window
and calendar rule applied, the cap counts (counted here, from the ledger, in the same
transaction) and the caps in force, the number's SMS consent as Postgres has it, the dispute /
cease / opt-out / vulnerability state the workflow decided on, the policy id and version.
No names, phone numbers or free text. `overdue compliance audit` re-checks them
(overdue/compliance_audit.py, docs/compliance.md).

Who writes one, always inside the transaction that makes the contact, so a contact never
exists without its receipt nor a receipt without its contact:
- the SMS and notify ledger rows (`contact_ledger.create_or_get`, before any provider call);
- a call task (`activities/call_tasks.py`, in the pre-send check's transaction);
- an agent's dial attempt (`write_receipt`, from the dial attempt's insert).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg

from overdue.number_refs import number_ref
from workflows.contact_types import ConsentBasis, ContactFacts

ReceiptChannel = Literal["sms", "call_task", "notify", "dial"]
ReceiptBasis = Literal["stage", "instalment", "fallback", "requested", "agent"]
# Ledger statuses of a contact that never reached the customer: not counted against caps.
NOT_MADE = ("withheld", "blocked", "rejected")
WEEK = timedelta(days=7)


def dial_key(attempt_id: int) -> str:
    """The contact key of an agent's dial attempt (its row in dial_attempts)."""
    return f"dial/{attempt_id}"


@dataclass(frozen=True)
class CapsInForce:
    sms_per_day: int
    sms_per_week: int
    calls_per_day: int
    calls_per_7_days: int


@dataclass(frozen=True)
class SeenState:
    """The customer's state as the deciding side saw it."""

    sms_opted_out: bool
    contact_ceased: bool
    open_disputes: int
    vulnerable: bool


@dataclass(frozen=True)
class Receipt:
    """What the caller knows of a contact; `write_receipt` adds the instant, the local time,
    the counts and the consent from Postgres. `time_zone` None: the customer's stored zone.
    `seen`, `caps` and the policy None: not known (an activity input from before receipts)."""

    contact_key: str
    account_id: str
    channel: ReceiptChannel
    stage_id: str
    basis: ReceiptBasis
    time_zone: str | None = None
    jurisdiction: str | None = None
    window_start: time | None = None
    window_end: time | None = None
    calendar_rule: str | None = None
    notify_kind: str | None = None
    caps: CapsInForce | None = None
    seen: SeenState | None = None
    policy_id: str | None = None
    policy_version: int | None = None
    consent: ConsentBasis | None = None  # the grant relied on; None: the channel needs none


def from_facts(
    *,
    contact_key: str,
    account_id: str,
    channel: ReceiptChannel,
    stage_id: str,
    facts: ContactFacts | None,
    notify_kind: str | None = None,
) -> Receipt:
    """A workflow contact's receipt, from the facts its activity input carries."""
    if facts is None:
        # An input scheduled before receipts existed: what Postgres knows, nothing more.
        basis: ReceiptBasis = "stage"
        return Receipt(contact_key, account_id, channel, stage_id, basis, notify_kind=notify_kind)
    return Receipt(
        contact_key=contact_key,
        account_id=account_id,
        channel=channel,
        stage_id=stage_id,
        basis=facts.basis,
        time_zone=facts.time_zone,
        jurisdiction=facts.jurisdiction,
        window_start=facts.window_start,
        window_end=facts.window_end,
        calendar_rule=facts.calendar_rule,
        notify_kind=notify_kind,
        caps=CapsInForce(
            facts.sms_per_day, facts.sms_per_week, facts.calls_per_day, facts.calls_per_7_days
        ),
        seen=SeenState(
            facts.sms_opted_out, facts.contact_ceased, facts.open_disputes, facts.vulnerable
        ),
        policy_id=facts.policy_id,
        policy_version=facts.policy_version,
        consent=facts.consent,
    )


@dataclass(frozen=True)
class Counts:
    sms_today: int
    sms_7_days: int
    calls_today: int
    calls_7_days: int


def local_midnight(at: datetime, zone: ZoneInfo) -> datetime:
    """The UTC instant the customer's local day containing `at` began."""
    day = at.astimezone(zone).date()
    return datetime.combine(day, time.min, tzinfo=zone).astimezone(UTC)


async def write_receipt(
    conn: asyncpg.Connection, receipt: Receipt, at: datetime | None = None
) -> bool:
    """Write the contact's receipt in the caller's transaction (the one that makes the
    contact); False when its key already has one (a retry of the same contact). `at`: the
    contact's own instant when its row has one (a dial attempt's); else the transaction's."""
    if not conn.is_in_transaction():
        raise RuntimeError("write_receipt needs the transaction that makes the contact")
    phone = await conn.fetchval(
        "SELECT phone_e164 FROM customer_contacts WHERE account_id = $1", receipt.account_id
    )
    known = await conn.fetchrow(
        """
        SELECT now() AS at, c.time_zone, o.opted_out, o.version
          FROM (SELECT 1) one
          LEFT JOIN customer_contacts c ON c.account_id = $1
          LEFT JOIN sms_opt_outs o ON o.number_ref = $2
        """,
        receipt.account_id,
        number_ref(phone) if phone else None,
    )
    assert known is not None
    at = known["at"] if at is None else at
    # The workflow's zone, else the stored customer's; UTC only for an account with neither,
    # which the API never stores (tests make such contacts).
    zone_name = receipt.time_zone or known["time_zone"] or "UTC"
    zone = ZoneInfo(zone_name)
    counts = await _counts(conn, receipt, at, local_midnight(at, zone))
    consent = (
        "never_changed"
        if known["opted_out"] is None
        else ("opted_out" if known["opted_out"] else "opted_in")
    )
    return await _insert(conn, receipt, at, zone_name, zone, counts, consent, known["version"])


async def _counts(
    conn: asyncpg.Connection, receipt: Receipt, at: datetime, day_start: datetime
) -> Counts:
    """SMS and calls made up to `at` (this contact included): ledger rows that reached the
    customer or an agent's queue; a task an event asked for is not a call the caps count, nor
    the self-service code a borrower asked for an SMS (both basis `requested`)."""
    row = await conn.fetchrow(
        """
        SELECT count(*) FILTER (WHERE l.channel = 'sms' AND l.created_at >= $3) AS sms_today,
               count(*) FILTER (WHERE l.channel = 'sms') AS sms_7_days,
               count(*) FILTER (WHERE l.channel = 'call_task' AND l.created_at >= $3)
                   AS calls_today,
               count(*) FILTER (WHERE l.channel = 'call_task') AS calls_7_days
          FROM contact_ledger l
          LEFT JOIN compliance_receipts r ON r.contact_key = l.idempotency_key
         WHERE l.account_id = $1 AND l.idempotency_key <> $4
           AND l.created_at > $2::timestamptz - interval '7 days' AND l.created_at <= $2
           AND l.status <> ALL($5::text[])
           AND ((l.channel = 'sms' AND coalesce(r.basis, 'stage') <> 'requested')
                OR (l.channel = 'call_task' AND l.status <> 'pending'
                    AND coalesce(r.basis, 'stage') <> 'requested'))
        """,
        receipt.account_id,
        at,
        day_start,
        receipt.contact_key,
        list(NOT_MADE),
    )
    assert row is not None
    sms = 1 if receipt.channel == "sms" and receipt.basis != "requested" else 0
    call = 1 if receipt.channel in ("call_task", "dial") and receipt.basis != "requested" else 0
    return Counts(
        sms_today=row["sms_today"] + sms,
        sms_7_days=row["sms_7_days"] + sms,
        calls_today=row["calls_today"] + call,
        calls_7_days=row["calls_7_days"] + call,
    )


async def _insert(
    conn: asyncpg.Connection,
    receipt: Receipt,
    at: datetime,
    zone_name: str,
    zone: ZoneInfo,
    counts: Counts,
    consent: str,
    consent_version: int | None,
) -> bool:
    caps, seen, relied = receipt.caps, receipt.seen, receipt.consent
    inserted: bool | None = await conn.fetchval(
        """
        INSERT INTO compliance_receipts
            (contact_key, account_id, channel, stage_id, basis, notify_kind, at, time_zone,
             local_time, jurisdiction, window_start, window_end, calendar_rule,
             sms_today, sms_7_days, calls_today, calls_7_days,
             sms_per_day, sms_per_week, calls_per_day, calls_per_7_days,
             sms_consent, sms_consent_version,
             sms_opted_out, contact_ceased, open_disputes, vulnerable,
             policy_id, policy_version, consent_channel, consent_source, consent_given_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32)
        ON CONFLICT (contact_key) DO NOTHING RETURNING true
        """,
        receipt.contact_key,
        receipt.account_id,
        receipt.channel,
        receipt.stage_id,
        receipt.basis,
        receipt.notify_kind,
        at,
        zone_name,
        at.astimezone(zone).replace(tzinfo=None),
        receipt.jurisdiction,
        receipt.window_start,
        receipt.window_end,
        receipt.calendar_rule,
        counts.sms_today,
        counts.sms_7_days,
        counts.calls_today,
        counts.calls_7_days,
        caps.sms_per_day if caps else None,
        caps.sms_per_week if caps else None,
        caps.calls_per_day if caps else None,
        caps.calls_per_7_days if caps else None,
        consent,
        consent_version,
        seen.sms_opted_out if seen else None,
        seen.contact_ceased if seen else None,
        seen.open_disputes if seen else None,
        seen.vulnerable if seen else None,
        receipt.policy_id,
        receipt.policy_version,
        relied.channel if relied else None,
        relied.source if relied else None,
        relied.given_at if relied else None,
    )
    return bool(inserted)
