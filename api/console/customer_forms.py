"""Agents' forms about the customer on the task page: mark or clear vulnerability, record the
times and channels the customer said not to use. Parsing is pure and raises `FormInvalid`;
the `Action` goes through the workflow's validated updates like the other outcome forms."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import time
from typing import Any

from pydantic import ValidationError

from api.console.outcomes import Action, FormInvalid, _first_error, _id, _ref, _typed, _update
from workflows.customer_state import (
    MAX_INCONVENIENT_TIMES,
    UNTIL_MIDNIGHT,
    WEEKDAY_NAMES,
    ContactPreferences,
    InconvenientTime,
    RefusableChannel,
    VulnerabilityCategory,
    VulnerabilityChange,
)
from workflows.overdue_account import OverdueAccountWorkflow
from workflows.types import AccountStatus

CUSTOMER_ACTIONS = ("vulnerability", "preferences")
_DAY_INDEX = {name.lower(): i for i, name in enumerate(WEEKDAY_NAMES)}
_DAY_WORDS = {"weekdays": (0, 1, 2, 3, 4), "weekends": (5, 6), "daily": tuple(range(7))}
_LINE = re.compile(
    r"^(?P<days>\S+)\s+(?P<start>\d{1,2}:\d{2})\s*[-\u2013]\s*(?P<end>\d{1,2}:\d{2})$"
)
REFUSABLE: tuple[RefusableChannel, ...] = ("sms", "call")


def parse_days(text: str) -> tuple[int, ...]:
    """'mon-fri', 'sat,sun', 'weekdays', 'weekends', 'daily', 'wed'."""
    word = text.lower()
    if word in _DAY_WORDS:
        return _DAY_WORDS[word]
    days: list[int] = []
    for part in word.split(","):
        first, _, last = part.partition("-")
        if first not in _DAY_INDEX or (last and last not in _DAY_INDEX):
            raise FormInvalid(
                f"days {text!r}: write mon..sun, a range like mon-fri, a list like sat,sun, "
                "or weekdays, weekends, daily"
            )
        a, b = _DAY_INDEX[first], _DAY_INDEX[last or first]
        if b < a:
            raise FormInvalid(f"days {part!r}: a range goes forward in the week, like mon-fri")
        days.extend(range(a, b + 1))
    return tuple(days)


def parse_clock(text: str, *, end: bool) -> time:
    hours, minutes = (int(x) for x in text.split(":"))
    if end and (hours, minutes) == (24, 0):
        return UNTIL_MIDNIGHT
    if hours > 23 or minutes > 59:
        raise FormInvalid(f"{text!r} is not a time of day (00:00 to 23:59, or 24:00 as an end)")
    return time(hours, minutes)


def parse_inconvenient_times(text: str) -> tuple[InconvenientTime, ...]:
    """One range a line: 'weekdays 12:00-14:00', 'sat,sun 08:00-10:00', 'daily 20:00-24:00'."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_INCONVENIENT_TIMES:
        raise FormInvalid(f"at most {MAX_INCONVENIENT_TIMES} inconvenient times, one a line")
    times = []
    for line in lines:
        found = _LINE.match(line)
        if found is None:
            raise FormInvalid(f"inconvenient time {line!r}: write 'days HH:MM-HH:MM'")
        start = parse_clock(found["start"], end=False)
        end = parse_clock(found["end"], end=True)
        if end <= start:
            raise FormInvalid(
                f"inconvenient time {line!r} is empty: its end must be after its start"
            )
        times.append(InconvenientTime(weekdays=parse_days(found["days"]), start=start, end=end))
    return tuple(times)


def _vulnerability(form: Mapping[str, str], actor: str, task_id: int) -> Action:
    mark = form.get("change") != "clear"
    category_text = (form.get("category") or "").strip() if mark else ""
    if mark and category_text not in {c.value for c in VulnerabilityCategory}:
        choices = ", ".join(c.value for c in VulnerabilityCategory)
        raise FormInvalid(f"category must be one of {choices}")
    category = VulnerabilityCategory(category_text) if mark else None
    note = _typed(form, "note", "vulnerability.note", required=False, limit=1000, lines=True)
    change = VulnerabilityChange(actor=actor, vulnerable=mark, category=category, text_id=_id(note))
    details: dict[str, Any] = {"task_id": task_id}
    if category is not None:
        details["category"] = category.value
    return Action(
        "vulnerability",
        "vulnerability.marked" if mark else "vulnerability.cleared",
        _update(OverdueAccountWorkflow.set_vulnerability, change),
        _ref(details, note),
        note,
    )


def _preferences(form: Mapping[str, str], actor: str, task_id: int) -> Action:
    times = parse_inconvenient_times(form.get("inconvenient_times", ""))
    refused = tuple(c for c in REFUSABLE if form.get(f"refuse_{c}") in ("on", "1", "true"))
    note = _typed(form, "note", "preferences.note", required=False, limit=1000, lines=True)
    prefs = ContactPreferences(
        actor=actor, inconvenient_times=times, refused_channels=refused, text_id=_id(note)
    )
    details = {
        "task_id": task_id,
        "inconvenient_times": [t.label() for t in times],
        "refused_channels": list(refused),
    }
    return Action(
        "preferences",
        "contact_preferences.set",
        _update(OverdueAccountWorkflow.set_contact_preferences, prefs),
        _ref(details, note),
        note,
    )


_FORMS: dict[str, Callable[[Mapping[str, str], str, int], Action]] = {
    "vulnerability": _vulnerability,
    "preferences": _preferences,
}
assert tuple(_FORMS) == CUSTOMER_ACTIONS


def customer_action(
    form: Mapping[str, str], *, actor: str, task_id: int, status: AccountStatus
) -> Action:
    """The action a customer form on the task page asks for."""
    try:
        return _FORMS[form.get("action", "")](form, actor, task_id)
    except ValidationError as err:
        raise FormInvalid(_first_error(err)) from None
    except KeyError:
        raise FormInvalid(f"unknown action {form.get('action', '')!r}") from None


def preferences_text(status: AccountStatus | None) -> str:
    """The recorded inconvenient times as the form takes them, to edit them."""
    if status is None or status.preferences is None:
        return ""
    return "\n".join(_form_label(t) for t in status.preferences.inconvenient_times)


def _form_label(t: InconvenientTime) -> str:
    days = ",".join(WEEKDAY_NAMES[d].lower() for d in t.weekdays)
    end = "24:00" if t.end == UNTIL_MIDNIGHT else f"{t.end:%H:%M}"
    return f"{days} {t.start:%H:%M}-{end}"
