"""The right of access and portability (PIPL art. 45, GDPR arts. 15 and 20): everything held
about one account, in one JSON document, shared by `overdue export-personal-data` and
`GET /v1/accounts/{id}/personal-data`.

Read in one snapshot (`overdue.store.subject_access`), texts opened through the one
sealed-texts module: an erased account answers its tombstone, what is left of it, with
`[erased]` where a text was. Every access is audited (`privacy.accessed`: who, and how many
items of each kind were handed out, never a value). See docs/privacy.md.
"""

from __future__ import annotations

from datetime import datetime

import asyncpg
from pydantic import BaseModel, ConfigDict, Field

from overdue.number_refs import number_ref
from overdue.settings_retention import RetentionPeriods
from overdue.store import audit, consents, sealed_files, selfservice_records
from overdue.store import subject_access as held
from overdue.store.accounts import account_exists
from overdue.store.erasure import recorded_erasure
from overdue.store.sealed_texts import open_text, open_texts

ACCESSED_KIND = "privacy.accessed"


class UnknownAccount(Exception):
    """No backend ever reported this account."""


class _Part(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Contact(_Part):
    name: str
    phone: str
    time_zone: str
    locale: str
    updated_at: datetime
    postal_address: list[str] | None = None  # where letters go; None: none on file


class SentSms(_Part):
    at: datetime
    stage_id: str
    template_id: str | None
    status: str
    body: str | None = Field(description="None: removed by the retention purge")


class ReceivedSms(_Part):
    at: datetime
    kind: str
    body: str


class FreeText(_Part):
    kind: str
    at: datetime
    text: str | None


class ConsentChange(_Part):
    channel: str
    granted: bool
    source: str
    at: datetime
    recorded_at: datetime | None


class OptOut(_Part):
    number_ref: str = Field(description="the number's keyed reference (hex), not the number")
    opted_out: bool
    source: str
    changed_at: datetime


class CallTask(_Part):
    id: int
    stage_id: str
    status: str
    outcome: str | None
    created_at: datetime
    due_at: datetime
    outcome_at: datetime | None


class DialAttempt(_Part):
    task_id: int
    dialled_at: datetime
    outcome: str


class AuditEvent(_Part):
    kind: str
    actor: str
    at: datetime


class Receipt(_Part):
    at: datetime
    channel: str
    stage_id: str


class Erased(_Part):
    erased_at: datetime
    erased_by: str


class EvidenceFileHeld(_Part):
    id: str
    content_type: str
    size_bytes: int
    uploaded_at: datetime


class SelfServiceHeld(_Part):
    """What the borrower's self-service holds (docs/self-service.md): the ID's last 4 the
    backend supplied, the evidence files uploaded (listed; agents open them in the console)."""

    id_last4: str | None = None
    evidence_files: list[EvidenceFileHeld] = Field(default_factory=list)


class PersonalData(_Part):
    """Everything held about one account; `erased` set when it was erased (a tombstone)."""

    account_id: str
    erased: Erased | None
    contact: Contact | None = Field(description="None: removed by the retention purge")
    sms_sent: list[SentSms]
    sms_received: list[ReceivedSms]
    free_texts: list[FreeText]
    consents: list[ConsentChange]
    sms_opt_outs: list[OptOut]
    call_tasks: list[CallTask]
    dial_attempts: list[DialAttempt]
    audit_events: list[AuditEvent]
    compliance_receipts: list[Receipt]
    retention_days: dict[str, int] = Field(
        description="how long each class of data is kept, in days (docs/privacy.md#retention)"
    )
    self_service: SelfServiceHeld = Field(default_factory=SelfServiceHeld)

    def counts(self) -> dict[str, int]:
        """How many items of each kind: what the audit records, never a value."""
        return {
            "contact": int(self.contact is not None),
            **{
                name: len(getattr(self, name))
                for name in (
                    "sms_sent",
                    "sms_received",
                    "free_texts",
                    "consents",
                    "sms_opt_outs",
                    "call_tasks",
                    "dial_attempts",
                    "audit_events",
                    "compliance_receipts",
                )
            },
        }


def retention_days(periods: RetentionPeriods) -> dict[str, int]:
    """The period of each class; consent history goes with the collection record."""
    return {
        "contact_details": periods.contact_details,
        "message_bodies": periods.message_bodies,
        "free_texts": periods.free_texts,
        "evidence_files": periods.evidence_files,
        "collection_records": periods.collection_records,
        "audit_events": periods.audit_events,
        "consent_events": periods.consent_events,
    }


async def export_personal_data(
    pool: asyncpg.Pool, account_id: str, actor: str, periods: RetentionPeriods
) -> PersonalData:
    """Everything held about the account, and its `privacy.accessed` audit row; UnknownAccount
    for an account no backend reported."""
    # One read-only snapshot, so the document is consistent with itself.
    async with (
        pool.acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        if not await account_exists(conn, account_id):
            raise UnknownAccount(account_id)
        erasure = await recorded_erasure(conn, account_id)
        sent, received, typed = await _messages(conn, account_id)
        export = PersonalData(
            account_id=account_id,
            erased=None
            if erasure is None
            else Erased(erased_at=erasure.erased_at, erased_by=erasure.actor),
            contact=await _contact(conn, account_id),
            sms_sent=sent,
            sms_received=received,
            free_texts=typed,
            consents=await _consents(conn, account_id),
            sms_opt_outs=await _opt_outs(conn, account_id),
            call_tasks=[CallTask(**dict(r)) for r in await held.call_tasks(conn, account_id)],
            dial_attempts=[
                DialAttempt(**dict(r)) for r in await held.dial_attempts(conn, account_id)
            ],
            audit_events=[
                AuditEvent(kind=r["kind"], actor=r["actor"], at=r["occurred_at"])
                for r in await held.audit_events(conn, account_id)
            ],
            compliance_receipts=[
                Receipt(at=r["at"], channel=r["channel"], stage_id=r["stage_id"])
                for r in await held.receipts(conn, account_id)
            ],
            retention_days=retention_days(periods),
            self_service=await _self_service(conn, account_id),
        )
    # Its own transaction, after the snapshot and before anything is handed out: an audit insert
    # in a repeatable-read transaction would fail whenever another one moved the chain's head
    # since the snapshot; and if this one fails, the caller gets no data.
    await audit.record_event(
        pool,
        account_id=account_id,
        actor=actor,
        kind=ACCESSED_KIND,
        details={"counts": export.counts()},
    )
    return export


async def _self_service(conn: asyncpg.Connection, account_id: str) -> SelfServiceHeld:
    files = await sealed_files.files_of(conn, account_id)
    return SelfServiceHeld(
        id_last4=await selfservice_records.id_last4_of(conn, account_id),
        evidence_files=[
            EvidenceFileHeld(
                id=f.id,
                content_type=f.content_type,
                size_bytes=f.size_bytes,
                uploaded_at=f.created_at,
            )
            for f in files
        ],
    )


async def _contact(conn: asyncpg.Connection, account_id: str) -> Contact | None:
    row = await held.contact_row(conn, account_id)
    if row is None:
        return None
    address = await open_text(conn, row["postal_address"])
    return Contact(
        name=await open_text(conn, row["full_name"]) or "",
        postal_address=None if address is None else address.split("\n"),
        phone=row["phone_e164"],
        time_zone=row["time_zone"],
        locale=row["locale"],
        updated_at=row["updated_at"],
    )


async def _messages(
    conn: asyncpg.Connection, account_id: str
) -> tuple[list[SentSms], list[ReceivedSms], list[FreeText]]:
    sent = await held.sms_sent(conn, account_id)
    received = await held.sms_received(conn, await held.numbers(conn, account_id))
    typed = await held.free_texts(conn, account_id)
    bodies = await open_texts(conn, (r["body"] for r in sent))
    inbound = await open_texts(conn, (r["body"] for r in received))
    texts = await open_texts(conn, (r["text"] for r in typed))
    return (
        [
            SentSms(
                at=r["created_at"],
                stage_id=r["stage_id"],
                template_id=r["template_id"],
                status=r["status"],
                body=body,
            )
            for r, body in zip(sent, bodies, strict=True)
        ],
        [
            ReceivedSms(at=r["received_at"], kind=r["kind"], body=body or "")
            for r, body in zip(received, inbound, strict=True)
        ],
        [
            FreeText(kind=r["kind"], at=r["created_at"], text=text)
            for r, text in zip(typed, texts, strict=True)
        ],
    )


async def _consents(conn: asyncpg.Connection, account_id: str) -> list[ConsentChange]:
    return [
        ConsentChange(
            channel=c.channel,
            granted=c.granted,
            source=c.source,
            at=c.at,
            recorded_at=c.recorded_at,
        )
        for c in await consents.history(conn, account_id, limit=1_000_000)
    ]


async def _opt_outs(conn: asyncpg.Connection, account_id: str) -> list[OptOut]:
    """The opt-out state of the numbers Postgres still knows for the account, and of those
    agents dialled for it (kept by reference only, so an erased account's stay listed)."""
    refs = {number_ref(n) for n in await held.numbers(conn, account_id)}
    refs.update(await held.dialled_refs(conn, account_id))
    return [
        OptOut(
            number_ref=bytes(r["number_ref"]).hex(),
            opted_out=r["opted_out"],
            source=r["source"],
            changed_at=r["changed_at"],
        )
        for r in await held.opt_outs(conn, sorted(refs))
    ]
