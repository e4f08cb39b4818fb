"""The console's form for a free-text request to stop SMS: an agent confirms or rejects it.

Shown on a task page while the account's process has a request pending (the `confirm_revocation`
task the inbound webhook created, or a supervisor's `revocation_overdue` task), with the
customer's words read back from `free_texts`. The decision is the workflow's validated
`decide_revocation` update; then the number's pending requests are settled in Postgres, and a
confirmation records the opt-out in the number's consent store, as the STOP keyword does, so
the SMS activity's own check refuses every later send.
The agent's note, if any, is kept in `free_texts`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from pydantic import ValidationError

from api.console import forbearance_end_form, forbearance_form
from api.console.outcomes import Action, FormInvalid, _id, _ref, _typed, _update, agent_action
from overdue.store import audit, revocation_requests, sms_consent
from overdue.store.accounts import customer_phone
from overdue.store.free_texts import texts_by_id
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountStatus, RevocationDecision

ACTION = "revocation"
CONSENT_SOURCE = "agent_confirmed_revocation"


def revocation_action(
    form: Mapping[str, str], *, actor: str, task_id: int, status: AccountStatus
) -> Action:
    decision_text = form.get("decision", "")
    if decision_text not in ("confirm", "reject"):
        raise FormInvalid("decision must be confirm or reject")
    note = _typed(form, "note", "revocation.note", required=False, limit=1000, lines=True)
    try:
        decision = RevocationDecision(
            actor=actor, confirm=decision_text == "confirm", text_id=_id(note)
        )
    except ValidationError as err:
        raise FormInvalid(str(err.errors()[0].get("msg", "invalid"))) from None
    return Action(
        ACTION,
        "sms.revocation_decided",
        _update(OverdueAccountWorkflow.decide_revocation, decision),
        _ref({"task_id": task_id, "confirm": decision.confirm}, note),
        note,
    )


async def record_decision(pool: asyncpg.Pool, account_id: str, actor: str, confirm: bool) -> None:
    """After the workflow accepted the decision: the number's requests are settled (the SMS
    activity's fence lifts); a confirmation opts the number out in the consent store (a no-op
    when it already was), audited like a STOP."""
    async with pool.acquire() as conn, conn.transaction():
        phone = await customer_phone(conn, account_id)
        if phone is None:
            return
        decision: revocation_requests.Decision = "confirmed" if confirm else "rejected"
        await revocation_requests.decide(conn, phone, decision, actor)
        if not confirm:
            return
        changed = await sms_consent.set_consent(conn, phone, opted_out=True, source=CONSENT_SOURCE)
        await audit.record_event(
            conn,
            account_id=account_id,
            actor=actor,
            kind="sms.consent_changed",
            details={"opted_out": True, "source": CONSENT_SOURCE, "changed": changed},
        )


async def revocation_view(pool: asyncpg.Pool, status: AccountStatus | None) -> dict[str, Any]:
    """What the form shows: the pending request and the customer's words ('' once erased)."""
    pending = status.revocation if status is not None else None
    if pending is None:
        return {}
    texts = await texts_by_id(pool, [pending.text_id])
    return {"pending": pending, "text": texts.get(pending.text_id or "", "")}


def build_action(
    form: Mapping[str, str], *, actor: str, task_id: int, status: AccountStatus
) -> Action:
    """The task page's action: this form's, or another outcome form's."""
    if form.get("action") == ACTION:
        return revocation_action(form, actor=actor, task_id=task_id, status=status)
    if form.get("action") == forbearance_end_form.ACTION:
        return forbearance_end_form.forbearance_end_action(
            form, actor=actor, task_id=task_id, status=status
        )
    if form.get("action") == forbearance_form.ACTION:
        return forbearance_form.forbearance_action(
            form, actor=actor, task_id=task_id, status=status
        )
    return agent_action(form, actor=actor, task_id=task_id, status=status)


async def after_action(pool: asyncpg.Pool, account_id: str, actor: str, action: Action) -> None:
    """What an accepted action still records outside the workflow."""
    if action.name == ACTION:
        await record_decision(pool, account_id, actor, bool(action.audit_details["confirm"]))
