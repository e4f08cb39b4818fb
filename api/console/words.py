"""The domain's ids in words: account states, task statuses, channels, contact statuses,
outcomes, audit kinds, stages. The page shows the words in the agent's language; the id stays
in the markup (data-* attributes) for tests and support.

Each table maps an id to (msgctxt, English msgid); `make messages` extracts them through the
`word` keyword (babel.cfg). An id missing here (a status added later) reads as the id itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

from api.console.i18n import Translator
from overdue.store.agent_desk import SUMMARY_TEXT
from workflows.currencies import format_minor
from workflows.policy import Policy
from workflows.stages import Stage


def word(context: str, message: str) -> tuple[str, str]:
    """Marks a domain word for extraction, with its context (the msgctxt translators see)."""
    return (context, message)


TABLES: Mapping[str, Mapping[str, tuple[str, str]]] = {
    "state": {
        "active": word("account state", "active"),
        "promise": word("account state", "promise to pay"),
        "hardship_review": word("account state", "hardship review"),
        "repayment_plan": word("account state", "repayment plan"),
        "disputed": word("account state", "disputed"),
        "paused": word("account state", "paused"),
        "escalated": word("account state", "escalated"),
        "resolved": word("account state", "resolved (paid)"),
        "closed": word("account state", "closed"),
        "parked": word("account state", "parked (waiting for ops)"),
    },
    "task_status": {
        "open": word("call task status", "waiting in the queue"),
        "claimed": word("call task status", "being worked"),
        "done": word("call task status", "finished"),
        "cancelled": word("call task status", "cancelled"),
    },
    "channel": {
        "sms": word("channel", "SMS"),
        "call_task": word("channel", "agent call"),
        "call": word("channel", "phone call"),
        "notify": word("channel", "notice through the lender's systems"),
        "dial": word("channel", "dial attempt"),
    },
    "contact_status": {
        "pending": word("contact status", "being sent"),
        "queued": word("contact status", "queued at the provider"),
        "accepted": word("contact status", "accepted by the provider"),
        "scheduled": word("contact status", "scheduled by the provider"),
        "task_created": word("contact status", "call task created"),
        "sending": word("contact status", "sending"),
        "sent": word("contact status", "sent"),
        "delivered": word("contact status", "delivered"),
        "undelivered": word("contact status", "not delivered"),
        "failed": word("contact status", "failed"),
        "canceled": word("contact status", "cancelled"),
        "rejected": word("contact status", "refused by the provider"),
        "blocked": word("contact status", "not sent: the customer opted out"),
        "withheld": word("contact status", "not sent: paid in the meantime"),
        "read": word("contact status", "read"),
    },
    "call_outcome": {
        "reached": word("call outcome", "Reached"),
        "no_answer": word("call outcome", "No answer"),
        "wrong_number": word("call outcome", "Wrong number"),
        "refused": word("call outcome", "Refused to pay"),
        "complaint": word("call outcome", "Complaint"),
        "callback_requested": word("call outcome", "Call back at"),
        "no_outcome": word("call outcome", "nothing recorded"),
    },
    "dial_outcome": {
        "no_answer": word("dial outcome", "No answer"),
        "busy": word("dial outcome", "Busy"),
        "voicemail": word("dial outcome", "Voicemail"),
        "reached": word("dial outcome", "Spoke with the customer"),
        "refused": word("dial outcome", "Customer refused to talk"),
        "wrong_party": word("dial outcome", "Someone else answered"),
        "wrong_number": word("dial outcome", "Wrong number"),
    },
    # The audit kinds the task page lists as earlier outcomes (overdue.store.agent_desk).
    "audit": {
        "call.outcome": word("recorded outcome", "Call outcome"),
        "promise.recorded": word("recorded outcome", "Promise to pay recorded"),
        "hardship.reported": word("recorded outcome", "Hardship reported"),
        "hardship.decided": word("recorded outcome", "Hardship decided"),
        "dispute.opened": word("recorded outcome", "Dispute opened"),
        "account.escalated": word("recorded outcome", "Escalated to a supervisor"),
        "account.paused": word("recorded outcome", "Account paused"),
        "account.resumed": word("recorded outcome", "Account resumed"),
        "call_task.completed": word("recorded outcome", "Call task finished"),
        "forbearance.granted": word("recorded outcome", "Forbearance granted"),
        "forbearance.refused": word("recorded outcome", "Forbearance refused"),
        "forbearance.ended": word("recorded outcome", "Forbearance ended early"),
        "contact.phone_revealed": word("recorded outcome", "Phone number shown"),
        "vulnerability.marked": word("recorded outcome", "Marked vulnerable"),
        "vulnerability.cleared": word("recorded outcome", "No longer vulnerable"),
        "contact_preferences.set": word("recorded outcome", "Contact preferences recorded"),
        "letter.rendered": word("recorded outcome", "Letter made for the mailroom"),
        "letter.printed": word("recorded outcome", "Letter printed"),
        "letter.sent": word("recorded outcome", "Letter posted"),
        "letter.downloaded": word("recorded outcome", "Letter downloaded"),
        "complaint.resolved": word("recorded outcome", "Complaint resolved"),
    },
    "letter_status": {
        "to_print": word("letter status", "to print"),
        "printed": word("letter status", "printed"),
        "sent": word("letter status", "posted"),
    },
    "vulnerability": {
        "elderly": word("vulnerability", "elderly"),
        "disability": word("vulnerability", "disability"),
        "illness": word("vulnerability", "illness"),
        "bereavement": word("vulnerability", "bereavement"),
        "financial": word("vulnerability", "financial difficulty"),
    },
    "consent_source": {
        "contract": word("consent source", "the loan or card agreement"),
        "app_settings": word("consent source", "the customer's app settings"),
        "agent_recorded": word("consent source", "told an agent"),
        "backend": word("consent source", "the lender's systems"),
    },
    "complaint_outcome": {
        "upheld": word("complaint outcome", "upheld"),
        "partly_upheld": word("complaint outcome", "partly upheld"),
        "not_upheld": word("complaint outcome", "not upheld"),
        "withdrawn": word("complaint outcome", "withdrawn by the customer"),
    },
    "role": {
        "agent": word("role", "agent"),
        "supervisor": word("role", "supervisor"),
        "mailroom": word("role", "mailroom"),
    },
    "queue": {
        "general": word("queue", "general"),
        "specialist": word("queue", "specialist (vulnerable customers)"),
        "supervisor": word("queue", "supervisors"),
    },
    "forbearance_end_reason": {
        "borrower_asked": word("forbearance end reason", "the borrower asks to resume"),
        "granted_in_error": word("forbearance end reason", "granted by mistake"),
        "other": word("forbearance end reason", "other (see the note)"),
    },
    "forbearance_kind": {
        "settlement": word("forbearance kind", "settlement for less than the balance"),
        "freeze": word("forbearance kind", "freeze of interest and fees"),
        "holiday": word("forbearance kind", "payment holiday"),
    },
    "notice_kind": {
        "app_notice": word("notice kind", "app notice"),
        "email": word("notice kind", "email"),
        "letter": word("notice kind", "letter"),
        "credit_restriction": word("notice kind", "credit line restriction"),
        "legal_handover": word("notice kind", "hand-over for legal review"),
        "settlement_write_down": word("notice kind", "settlement write-down"),
        "interest_freeze": word("notice kind", "freeze of interest and fees"),
        "interest_freeze_ended": word("notice kind", "end of a freeze of interest and fees"),
    },
    # Keys of an earlier outcome's details, as the outcomes table labels them.
    "detail": {
        "outcome": word("outcome detail", "outcome"),
        "callback_at": word("outcome detail", "call back at"),
        "amount_minor": word("outcome detail", "amount"),
        "promised_date": word("outcome detail", "promised date"),
        "text": word("outcome detail", "note"),
        "approve": word("outcome detail", "approved"),
        "instalments": word("outcome detail", "instalments"),
        "report_id": word("outcome detail", "report"),
        "dispute_id": word("outcome detail", "dispute"),
        "category": word("outcome detail", "category"),
        "kind": word("outcome detail", "kind"),
        "until": word("outcome detail", "until"),
        "pay_by": word("outcome detail", "pay by"),
        "reason": word("outcome detail", "reason"),
        "request_id": word("outcome detail", "request"),
    },
}


def in_words(t: Translator, table: str, value: object) -> str:
    """`value` (an id, or an enum member) in words, or the id itself when the table has none."""
    key = str(getattr(value, "value", value))
    entry = TABLES[table].get(key)
    return t.pgettext(*entry) if entry else key


def stage_words(t: Translator, policy: Policy, stage_id: str, others: Sequence[Policy] = ()) -> str:
    """A stage as an agent says it: when (from the due date) and what it sends, e.g.
    '2 days after the due date: agent call'. A stage the current policy does not have is looked
    up in `others` (the versions processes were started with, newest first: a challenger's, an
    older version's), and then names its policy; one in none of them reads as its id."""
    for candidate in (policy, *others):
        stage = next((s for s in candidate.stages if s.id == stage_id), None)
        if stage is None:
            continue
        text = t.gettext(
            "%(when)s: %(what)s", when=_when(t, candidate, stage.offset), what=_what(stage, t)
        )
        if candidate is policy:
            return text
        return t.gettext("%(stage)s (policy %(policy)s)", stage=text, policy=candidate.id)
    return stage_id


def _when(t: Translator, policy: Policy, offset: timedelta) -> str:
    if policy.anchor == "due_date" and offset % timedelta(days=1) == timedelta(0):
        days = offset.days
        if days == 0:
            return t.gettext("on the due date")
        if days > 0:
            return t.ngettext(
                "%(num)d day after the due date", "%(num)d days after the due date", days
            )
        return t.ngettext(
            "%(num)d day before the due date", "%(num)d days before the due date", -days
        )
    amount = _amount(t, abs(offset))
    if policy.anchor == "process_start":
        return t.gettext("%(amount)s after the process started", amount=amount)
    if offset < timedelta(0):
        return t.gettext("%(amount)s before the due date", amount=amount)
    return t.gettext("%(amount)s after the due date", amount=amount)


def _amount(t: Translator, span: timedelta) -> str:
    seconds = int(span.total_seconds())
    if seconds % 86_400 == 0:
        return t.ngettext("%(num)d day", "%(num)d days", seconds // 86_400)
    if seconds % 3600 == 0:
        return t.ngettext("%(num)d hour", "%(num)d hours", seconds // 3600)
    if seconds % 60 == 0:
        return t.ngettext("%(num)d minute", "%(num)d minutes", seconds // 60)
    return t.ngettext("%(num)d second", "%(num)d seconds", seconds)


def _what(stage: Stage, t: Translator) -> str:
    # The stage's channel, or the notice it sends; not its queue (a vulnerable customer's
    # task goes to the specialists whatever the stage says).
    if stage.kind is not None:
        return in_words(t, "notice_kind", stage.kind)
    return in_words(t, "channel", stage.channel)


# Detail keys whose values are codes of a table above (forbearance decisions and ends).
DETAIL_TABLES = {"kind": "forbearance_kind", "reason": "forbearance_end_reason"}


def detail_words(t: Translator, details: Mapping[str, Any], currency: str | None) -> str:
    """An earlier outcome's details in words: 'outcome: Reached; note: …'. The task id (the
    page it is on) and the text's id are left out; unknown keys show as they are."""
    shown: list[str] = []
    for key, value in sorted(details.items()):
        if key in {"task_id", "text_id"}:
            continue
        text = str(value)
        if key == "text" and len(text) > SUMMARY_TEXT:
            text = text[: SUMMARY_TEXT - 1] + "…"
        elif key == "outcome":
            text = in_words(t, "call_outcome", value)
        elif key == "amount_minor" and currency and isinstance(value, int):
            text = f"{format_minor(value, currency)} {currency}"
        elif key == "category":
            text = in_words(t, "vulnerability", value)
        elif key in DETAIL_TABLES:
            text = in_words(t, DETAIL_TABLES[key], value)
        elif isinstance(value, bool):
            text = t.gettext("yes") if value else t.gettext("no")
        shown.append(
            t.gettext("%(label)s: %(value)s", label=in_words(t, "detail", key), value=text)
        )
    return t.pgettext("list separator", "; ").join(shown)
