"""Inbound SMS that ask us to stop texting in free words ("please stop texting me",
"别再发短信了"): TCPA 2024 revocation by any reasonable means.

In the webhook's transaction, for each account of the number: the reply is kept in
`free_texts` (one text per account, its id derived from the message SID so a redelivery finds
the same one), a `confirm_revocation` call task asks an agent to confirm it, and the audit trail
says so; the number's request is recorded undecided, which the SMS activity checks before
every send (for a message already in flight). After the commit every open process of those
accounts gets `revocation_requested` (the message SID and the text's id, never the text): SMS
stop at once. A repeated delivery
signals again (the workflow ignores a request id it has seen), so a retry after a Temporal
outage still gets through. The exact keywords (STOP, 退订 ...) keep their own path.
"""

from __future__ import annotations

import logging
import uuid

import asyncpg
from temporalio.service import RPCError, RPCStatusCode

from api.dependencies import Services
from api.inbound_tasks import note_unmatched, open_reply_task
from api.problems import unavailable
from overdue.store import free_texts, revocation_requests
from overdue.store.free_texts import FreeText
from overdue.store.sms_consent import PhoneAccount
from workflows.names import workflow_id
from workflows.types import RevocationRequested

logger = logging.getLogger(__name__)

SIGNAL = "revocation_requested"
CONFIRM_STAGE = "confirm_revocation"  # what the agent sees as the task's stage
CONFIRM_QUEUE = "general"
# Before an ordinary reply (60): a lawful deadline runs, and SMS are stopped until it is done.
CONFIRM_PRIORITY = 70
TEXT_KIND = "sms.revocation_request"
_TEXT_IDS = uuid.UUID("3f0c6f7e-5b0e-4c43-9a57-2f5b7d1e9c21")  # namespace of the text ids


def text_of(message_sid: str, account_id: str, body: str) -> FreeText:
    """The reply kept for one account; the same id for every delivery of the message."""
    digest = uuid.uuid5(_TEXT_IDS, f"{message_sid}/{account_id}").hex
    return FreeText(id=f"txt-{digest}", kind=TEXT_KIND, text=body)


def request_of(message_sid: str, account_id: str) -> RevocationRequested:
    text_id = text_of(message_sid, account_id, "").id
    return RevocationRequested(request_id=message_sid, text_id=text_id)


async def hand_to_agents(
    conn: asyncpg.Connection,
    phone: str,
    message_sid: str,
    inbound_id: int,
    body: str,
    accounts: list[PhoneAccount],
) -> None:
    """The first delivery: the number's pending request (the SMS activity's fence), then the
    text, a confirm task and an audit row for each account."""
    await revocation_requests.record_request(conn, message_sid, phone)
    for account in accounts:
        text = text_of(message_sid, account.account_id, body)
        await free_texts.keep(conn, account.account_id, text)
        await open_reply_task(
            conn,
            key=f"revocation/{message_sid}/{account.account_id}",
            account_id=account.account_id,
            stage_id=CONFIRM_STAGE,
            queue=CONFIRM_QUEUE,
            priority=CONFIRM_PRIORITY,
            inbound_id=inbound_id,
            message_sid=message_sid,
            audit_kind="sms.revocation_requested",
            text_id=text.id,
        )
    if not accounts:
        await note_unmatched(conn, message_sid, revocation_request=True)


async def signal_requests(
    services: Services, accounts: list[PhoneAccount], message_sid: str
) -> None:
    """Stop SMS now: signal each account's open process (none open: nothing to stop)."""
    for account in accounts:
        handle = services.temporal.get_workflow_handle(workflow_id(account.account_id))
        try:
            await handle.signal(SIGNAL, request_of(message_sid, account.account_id))
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                continue
            logger.warning(
                "could not signal the revocation request (%s)",
                err.status.name if err.status else "unknown",
                extra={"account_id": account.account_id},
            )
            raise unavailable(
                "Temporal unavailable",
                "the request to stop texting is recorded; signalling the account's process "
                "failed, retry the webhook",
            ) from None
