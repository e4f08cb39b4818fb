"""Why a console form was refused, in the agent's language.

Two sources write the reasons in English: the console's form checks (`FormInvalid`) and the
workflow's validators (`RequestRejected`, reaching the page as `UpdateRejected.reason`). Both
are kept as they are (the API and the logs show them; recorded histories hold them), and this
module recognises each by its pattern, gives it a stable code and a catalogue message with the
same values filled in. The page shows the message and keeps the code and the raw English in
data-* attributes for support. A reason no pattern knows is shown as it came (code `other`).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from api.console.i18n import N_, Translator
from api.console.words import in_words
from workflows.currencies import format_minor
from workflows.types import AccountStatus


@dataclass(frozen=True)
class Reason:
    code: str
    pattern: re.Pattern[str]
    message: str  # msgid, with the pattern's groups as %(name)s


def _r(code: str, pattern: str, message: str) -> Reason:
    return Reason(code, re.compile(pattern + r"\Z"), message)


# The workflow's rejections (workflows/account.py, customer_requests.py, handlers, ...).
REJECTIONS = (
    _r("promise_state", r"a promise cannot be taken while the account is (?P<state>\w+)",
       N_("A promise cannot be taken while the account is %(state)s.")),
    _r("refused_repeated", r"a refused channel is repeated",
       N_("A refused channel is listed twice.")),
    _r("rejected_with_plan", r"a rejected hardship request takes no plan",
       N_("A rejected hardship request takes no plan.")),
    _r("already_paused", r"already paused by (?P<actor>\S+) since (?P<since>.+)",
       N_("Already paused by %(actor)s since %(since)s.")),
    _r("promise_over_balance", r"amount exceeds the balance of (?P<balance>\d+)",
       N_("The amount exceeds the balance of %(balance)s.")),
    _r("promise_minimum", r"amount must be at least (?P<percent>\d+)% of the balance "
       r"\((?P<minimum>\d+)\)",
       N_("The amount must be at least %(percent)s%% of the balance (%(minimum)s).")),
    _r("plan_empty", r"an approval needs a plan of instalments",
       N_("An approval needs a plan of instalments.")),
    _r("plan_too_many", r"at most (?P<max>\d+) instalments",
       N_("At most %(max)s instalments are allowed.")),
    _r("callback_only", r"callback_at is only for callback_requested",
       N_("A call-back time goes only with the outcome “Call back at”.")),
    _r("callback_required", r"callback_at is required for callback_requested",
       N_("The outcome “Call back at” needs a call-back time.")),
    _r("callback_past", r"callback_at must be in the future",
       N_("The call-back time must be in the future.")),
    _r("callback_far", r"callback_at must be within 14 days",
       N_("The call-back time must be within 14 days.")),
    _r("plan_dates_order", r"instalment dates must be strictly increasing",
       N_("Instalment dates must be strictly increasing.")),
    _r("plan_total", r"instalments add up to (?P<total>\d+), but the balance is (?P<balance>\d+)",
       N_("The instalments add up to %(total)s, but the balance is %(balance)s.")),
    _r("promise_too_far", r"promised_date must be at most (?P<days>\d+) days ahead "
       r"\(by (?P<latest>[\d-]+)\)",
       N_("The promised date must be at most %(days)s days ahead (by %(latest)s).")),
    _r("promise_past", r"promised_date (?P<date>[\d-]+) is in the past",
       N_("The promised date %(date)s is in the past.")),
    _r("already_escalated", r"the account is already escalated",
       N_("The account is already escalated.")),
    _r("not_paused", r"the account is not paused", N_("The account is not paused.")),
    _r("account_ended", r"the account is (?P<state>\w+); nothing more can be recorded",
       N_("The account is %(state)s; nothing more can be recorded.")),
    _r("already_vulnerable", r"the customer is already marked vulnerable "
       r"\((?P<category>\w+)\) since (?P<since>.+)",
       N_("The customer is already marked vulnerable (%(category)s) since %(since)s.")),
    _r("not_vulnerable", r"the customer is not marked vulnerable",
       N_("The customer is not marked vulnerable.")),
    _r("plan_first_past", r"the first instalment is in the past",
       N_("The first instalment is in the past.")),
    _r("inconvenient_all", r"the inconvenient times cover the whole contact window "
       r"\((?P<window>[\d:-]+)\) on every day: .*",
       N_("The inconvenient times cover the whole contact window (%(window)s) on every day, so no "
          "contact could be made: record refused channels instead.")),
    _r("plan_too_long", r"the last instalment must be within (?P<days>\d+) days",
       N_("The last instalment must be within %(days)s days.")),
    _r("no_hardship_pending", r"there is no hardship report waiting for a decision",
       N_("There is no hardship report waiting for a decision.")),
    _r("no_revocation_pending", r"there is no revocation request waiting for a decision",
       N_("There is no request to stop SMS waiting for a decision.")),
    # Forbearance (workflows/forbearance.py, forbearance_end.py).
    _r("holiday_too_long",
       r"a holiday lasts at most (?P<days>\d+) days \(until (?P<latest>[\d-]+)\)",
       N_("A payment holiday lasts at most %(days)s days (until %(latest)s).")),
    _r("freeze_too_long",
       r"a freeze lasts at most (?P<days>\d+) days \(until (?P<latest>[\d-]+)\)",
       N_("A freeze of interest and fees lasts at most %(days)s days (until %(latest)s).")),
    _r("no_holiday_running", r"no payment holiday is running on this account",
       N_("No payment holiday is running on this account.")),
    _r("no_freeze_running", r"no freeze of interest and fees is running on this account",
       N_("No freeze of interest and fees is running on this account.")),
)  # fmt: skip

# The console's own form checks (api/console/outcomes.py, customer_forms.py, ...).
FORM_CHECKS = (
    _r("required", r"(?P<field>[\w.]+) is required", N_("%(field)s is required.")),
    _r("too_long", r"(?P<field>[\w.]+) is longer than (?P<limit>\d+) characters",
       N_("%(field)s is longer than %(limit)s characters.")),
    _r("control_characters", r"(?P<field>[\w.]+) must not contain control characters",
       N_("%(field)s must not contain control characters.")),
    _r("amount_not_number", r"amount (?P<text>'.*') is not a number",
       N_("The amount %(text)s is not a number.")),
    _r("amount_decimals", r"amount must be positive with at most (?P<decimals>\d+) decimals",
       N_("The amount must be positive, with at most %(decimals)s decimals.")),
    _r("amount_too_large", r"amount is too large", N_("The amount is too large.")),
    _r("not_a_date", r"(?P<field>[\w. ]+) must be a date \(YYYY-MM-DD\)",
       N_("%(field)s must be a date (YYYY-MM-DD).")),
    _r("date_range", r"(?P<field>[\w. ]+) must be between "
       r"(?P<first>[\d-]+) and (?P<last>[\d-]+) .*",
       N_("%(field)s must be between %(first)s and %(last)s.")),
    _r("callback_format", r"callback_at must be a date and time",
       N_("The call-back time must be a date and a time.")),
    _r("callback_offset", r"callback_at must be a local time, without an offset",
       N_("The call-back time must be the customer's local time, without an offset.")),
    _r("plan_line", r"plan line (?P<line>'.*'): write 'YYYY-MM-DD amount'",
       N_("Plan line %(line)s: write “YYYY-MM-DD amount”.")),
    _r("unknown_action", r"unknown action (?P<action>'.*')", N_("Unknown action %(action)s.")),
    _r("days_format", r"days (?P<text>'.*'): write mon\.\.sun.*",
       N_("Days %(text)s: write mon…sun, a range like mon-fri, a list like sat,sun, or "
          "weekdays, weekends, daily.")),
    _r("days_backwards", r"days (?P<text>'.*'): a range goes forward in the week.*",
       N_("Days %(text)s: a range goes forward in the week, like mon-fri.")),
    _r("time_of_day", r"(?P<text>'.*') is not a time of day .*",
       N_("%(text)s is not a time of day (00:00 to 23:59, or 24:00 as an end).")),
    _r("inconvenient_count", r"at most (?P<max>\d+) inconvenient times, one a line",
       N_("At most %(max)s inconvenient times, one a line.")),
    _r("inconvenient_format", r"inconvenient time (?P<line>'.*'): write 'days HH:MM-HH:MM'",
       N_("Inconvenient time %(line)s: write “days HH:MM-HH:MM”.")),
    _r("inconvenient_empty", r"inconvenient time (?P<line>'.*') is empty: .*",
       N_("Inconvenient time %(line)s is empty: its end must be after its start.")),
    _r("category", r"category must be one of .*", N_("Choose one of the listed categories.")),
    _r("revocation_decision", r"decision must be confirm or reject",
       N_("Choose to confirm or to reject the request.")),
)  # fmt: skip

# Form fields as the page labels them (the `field` of a form check).
FIELDS: Mapping[str, str] = {
    "reason": N_("Reason"),
    "note": N_("Note"),
    "text": N_("Text"),
    "amount": N_("Amount"),
    "promised_date": N_("Promised date"),
    "instalment date": N_("Instalment date"),
    "callback_at": N_("Call back at"),
    "first": N_("First instalment"),
}


@dataclass(frozen=True)
class Explained:
    code: str  # stable, for data-* attributes and tests
    text: str  # in the agent's language
    raw: str  # as it came, in English


def explain(
    t: Translator, raw: str, *, rejection: bool, money: Callable[[int], str] | None = None
) -> Explained:
    """`raw` (a workflow rejection, or a form check's message) in the agent's language."""
    for reason in REJECTIONS if rejection else FORM_CHECKS:
        found = reason.pattern.match(raw)
        if found:
            values = _shown(t, found.groupdict(), money)
            return Explained(reason.code, t.gettext(reason.message, **values), raw)
    return Explained("other", raw, raw)


def _shown(
    t: Translator, values: dict[str, Any], money: Callable[[int], str] | None
) -> dict[str, str]:
    shown = {}
    for key, value in values.items():
        if key == "state":
            value = in_words(t, "state", value)
        elif key == "category":
            value = in_words(t, "vulnerability", value)
        elif key == "field":
            value = t.gettext(FIELDS[value]) if value in FIELDS else value
        elif key in {"balance", "minimum", "total"} and money is not None:
            value = money(int(value))
        shown[key] = str(value)
    return shown


def refused_answer(
    t: Translator, raw: str, *, rejection: bool, money: Callable[[int], str] | None = None
) -> dict[str, Any]:
    """The page's answer for a refused form: 'Please correct: …' or 'Not accepted: …'."""
    why = explain(t, raw, rejection=rejection, money=money)
    if rejection:
        message = t.gettext("Not accepted: %(reason)s", reason=why.text)
    else:
        message = t.gettext("Please correct: %(reason)s", reason=why.text)
    return {
        "ok": False,
        "message": message,
        "code": why.code,
        "raw": why.raw,
    }


def status_money(status: AccountStatus | None) -> Callable[[int], str] | None:
    """Amounts in a refusal's reason, in the account's currency (None: as the minor units)."""
    if status is None:
        return None
    return lambda minor: f"{format_minor(minor, status.currency)} {status.currency}"
