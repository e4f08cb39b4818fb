"""Reading reminder policies from YAML, with errors that name the file, the path and the reason.

`load_policy` is what the API, the worker and the CLI use: a valid policy whose SMS texts break
a template rule (`overdue.template_lint`) is refused too, with the same path-and-reason lines.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import UTC, date, datetime
from pathlib import Path

import yaml
from pydantic import ValidationError

from overdue.calendar_sources import CalendarSourceError, calendar_notes, expand_calendars
from overdue.desk_policy import desk_problems, split_desk
from overdue.provider_template_check import unregistered
from overdue.template_lint import lint_policy
from workflows.policy import Policy

log = logging.getLogger(__name__)


class PolicyFileError(ValueError):
    """A policy file that cannot be used. `problems` is a list of (path, reason)."""

    def __init__(self, file: Path, problems: list[tuple[str, str]]) -> None:
        self.file = file
        self.problems = problems
        lines = "\n".join(f"  {path or '(top level)'}: {reason}" for path, reason in problems)
        super().__init__(f"invalid policy file {file}:\n{lines}")


def load_policy(
    file: Path, today: date | None = None, *, sms_senders: Collection[str] = ()
) -> Policy:
    """The policy in `file`, valid and within the template rules; PolicyFileError otherwise.

    Calendar sources are expanded into dates here; `today` (default: today's UTC date) picks
    the years of a calendar whose file states none. Calendar warnings (a year a package has
    no data for) do not refuse the policy: they are logged, so the API's start shows them.
    `sms_senders`: the senders SMS are routed to; one that takes only registered templates
    needs them for every SMS text (overdue.provider_template_check)."""
    today = today or datetime.now(UTC).date()
    policy = read_policy(file, today)
    findings = lint_policy(policy)
    problems = [(f.path, f.reason) for f in findings] + unregistered(policy, sms_senders)
    if problems:
        raise PolicyFileError(file, problems)
    for note in calendar_notes(policy, today):
        log.warning("policy file %s: %s: %s", file, note.path, note.reason)
    return policy


def read_policy(file: Path, today: date | None = None) -> Policy:
    """The policy in `file`, validated and its calendars expanded, but not linted (`overdue
    policy check` lints it itself, to tell an unusable file from one whose templates break a
    rule)."""
    try:
        text = file.read_text(encoding="utf-8")
    except OSError as err:
        raise PolicyFileError(file, [("", f"cannot read the file: {err.strerror}")]) from err
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        mark = getattr(err, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PolicyFileError(file, [(where, f"not valid YAML: {err}")]) from err
    if not isinstance(data, dict):
        raise PolicyFileError(file, [("", "expected a mapping with id, version and stages")])
    data, desk = split_desk(data)  # the console's section: not part of the Policy
    try:
        policy = Policy.model_validate(data)
    except ValidationError as err:
        raise PolicyFileError(file, [_describe(error, data) for error in err.errors()]) from err
    desk_wrong = desk_problems(desk, {stage.id for stage in policy.stages})
    if desk_wrong:
        raise PolicyFileError(file, desk_wrong)
    computed = _computed_calendar_days(data)
    if computed:
        raise PolicyFileError(file, computed)
    try:
        return expand_calendars(policy, today or datetime.now(UTC).date())
    except CalendarSourceError as err:
        raise PolicyFileError(file, [(err.path, err.reason)]) from err


def _computed_calendar_days(data: dict[str, object]) -> list[tuple[str, str]]:
    """A file names a calendar's source; the dates are the loader's to fill in."""
    calendars = data.get("calendars")
    if not isinstance(calendars, dict):
        return []
    return [
        (
            f"calendars.{key}.{field}",
            "filled in from `source` when the file is loaded; list the policy's own rest days "
            "under blackout_days",
        )
        for key, calendar in calendars.items()
        if isinstance(calendar, dict)
        for field in ("rest_days", "working_days")
        if field in calendar
    ]


def _describe(error: object, data: dict[str, object]) -> tuple[str, str]:
    assert isinstance(error, dict)
    loc = error.get("loc", ())
    path = ""
    node: object = data
    for part in loc:
        if isinstance(part, int):
            # Name stages by id where possible: 'stages[2] (d3_call)' reads better than an index.
            stage_id = (
                node[part].get("id")
                if isinstance(node, list) and isinstance(node[part], dict)
                else None
            )
            path += f"[{part}]" + (f" ({stage_id})" if stage_id else "")
            node = node[part] if isinstance(node, list) and part < len(node) else None
        else:
            path += f".{part}" if path else str(part)
            node = node.get(part) if isinstance(node, dict) else None
    return path, str(error.get("msg", "invalid")).removeprefix("Value error, ")
