"""The account workflow's update that sends a borrower a one-time code by SMS, for the
self-service identity check of an account without `id_last4` (docs/self-service.md).

A base class of `OverdueAccountWorkflow` (through `workflows.account_handlers`); old histories
never carry it. The API sends it with the form's idempotency key (update id
`selfservice-code-<key>`); the handler runs the SMS queue's `send_selfservice_code` activity,
which is the stage SMS's activity with its own body: one ledger row per form key (exactly one
SMS however often the form, the update or the activity is retried), the same pre-send check,
opt-out and consent checks, and a compliance receipt with basis `requested`.

The code itself is made and kept by the activity (Postgres, hashed): it never enters this
workflow's inputs, results or history. The account's record is not changed: the code is not a
collection contact, so it counts on no contact cap and obeys no contact window (the borrower
asked for it, on the page, that minute).
"""

from __future__ import annotations

import re

from temporalio import workflow
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workflows.contact_attempt import ACTIVITY_RETRY, ACTIVITY_TIMEOUT, decision_basis
    from workflows.contact_facts import facts_for
    from workflows.contact_types import CONTACT_WITHHELD, SendSmsInput, SendSmsResult
    from workflows.decisions import days_past_due
    from workflows.names import SMS_TASK_QUEUE
    from workflows.selfservice_code_types import CodeRequested, CodeSent
    from workflows.types import AccountRecord

SEND_SELFSERVICE_CODE = "send_selfservice_code"  # the activity, on the SMS queue
CODE_STAGE = "selfservice_code"  # the ledger row's and receipt's stage id
_KEY = re.compile(r"^[0-9a-f]{32}$")


def code_key(record: AccountRecord, request_key: str) -> str:
    """The ledger row's idempotency key: one SMS per form key (the activity reads the form key
    back from its last segment)."""
    return f"{record.account_id}/{record.episode_id}/{CODE_STAGE}/{request_key}"


class SelfServiceCodeUpdates:
    _record: AccountRecord  # the workflow's

    @workflow.update
    async def send_selfservice_code(self, request: CodeRequested) -> CodeSent:
        """Send the code of the borrower's request once; the outcome, never the code."""
        record = self._record
        try:
            await workflow.execute_activity(
                SEND_SELFSERVICE_CODE,
                _code_input(record, request.request_key),
                result_type=SendSmsResult,
                task_queue=SMS_TASK_QUEUE,
                start_to_close_timeout=ACTIVITY_TIMEOUT,
                retry_policy=ACTIVITY_RETRY,
                summary="self-service: send the one-time code",
            )
        except ActivityError as err:
            cause = err.cause
            if isinstance(cause, ApplicationError) and cause.type == CONTACT_WITHHELD:
                return CodeSent(outcome="withheld")
            return CodeSent(outcome="refused")
        return CodeSent(outcome="sent")

    @send_selfservice_code.validator
    def _validate_code_request(self, request: CodeRequested) -> None:
        if not _KEY.match(request.request_key):  # the model checks it too; defence in depth
            raise ApplicationError("malformed request key", type="RequestRejected")


def _code_input(record: AccountRecord, request_key: str) -> SendSmsInput:
    return SendSmsInput(
        idempotency_key=code_key(record, request_key),
        account_id=record.account_id,
        stage_id=CODE_STAGE,
        template_id=CODE_STAGE,
        templates={},  # the activity's own texts (activities/selfservice_code.py)
        default_locale=record.policy.default_locale,
        amount_minor=record.balance_minor,
        currency=record.currency,
        due_date=record.due_date,
        days_past_due=days_past_due(record.due_date, record.time_zone, workflow.now()),
        basis=decision_basis(record, CODE_STAGE, "sms"),
        facts=facts_for(record, CODE_STAGE, "requested"),
    )
