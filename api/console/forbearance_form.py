"""The console's forbearance form on the task page (`_forbearance.html`): an agent grants a
settlement, a freeze of interest and fees or a payment holiday, or turns a borrower's request
down. It sends the workflow's validated `decide_forbearance` update, as
`POST /v1/accounts/{id}/forbearance` does (`api.forbearance`): a refusal shows the workflow's
reason and changes nothing; an accepted one is audited (`forbearance.granted` / `.refused`).
The agent's note, if any, is kept in `free_texts`.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import ValidationError

from api.console.outcomes import (
    Action,
    FormInvalid,
    _id,
    _ref,
    _typed,
    _update,
    parse_amount,
    parse_date,
)
from workflows.forbearance_types import ForbearanceDecision, ForbearanceKind
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountStatus

ACTION = "forbearance"


def forbearance_action(
    form: Mapping[str, str], *, actor: str, task_id: int, status: AccountStatus
) -> Action:
    kinds = [k.value for k in ForbearanceKind]
    kind = form.get("kind", "")
    if kind not in kinds:
        raise FormInvalid(f"kind must be one of {', '.join(kinds)}")
    approve = form.get("decision", "grant") != "refuse"
    settlement = kind == ForbearanceKind.SETTLEMENT
    terms: dict[str, object] = {}
    if approve and settlement:
        terms["amount_minor"] = parse_amount(form.get("amount", ""), status.currency)
        terms["pay_by"] = parse_date(form.get("pay_by", ""), "pay_by")
    elif approve:
        terms["until"] = parse_date(form.get("until", ""), "until")
    note = _typed(form, "note", "forbearance.note", required=False, limit=1000, lines=True)
    try:
        decision = ForbearanceDecision.model_validate(
            {
                "actor": actor,
                "kind": kind,
                "approve": approve,
                "request_id": form.get("request_id") or None,
                "text_id": _id(note),
                **terms,
            }
        )
    except ValidationError as err:
        raise FormInvalid(str(err.errors()[0].get("msg", "invalid"))) from None
    details = decision.model_dump(mode="json", exclude_none=True, exclude={"actor", "text_id"})
    return Action(
        ACTION,
        "forbearance.granted" if approve else "forbearance.refused",
        _update(OverdueAccountWorkflow.decide_forbearance, decision),
        _ref({"task_id": task_id, **details}, note),
        note,
    )
