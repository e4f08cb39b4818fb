"""Letter stages against embedded Postgres and the Temporal dev server: one letter per stage
however often, or however concurrently, its activity runs; withheld like any contact; sealed;
marked forward only by the mailroom; erased with the account."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from datetime import date, timedelta

import pytest
from temporalio import activity
from temporalio.client import Client
from temporalio.exceptions import ApplicationError
from temporalio.testing import ActivityEnvironment
from temporalio.worker import Worker

from activities.call_tasks import CallTaskActivities
from activities.event_audit import EventAuditActivities
from activities.notify import NotifyActivities
from overdue.store import erasure, letters, retention
from overdue.store.accounts import CustomerReport, store_account, store_customer
from tests.integration.side_effects.conftest import TwilioStack
from tests.integration.side_effects.letter_workflow import LetterOnQueue, MakeLetterWorkflow
from tests.integration.side_effects.support import decided_now, report_payment, run_like_temporal
from workers.sandbox import workflow_runner
from workflows.contact_types import CONTACT_WITHHELD, NotifyInput, NotifyResult
from workflows.letters import LenderContact, LetterPolicy, LetterSpec
from workflows.names import workflow_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.policy import NotifyKind, Policy
from workflows.types import OverdueAccountInput

pytestmark = pytest.mark.integration

LETTERS = LetterPolicy(
    objection_days=15,
    lender={"en": LenderContact(name="Example Credit", address="1 Bank Road", phone="400")},
    texts={"en": "Please pay."},
)


async def letter_account(stack: TwilioStack, *, address: str | None = "12 High St\nLondon") -> str:
    account = f"acct-{uuid.uuid4().hex[:10]}"
    async with stack.pool.acquire() as conn, conn.transaction():
        await store_account(conn, account, product="credit_card", currency="CNY")
        await store_customer(
            conn,
            account,
            CustomerReport(
                full_name="Alexandra Montgomery",
                phone_e164="+8613800138000",
                time_zone="Asia/Shanghai",
                locale="en",
                postal_address=address,
            ),
        )
    return account


def letter_input(
    account: str, *, letters: LetterPolicy = LETTERS, default_locale: str = "en"
) -> NotifyInput:
    """The notice a letter stage (`d20_letter`) hands its activity."""
    return NotifyInput(
        idempotency_key=f"{account}/e/d20_letter/1",
        account_id=account,
        stage_id="d20_letter",
        kind=NotifyKind.LETTER,
        amount_minor=123_456,
        currency="CNY",
        days_past_due=20,
        letter=LetterSpec(
            letters=letters,
            default_locale=default_locale,
            product="credit_card",
            due_date=date(2026, 11, 1),
        ),
    )


async def letter_rows(stack: TwilioStack, key: str) -> list[letters.Letter]:
    found = await letters.by_key(stack.pool, key)
    count = await stack.pool.fetchval(
        "SELECT count(*) FROM letters WHERE idempotency_key = $1", key
    )
    assert count == (0 if found is None else 1)
    return [] if found is None else [found]


async def test_a_letter_is_made_once_however_often_its_activity_runs(
    twilio_stack: TwilioStack,
) -> None:
    account = await letter_account(twilio_stack)
    input = letter_input(account)
    notify = NotifyActivities(twilio_stack.pool, None)
    # Two attempts at once (a retry racing a slow first attempt), then one more.
    both = await asyncio.gather(
        ActivityEnvironment().run(notify.send_notification, input),
        ActivityEnvironment().run(notify.send_notification, input),
    )
    again = await ActivityEnvironment().run(notify.send_notification, input)

    assert sorted(r.already_sent for r in both) == [False, True] and again.already_sent
    [letter] = await letter_rows(twilio_stack, input.idempotency_key)
    assert (letter.status, letter.locale, letter.has_address) == ("to_print", "en", True)
    pdf = await letters.pdf_for_download(twilio_stack.pool, letter, "tester")
    assert pdf is not None and pdf.startswith(b"%PDF-")
    assert hashlib.sha256(pdf).digest() == letter.sha256 and len(pdf) == letter.size_bytes
    sealed = await twilio_stack.pool.fetchval("SELECT pdf FROM letters WHERE id = $1", letter.id)
    assert sealed.startswith("sealed:v1:")  # personal data at rest: sealed, not the PDF
    ledger = await twilio_stack.pool.fetchrow(
        "SELECT status, provider FROM contact_ledger WHERE idempotency_key = $1",
        input.idempotency_key,
    )
    assert (ledger["status"], ledger["provider"]) == ("queued", "mailroom")
    kinds = await twilio_stack.pool.fetch(
        "SELECT kind FROM audit_events WHERE account_id = $1 ORDER BY id", account
    )
    assert [k["kind"] for k in kinds] == ["letter.rendered", "letter.downloaded"]
    receipt = await twilio_stack.pool.fetchrow(
        "SELECT channel, notify_kind FROM compliance_receipts WHERE contact_key = $1",
        input.idempotency_key,
    )
    assert (receipt["channel"], receipt["notify_kind"]) == ("notify", "letter")


class _CrashAfterStoring:
    """The real activity, whose first attempt does all its work and then fails as a worker
    dying before it reports the completion would: Temporal runs it again."""

    def __init__(self, real: NotifyActivities) -> None:
        self.real = real
        self.attempts: list[int] = []

    @activity.defn(name="send_notification")
    async def send_notification(self, input: NotifyInput) -> NotifyResult:
        self.attempts.append(activity.info().attempt)
        result = await self.real.send_notification(input)
        if activity.info().attempt == 1:
            raise ApplicationError("worker lost after the letter was stored")
        return result


async def test_a_retry_after_a_crash_makes_no_second_letter(twilio_stack: TwilioStack) -> None:
    """Through Temporal: the first attempt stores the letter and 'crashes'; the retry finds
    the letter (already made) and completes; the stage has one letter."""
    account = await letter_account(twilio_stack)
    input = letter_input(account)
    crashing = _CrashAfterStoring(NotifyActivities(twilio_stack.pool, None))
    queue = f"letters-{uuid.uuid4().hex[:8]}"
    client: Client = twilio_stack.temporal
    async with Worker(
        client,
        task_queue=queue,
        workflows=[MakeLetterWorkflow],
        activities=[crashing.send_notification],
        workflow_runner=workflow_runner(),
    ):
        outcome = await client.execute_workflow(
            MakeLetterWorkflow.run,
            LetterOnQueue(notice=input, task_queue=queue),
            id=f"letter-{uuid.uuid4().hex[:8]}",
            task_queue=queue,
            execution_timeout=timedelta(seconds=90),
        )
    assert crashing.attempts == [1, 2]
    assert outcome.result is not None and outcome.result.already_sent
    assert len(await letter_rows(twilio_stack, input.idempotency_key)) == 1


async def test_a_payment_after_the_decision_withholds_the_letter(
    twilio_stack: TwilioStack,
) -> None:
    account = await letter_account(twilio_stack)
    basis = await decided_now(twilio_stack.pool)
    await report_payment(twilio_stack.pool, account, "PAY-1")
    input = letter_input(account).model_copy(update={"basis": basis})
    notify = NotifyActivities(twilio_stack.pool, None)
    for _ in range(2):
        with pytest.raises(ApplicationError) as withheld:
            await run_like_temporal(notify.send_notification, input)
        assert (withheld.value.type, withheld.value.non_retryable) == (CONTACT_WITHHELD, True)
    assert await letter_rows(twilio_stack, input.idempotency_key) == []


async def test_the_mailroom_marks_a_letter_forward_only_and_posting_settles_its_contact(
    twilio_stack: TwilioStack,
) -> None:
    account = await letter_account(twilio_stack, address=None)
    input = letter_input(account)
    await ActivityEnvironment().run(
        NotifyActivities(twilio_stack.pool, None).send_notification, input
    )
    [letter] = await letter_rows(twilio_stack, input.idempotency_key)
    assert not letter.has_address
    pool = twilio_stack.pool
    with pytest.raises(letters.MarkRefused):
        await letters.mark(pool, letter.id, "sent", "clerk")  # not printed yet
    printed = await letters.mark(pool, letter.id, "printed", "clerk")
    assert printed is not None and (printed.status, printed.printed_by) == ("printed", "clerk")
    with pytest.raises(letters.MarkRefused):
        await letters.mark(pool, letter.id, "printed", "clerk")
    sent = await letters.mark(pool, letter.id, "sent", "clerk2")
    assert sent is not None and (sent.status, sent.sent_by) == ("sent", "clerk2")
    assert await letters.mark(pool, 2**62, "printed", "clerk") is None
    status = await pool.fetchval(
        "SELECT status FROM contact_ledger WHERE idempotency_key = $1", input.idempotency_key
    )
    assert status == "sent"


async def test_erasing_the_account_drops_the_pdf_and_keeps_the_record(
    twilio_stack: TwilioStack,
) -> None:
    account = await letter_account(twilio_stack)
    input = letter_input(account)
    await ActivityEnvironment().run(
        NotifyActivities(twilio_stack.pool, None).send_notification, input
    )
    async with twilio_stack.pool.acquire() as conn, conn.transaction():
        done = await erasure.erase(conn, account, "privacy-officer")
    assert done.counts["letter_pdfs"] == 1
    [letter] = await letter_rows(twilio_stack, input.idempotency_key)
    assert await letters.pdf_for_download(twilio_stack.pool, letter, "tester") is None
    address = await twilio_stack.pool.fetchval(
        "SELECT postal_address FROM customer_contacts WHERE account_id = $1", account
    )
    assert address is None


LETTER_POLICY = Policy.model_validate(
    {
        "id": "letter-stage",
        "version": 1,
        "anchor": "process_start",
        "contact_windows": {"default": {"start": "00:00", "end": "23:59:59"}},
        "stages": [{"id": "t2s_letter", "offset": "2s", "channel": "notify", "kind": "letter"}],
        "final_stage": "t2s_letter",
        "letters": LETTERS.model_dump(mode="json"),
    }
)


async def test_the_account_workflows_letter_stage_makes_one_letter_through_a_crash(
    twilio_stack: TwilioStack,
) -> None:
    """OverdueAccountWorkflow itself: its letter stage hands the policy's letter to the
    activity, whose first attempt stores it and 'crashes'; the retry finds it; the process
    closes after its final stage with one letter."""
    pool = twilio_stack.pool
    account = await letter_account(twilio_stack)
    crashing = _CrashAfterStoring(NotifyActivities(pool, None))
    calls, audit = CallTaskActivities(pool), EventAuditActivities(pool)
    queue = f"letter-stage-{uuid.uuid4().hex[:8]}"
    async with Worker(
        twilio_stack.temporal,
        task_queue=queue,
        workflows=[OverdueAccountWorkflow],
        activities=[
            calls.create_call_task,
            calls.cancel_open_call_tasks,
            crashing.send_notification,
            audit.record_received_events,
        ],
        workflow_runner=workflow_runner(),
    ):
        handle = await twilio_stack.temporal.start_workflow(
            OverdueAccountWorkflow.run,
            OverdueAccountInput(
                account_id=account,
                product="credit_card",
                amount_due_minor=123_456,
                currency="CNY",
                due_date=date(2026, 11, 1),
                time_zone="Asia/Shanghai",
                policy=LETTER_POLICY,
            ),
            id=workflow_id(account),
            task_queue=queue,
            execution_timeout=timedelta(seconds=90),
        )
        await handle.result()
    assert crashing.attempts == [1, 2]
    keys = await pool.fetch("SELECT idempotency_key FROM letters WHERE account_id = $1", account)
    assert len(keys) == 1
    [letter] = await letter_rows(twilio_stack, keys[0]["idempotency_key"])
    assert (letter.stage_id, letter.status) == ("t2s_letter", "to_print")


async def test_the_retention_purge_drops_a_letters_pdf_with_the_message_bodies(
    twilio_stack: TwilioStack,
) -> None:
    pool = twilio_stack.pool
    account = await letter_account(twilio_stack)
    input = letter_input(account)
    await ActivityEnvironment().run(NotifyActivities(pool, None).send_notification, input)
    [letter] = await letter_rows(twilio_stack, input.idempotency_key)
    async with pool.acquire() as conn, conn.transaction():
        await retention.blank_message_bodies(conn, letter.created_at, 10_000)  # not expired yet
    assert await letters.pdf_for_download(pool, letter, "tester") is not None
    async with pool.acquire() as conn, conn.transaction():
        expired = letter.created_at + timedelta(microseconds=1)
        assert await retention.blank_message_bodies(conn, expired, 10_000) >= 1
    assert await letters.pdf_for_download(pool, letter, "tester") is None
    [kept] = await letter_rows(twilio_stack, input.idempotency_key)
    assert kept.sha256 == letter.sha256
