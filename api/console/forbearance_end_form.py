"""The console's form to end a payment holiday or a freeze early (`_forbearance_end.html`, on
the task page next to the forbearance form). It sends the workflow's validated
`end_forbearance` update, as `POST /v1/accounts/{id}/forbearance/end` does
(`api.forbearance_end`): a refusal (none running) shows the workflow's reason and changes
nothing; an accepted one is audited `forbearance.ended`. The agent's note, if any, is kept in
`free_texts`.
"""

from __future__ import annotations

from collections.abc import Mapping

from api.console.outcomes import Action, FormInvalid, _id, _ref, _typed, _update
from overdue.store.free_texts import FreeText
from workflows.forbearance_types import EndReason, ForbearanceEnd, ForbearanceKind
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountStatus

ACTION = "forbearance_end"
AUDIT_KIND = "forbearance.ended"
NOTE_KIND = "forbearance.note"  # as a grant's
KINDS = (ForbearanceKind.HOLIDAY.value, ForbearanceKind.FREEZE.value)
REASONS = tuple(r.value for r in EndReason)


def forbearance_end_action(
    form: Mapping[str, str], *, actor: str, task_id: int, status: AccountStatus
) -> Action:
    kind = form.get("kind", "")
    if kind not in KINDS:
        raise FormInvalid(f"kind must be one of {', '.join(KINDS)}")
    reason = form.get("reason", "")
    if reason not in REASONS:
        raise FormInvalid(f"reason must be one of {', '.join(REASONS)}")
    note = _typed(form, "note", NOTE_KIND, required=False, limit=1000, lines=True)
    end = ForbearanceEnd(
        actor=actor, kind=ForbearanceKind(kind), reason=EndReason(reason), text_id=_id(note)
    )
    return end_action(end, note, task_id=task_id)


def end_action(end: ForbearanceEnd, note: FreeText | None, **context: object) -> Action:
    """The update and its audit row (`context`: the console's task id), for the console and
    the API alike."""
    details = {**context, "kind": end.kind.value, "reason": end.reason.value}
    return Action(
        ACTION,
        AUDIT_KIND,
        _update(OverdueAccountWorkflow.end_forbearance, end),
        _ref(details, note),
        note,
    )
