"""A letter stage's contact: the letter rendered and stored once per stage, for the mailroom.

Like every contact (activities/call_tasks.py is the closest): the ledger row is written first
with its compliance receipt; the PDF is rendered from the account's facts and the customer's
name and postal address, read from Postgres here (never from Temporal); then the pre-send
check (`contact_gate.clear_to_send`) stores it in its own transaction, under the account's
lock, unique by the contact's idempotency key. A retry, or an attempt that crashed after
rendering, finds the row past `pending` (or renders again and stores nothing new): one letter
per stage, whatever happens.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import asyncpg
from temporalio import activity
from temporalio.exceptions import ApplicationError

from activities.letters.content import Fonts, LetterContent, Rendered
from overdue.settings_letters import LetterSettings
from overdue.store import contact_gate, contact_ledger, letters, receipts
from overdue.store.contact_ledger import LedgerRow, NewContact
from overdue.store.letters import LetterRecipient, RenderedLetter
from overdue.store.sealed_texts import SubjectErased
from workflows.contact_types import NotifyInput, NotifyResult
from workflows.decisions import CEASE_BLOCKED_NOTICES
from workflows.letters import LetterSpec

KEY_CONFLICT = "IdempotencyKeyConflict"  # non-retryable
LETTER_REFUSED = "LetterRefused"  # non-retryable: nobody to write to


def fonts_from(settings: LetterSettings) -> Fonts:
    return Fonts(
        regular=settings.letter_font, bold=settings.letter_font_bold, face=settings.letter_font_face
    )


def letter_locale(customer_locale: str, spec: LetterSpec) -> str:
    """The customer's locale if the policy has a letter in it, else one of its language
    (zh-TW -> zh-CN), else the policy's default locale."""
    texts = spec.letters.texts
    if customer_locale in texts:
        return customer_locale
    language = customer_locale.split("-")[0]
    same = sorted(locale for locale in texts if locale.split("-")[0] == language)
    if same:
        return same[0]
    # Loading a file makes sure the default locale has a letter; a policy built otherwise
    # (in code) still gets one of its own.
    return spec.default_locale if spec.default_locale in texts else sorted(texts)[0]


def letter_date(input: NotifyInput, now: datetime) -> date:
    """The letter's date: today in the customer's time zone (UTC for an input without facts)."""
    zone = ZoneInfo(input.facts.time_zone) if input.facts is not None else UTC
    return now.astimezone(zone).date()


def content_for(
    input: NotifyInput, spec: LetterSpec, customer: LetterRecipient, today: date
) -> LetterContent:
    locale = letter_locale(customer.locale, spec)
    return LetterContent(
        locale=locale,
        letter_ref=letters.reference(input.idempotency_key),
        account_id=input.account_id,
        product=spec.product,
        due_date=spec.due_date,
        days_past_due=input.days_past_due,
        letter_date=today,
        balance_minor=input.amount_minor,
        currency=input.currency,
        itemization=spec.itemization,
        own_text=spec.letters.texts[locale],
        objection_days=spec.letters.objection_days,
        lender=spec.letters.lender[locale],
        name=customer.full_name,
        address=customer.postal_address,
    )


class LetterMaker:
    """Makes letter stages' letters; `fonts` None: from settings (OVERDUE_LETTER_FONT...)."""

    def __init__(self, pool: asyncpg.Pool, fonts: Fonts | None = None) -> None:
        self._pool = pool
        self._fonts = fonts

    @property
    def fonts(self) -> Fonts:
        if self._fonts is None:
            self._fonts = fonts_from(LetterSettings())
        return self._fonts

    async def make(self, input: NotifyInput, spec: LetterSpec) -> NotifyResult:
        row = await self._row(input)
        if row.status != "pending":
            # An earlier attempt stored it (or withheld it: clear_to_send raises then).
            await contact_gate.clear_to_send(self._pool, row, input.basis)
            return NotifyResult(
                idempotency_key=input.idempotency_key, status_code=0, already_sent=True
            )
        rendered = await self._render(input, spec)
        storing = _LetterToStore(rendered)
        try:
            await contact_gate.clear_to_send(
                self._pool,
                row,
                input.basis,
                then=storing,
                cease_applies=input.kind in CEASE_BLOCKED_NOTICES,
            )
        except SubjectErased:
            raise _refused("the account was erased: no letter can be kept") from None
        activity.logger.info(
            "letter stored for the mailroom",
            extra={"idempotency_key": input.idempotency_key, "stage_id": input.stage_id},
        )
        return NotifyResult(
            idempotency_key=input.idempotency_key, status_code=0, already_sent=not storing.stored
        )

    async def _row(self, input: NotifyInput) -> LedgerRow:
        new = NewContact(
            idempotency_key=input.idempotency_key,
            account_id=input.account_id,
            channel="notify",
            stage_id=input.stage_id,
            workflow_run_id=activity.info().workflow_run_id,
            provider="mailroom",
        )
        receipt = receipts.from_facts(
            contact_key=input.idempotency_key,
            account_id=input.account_id,
            channel="notify",
            stage_id=input.stage_id,
            facts=input.facts,
            notify_kind=input.kind.value,
        )
        try:
            return await contact_ledger.create_or_get(self._pool, new, receipt)
        except contact_ledger.KeyTaken as err:
            raise ApplicationError(str(err), type=KEY_CONFLICT, non_retryable=True) from None

    async def _render(self, input: NotifyInput, spec: LetterSpec) -> RenderedLetter:
        customer = await letters.recipient(self._pool, input.account_id)
        if customer is None or not customer.full_name:
            raise _refused("no customer details for the account: nobody to write to")
        content = content_for(input, spec, customer, letter_date(input, datetime.now(UTC)))
        # Imported here, not at the top: fpdf2 and fontTools take seconds to import, and every
        # worker (and the workflow sandbox, through activities.notify) imports this module.
        from activities.letters.render import render

        # Laying out and subsetting the font takes a second or two of CPU: off the event loop.
        made: Rendered = await asyncio.to_thread(render, content, self.fonts)
        return RenderedLetter(
            locale=content.locale,
            pdf=made.pdf,
            sha256=made.sha256,
            pages=made.pages,
            has_address=bool(customer.postal_address),
        )


@dataclass
class _LetterToStore:
    """The contact itself, stored inside the pre-send check once it clears."""

    letter: RenderedLetter
    stored: bool = False

    async def __call__(self, conn: asyncpg.Connection, row: LedgerRow) -> None:
        self.stored = await letters.store(conn, row, self.letter)


def _refused(reason: str) -> ApplicationError:
    return ApplicationError(reason, type=LETTER_REFUSED, non_retryable=True)
