"""Twilio webhooks: message status callbacks and inbound SMS.

Both check `X-Twilio-Signature` first (403, nothing changes). Status callbacks only move a
ledger row forward, so late, repeated and out-of-order ones are harmless. Inbound messages are
stored once per MessageSid; STOP/START change the number's consent and are audited; then the
number's STORED consent, with its version, is signalled to each open workflow of its accounts
(`sms_consent_changed`), never the keyword of the message: a redelivered STOP after a START
signals "opted in", and the workflow ignores versions older than one it applied. HELP is
answered with TwiML; a free-text request to stop texting stops SMS at once and asks an agent to
confirm it (`api/revocation_requests.py`); anything else becomes a call task for an agent. No
phone number or message text is logged.
"""

from __future__ import annotations

import logging
import re
from typing import Annotated

import asyncpg
from fastapi import APIRouter, Query, Request, Response, status
from temporalio.service import RPCError, RPCStatusCode
from twilio.twiml.messaging_response import MessagingResponse

from api import revocation_requests
from api.dependencies import Services, ServicesDep
from api.inbound_tasks import note_unmatched, open_reply_task
from api.problems import Problem, unavailable
from api.sms_keywords import InboundKind, classify_message
from api.twilio_signature import verified_form
from overdue.inputs import ledger_ref, replace_control_characters
from overdue.store import audit, sms_consent
from overdue.store.contact_ledger import PROVIDER_STATUSES
from overdue.store.inbound_messages import record_inbound
from overdue.store.sms_consent import PhoneAccount
from overdue.store.sms_ledger import apply_provider_status
from workflows.names import workflow_id
from workflows.types import SmsConsentChanged

logger = logging.getLogger(__name__)
router = APIRouter(prefix="/webhooks/twilio", tags=["webhooks"])

CONSENT_SIGNAL = "sms_consent_changed"
REPLY_STAGE = "inbound_reply"
REPLY_QUEUE = "general"
REPLY_PRIORITY = 60  # a customer waiting for an answer goes before routine reminder calls
TWIML = "application/xml"

_MESSAGE_SID = re.compile(r"^(SM|MM)[0-9a-f]{32}$")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ERROR_CODE = re.compile(r"^[0-9]{1,6}$")

HELP_TEXTS = {
    "en": "Overdue account reminders. For help with your bill, reply with your question and an "
    "agent will contact you. Reply STOP to opt out.",
    "zh": "逾期账单提醒。如需帮助，请直接回复您的问题，我们的客服会联系您。回复TD退订。",  # noqa: RUF001
}


@router.post(
    "/status",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Twilio message status callback",
)
async def status_callback(
    request: Request,
    services: ServicesDep,
    ref: Annotated[
        str | None, Query(description="Our ledger row id, put in the callback URL at send time.")
    ] = None,
) -> Response:
    """Move the message's ledger row forward; an older or repeated status changes nothing."""
    form = await verified_form(request, services.settings)
    _check_account(form, services)
    message_sid = _required(form, "MessageSid", _MESSAGE_SID, "a Twilio message SID (SM...)")
    reported = form.get("MessageStatus") or form.get("SmsStatus") or ""
    if reported not in PROVIDER_STATUSES:
        raise _invalid("MessageStatus", f"unknown message status {reported!r}")
    error_code = form.get("ErrorCode") or None
    if error_code is not None and not _ERROR_CODE.fullmatch(error_code):
        raise _invalid("ErrorCode", "must be a Twilio error code (digits)")
    reference = ledger_ref(ref) if ref is not None else None
    if ref is not None and reference is None:
        raise _invalid(
            "ref", "must be a ledger row id (ASCII digits, within bigint)", where="query"
        )
    async with services.pool.acquire() as conn:
        result = await apply_provider_status(
            conn,
            provider="twilio",
            provider_id=message_sid,
            reference=reference,
            status=reported,
            error_code=error_code,
        )
    logger.info(
        "twilio status %s: %s",
        reported,
        result.value,
        extra={"message_sid": message_sid, "error_code": error_code},
    )
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/inbound", response_class=Response, summary="Twilio inbound SMS")
async def inbound_sms(request: Request, services: ServicesDep) -> Response:
    """STOP / START / HELP and their Chinese forms, or a reply that becomes an agent's task."""
    form = await verified_form(request, services.settings)
    _check_account(form, services)
    message_sid = _required(form, "MessageSid", _MESSAGE_SID, "a Twilio message SID (SM...)")
    phone = _required(form, "From", _PHONE, "an E.164 phone number")
    # Refusing the message would lose the customer's words (and Twilio would retry in vain).
    body = replace_control_characters(form.get("Body", ""))
    kind = classify_message(body)
    async with services.pool.acquire() as conn, conn.transaction():
        accounts = await sms_consent.accounts_for_phone(conn, phone)
        first_time = await record_inbound(
            conn,
            message_sid=message_sid,
            from_e164=phone,
            body=body,
            kind=kind.value,
            account_id=accounts[0].account_id if accounts else None,
        )
        if first_time is not None:
            await _apply(conn, kind, phone, message_sid, first_time, accounts, body)
        consent = await sms_consent.consent_state(conn, phone)
    logger.info(
        "twilio inbound sms: %s%s",
        kind.value,
        "" if first_time is not None else " (repeated delivery)",
        extra={"message_sid": message_sid, "accounts": len(accounts)},
    )
    if kind in (InboundKind.OPT_OUT, InboundKind.OPT_IN) and consent is not None:
        # Repeated deliveries signal again (a retry after a Temporal outage must still reach
        # the workflows), but the stored state, not this message's keyword: versioned, so
        # signalling it twice or late changes nothing. The SMS activity checks the consent
        # table before every send either way.
        await _signal_consent(services, accounts, consent)
    if kind is InboundKind.REVOCATION_REQUEST:
        await revocation_requests.signal_requests(services, accounts, message_sid)
    reply = MessagingResponse()
    if kind is InboundKind.HELP:
        reply.message(_help_text(accounts))
    return Response(content=str(reply), media_type=TWIML)


async def _apply(
    conn: asyncpg.Connection,
    kind: InboundKind,
    phone: str,
    message_sid: str,
    inbound_id: int,
    accounts: list[PhoneAccount],
    body: str,
) -> None:
    """What a first delivery of an inbound message changes, in the webhook's transaction."""
    if kind in (InboundKind.OPT_OUT, InboundKind.OPT_IN):
        await _change_consent(
            conn, phone, message_sid, accounts, opted_out=kind is InboundKind.OPT_OUT
        )
    elif kind is InboundKind.HELP:
        for account_id in _audited_accounts(accounts):
            await audit.record_event(
                conn,
                account_id=account_id,
                actor="customer",
                kind="sms.help_requested",
                details={"message_sid": message_sid},
            )
    elif kind is InboundKind.REVOCATION_REQUEST:
        await revocation_requests.hand_to_agents(
            conn, phone, message_sid, inbound_id, body, accounts
        )
    else:
        await _hand_reply_to_agents(conn, message_sid, inbound_id, accounts)


def _audited_accounts(accounts: list[PhoneAccount]) -> list[str | None]:
    """The accounts an audit row is written for: each of the number's, or one with none."""
    return [a.account_id for a in accounts] or [None]


async def _change_consent(
    conn: asyncpg.Connection,
    phone: str,
    message_sid: str,
    accounts: list[PhoneAccount],
    *,
    opted_out: bool,
) -> None:
    """STOP / START: the number's consent, audited for each of its accounts."""
    changed = await sms_consent.set_consent(conn, phone, opted_out=opted_out, source="inbound_sms")
    for account_id in _audited_accounts(accounts):
        await audit.record_event(
            conn,
            account_id=account_id,
            actor="customer",
            kind="sms.consent_changed",
            details={
                "opted_out": opted_out,
                "source": "inbound_sms",
                "message_sid": message_sid,
                "changed": changed,
            },
        )


async def _hand_reply_to_agents(
    conn: asyncpg.Connection, message_sid: str, inbound_id: int, accounts: list[PhoneAccount]
) -> None:
    """Any other reply: a call task for an agent on each of the number's accounts."""
    for account in accounts:
        await open_reply_task(
            conn,
            key=f"inbound/{message_sid}/{account.account_id}",
            account_id=account.account_id,
            stage_id=REPLY_STAGE,
            queue=REPLY_QUEUE,
            priority=REPLY_PRIORITY,
            inbound_id=inbound_id,
            message_sid=message_sid,
            audit_kind="sms.reply_received",
        )
    if not accounts:
        await note_unmatched(conn, message_sid)


async def _signal_consent(
    services: Services, accounts: list[PhoneAccount], consent: sms_consent.ConsentState
) -> None:
    change = SmsConsentChanged(
        opted_out=consent.opted_out, source="inbound_sms", version=consent.version
    )
    for account in accounts:
        handle = services.temporal.get_workflow_handle(workflow_id(account.account_id))
        try:
            await handle.signal(CONSENT_SIGNAL, change)
        except RPCError as err:
            if err.status == RPCStatusCode.NOT_FOUND:
                continue  # no open process for this account: the consent table still holds
            logger.warning(
                "could not signal the consent change (%s)",
                err.status.name if err.status else "unknown",
                extra={"account_id": account.account_id},
            )
            raise unavailable(
                "Temporal unavailable",
                "the consent change is recorded; signalling the account's process failed, "
                "retry the webhook",
            ) from None


def _help_text(accounts: list[PhoneAccount]) -> str:
    languages = {a.locale.split("-")[0].lower() for a in accounts}
    return HELP_TEXTS["zh"] if "zh" in languages else HELP_TEXTS["en"]


def _check_account(form: dict[str, str], services: Services) -> None:
    expected = services.settings.twilio_account_sid
    if expected is not None and form.get("AccountSid") != expected:
        raise _invalid("AccountSid", "is not this deployment's Twilio account")


def _required(form: dict[str, str], name: str, pattern: re.Pattern[str], what: str) -> str:
    value = form.get(name, "")
    if not pattern.fullmatch(value):
        raise _invalid(name, f"must be {what}" if value else "is required")
    return value


def _invalid(field: str, reason: str, *, where: str = "body") -> Problem:
    return Problem(
        422,
        "Invalid request",
        f"{field}: {reason}",
        errors=[{"field": field, "in": where, "reason": reason}],
    )
