"""What the agent's task page shows about the customer and the debt, beyond the task itself:
the name, local time and whether a call is allowed now, product, due date, amount, the messages
sent with their text, the stage's call guide and the plan calculator.

Personal data (the name, the messages' text) is shown only to agents whose queue holds the
task (a supervisor looking from the supervisors' queue sees the rest of the page), and its
first showing per task and agent is audited (`overdue.store.task_desk`), as showing the phone
number is. Times are the customer's, with the zone named; the agent's own clock (UTC) is
shown beside the customer's local time.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from api.console import dials
from api.console.calling_hours import CallingHours
from api.console.context import Console
from api.console.formats import date_text, moment_text, weekday_text
from api.console.i18n import Translator
from api.console.plan_calculator import plan_view
from overdue.desk_policy import read_desk
from overdue.store import task_desk
from overdue.store.call_tasks import CallTask
from overdue.store.sealed_texts import ERASED
from workflows.dial_caps import DialCheck
from workflows.letter_input import balance_items
from workflows.types import AccountStatus


@dataclass(frozen=True)
class CallNow:
    """The call-allowed indicator: `code` stays in the markup, `text` is the agent's words."""

    allowed: bool
    code: str  # allowed, no_time_zone, outside_hours, rest_day, or the dial check's refusal
    text: str


def call_now(t: Translator, hours: CallingHours | None, dial: DialCheck | None) -> CallNow:
    """May the agent call now: the customer's calling hours and rest days first, then the
    caps and the customer's stated preferences (the dial check), as a dial would be judged."""
    if hours is None:
        return CallNow(False, "no_time_zone", t.gettext("No call now: time zone unknown."))
    if not hours.open:
        opens = moment_text(hours.workable_from, hours.time_zone, t.lang)
        if hours.rest_day:
            text = t.gettext("No call now: the customer's rest day; from %(opens)s.", opens=opens)
            return CallNow(False, "rest_day", text)
        text = t.gettext("No call now: outside calling hours; from %(opens)s.", opens=opens)
        return CallNow(False, "outside_hours", text)
    if dial is not None and dial.refusal is not None:
        return CallNow(False, str(dial.refusal), dials.refusal_text(t, dial))
    return CallNow(True, "allowed", t.gettext("Call allowed now."))


def _name_text(t: Translator, name: str | None) -> str:
    if name is None:
        return "—"
    return t.gettext("[erased]") if name == ERASED else name


# The borrower's self-service link in a message (activities/selfservice_link.py): a live
# credential for the page, so agents see the message without its token.
_LINK_TOKEN = re.compile(r"/s/[A-Za-z0-9_-]{16,64}")


def mask_links(text: str | None) -> str | None:
    return None if text is None else _LINK_TOKEN.sub("/s/…", text)


async def task_facts(
    page: Console,
    task: CallTask,
    status: AccountStatus | None,
    hours: CallingHours | None,
    dial: DialCheck | None,
    now: datetime,
) -> dict[str, Any]:
    """The task page's values for the customer and the debt (merged into its context)."""
    pool, t, lang = page.services.pool, page.t, page.lang
    holds = page.user.queue.value == task.queue  # only the queue's agents see personal data
    name = await task_desk.customer_name(pool, task.account_id) if holds else None
    contacts = [
        replace(c, text=mask_links(c.text))
        for c in await task_desk.contacts_with_texts(pool, task.account_id, open_bodies=holds)
    ]
    if holds:
        await task_desk.audit_personal_shown(pool, task.account_id, page.actor, task.id)
    zone = hours.time_zone if hours else (status.time_zone if status else None)
    policy = page.services.policy
    desk = read_desk(page.services.settings.policy_file)
    guide = desk.guide(task.stage_id, lang, policy.default_locale)
    facts: dict[str, Any] = {
        "zone": zone,
        "personal_shown": holds,
        "customer_name": _name_text(t, name) if holds else "",
        "product": await task_desk.account_product(pool, task.account_id),
        "call_now": call_now(t, hours, dial),
        "local_now": moment_text(now, zone, lang) if zone else "",
        "local_weekday": weekday_text(hours.local_now.date(), lang) if hours else "",
        "agent_now": moment_text(now, None, lang),
        "contacts": contacts,
        "guide": guide,
        "due_date_text": date_text(status.due_date, lang) if status else "",
        # What makes up the balance, as the backend reported it (None: not reported).
        "itemization": balance_items(status.itemization, status.balance_minor) if status else None,
        "plan": None,
    }
    if status is not None and task.status == "claimed":
        query: Mapping[str, str] = page.request.query_params
        today = hours.local_now.date() if hours else now.date()
        facts["plan"] = plan_view(t, query, status, policy, desk.plan.interval_days, today)
    return facts
