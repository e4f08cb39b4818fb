"""Bounds on what callers may send: one place for the API's bodies, path and query values, the
webhooks, the console's forms and the CLI's files (they all stand on this floor).

Each bound keeps a value inside what every later step can hold: Postgres (bigint, timestamptz,
text without NUL), Temporal (int64 search attributes), JSON readers (integers exact below 2^53)
and the calendar arithmetic of the workflow (stage times near year 1 or 9999 overflow).

- Amounts and running totals: whole minor units, 1 to 2^53 - 1; strict (a float or a numeric
  string is refused, not rounded or parsed).
- Dates and instants: from 10 years back to 1 year ahead of today (UTC); an instant must also
  say its offset.
- Text: no control characters (C0 including NUL, DEL, C1).
- Time zones: canonical IANA names only.

docs/api.md ("Bounds") says the same for callers; change both together.
"""

from __future__ import annotations

import functools
import re
import zoneinfo
from datetime import UTC, date, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, Field, Strict

MAX_MINOR = 2**53 - 1  # every amount and running total: exact as a JSON number everywhere
BIGINT_MAX = 2**63 - 1  # Postgres bigint, Temporal Int search attributes
DAYS_BACK = 3653  # 10 years: older debts are not reminded of
DAYS_AHEAD = 366  # 1 year: a due date or payment further ahead is a typo
# Zone names that exist as files but are not zones a customer lives in: aliases of the host's
# own zone, the placeholder "Factory", and the posix/ and right/ (leap-second) copies.
_NOT_CUSTOMER_ZONES = frozenset({"localtime", "posixrules", "Factory"})
_ALIAS_PREFIXES = ("posix/", "right/")
# C0 (incl. NUL), DEL and C1: Postgres refuses NUL in text, the others hide in logs and pages.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# In multi-line text people type (a console note), line breaks and tabs are content.
_CONTROL_EXCEPT_LINES = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_LEDGER_REF = re.compile(r"[0-9]{1,19}")  # ASCII only: str.isdigit() takes Arabic-Indic digits too


def refuse_control_characters(value: str) -> str:
    if _CONTROL.search(value):
        raise ValueError("must not contain control characters (such as NUL or line breaks)")
    return value


def control_character_in(value: str, *, lines_allowed: bool = False) -> bool:
    pattern = _CONTROL_EXCEPT_LINES if lines_allowed else _CONTROL
    return pattern.search(value) is not None


def replace_control_characters(value: str) -> str:
    """A text we must keep whatever it holds (a customer's SMS reply): control characters other
    than line breaks and tabs become U+FFFD, so Postgres stores it and no log line is forged."""
    return _CONTROL_EXCEPT_LINES.sub("\ufffd", value)


def today() -> date:
    return datetime.now(UTC).date()


def date_window(on: date | None = None) -> tuple[date, date]:
    """The first and last dates accepted, as of `on` (default: today, UTC)."""
    day = on or today()
    return day - timedelta(days=DAYS_BACK), day + timedelta(days=DAYS_AHEAD)


def check_date(value: date) -> date:
    first, last = date_window()
    if not first <= value <= last:
        raise ValueError(
            f"must be between {first.isoformat()} and {last.isoformat()} "
            f"({DAYS_BACK // 365} years back to 1 year ahead of today)"
        )
    return value


def check_instant(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("must carry a UTC offset, e.g. 2026-01-31T10:00:00+08:00")
    try:
        day = value.astimezone(UTC).date()
    except OverflowError:  # 0001-01-01T00:00+01:00 and the like have no UTC instant
        day = date.min if value.year < 2000 else date.max
    check_date(day)
    return value


@functools.cache
def _customer_zones() -> frozenset[str]:
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in _NOT_CUSTOMER_ZONES and not name.startswith(_ALIAS_PREFIXES)
    )


def check_zone(value: str) -> str:
    if value not in _customer_zones():
        raise ValueError(f"{value!r} is not an IANA time zone (e.g. Asia/Shanghai)")
    return value


def check_minor(value: int) -> int:
    if not 0 < value <= MAX_MINOR:
        raise ValueError(f"must be a whole number of minor units from 1 to {MAX_MINOR}")
    return value


def ledger_ref(text: str) -> int | None:
    """A ledger row id from a callback URL: ASCII digits within bigint, else None."""
    if not _LEDGER_REF.fullmatch(text):
        return None
    number = int(text)
    return number if number <= BIGINT_MAX else None


Text = Annotated[str, AfterValidator(refuse_control_characters)]
"""Any string a caller sends: no control characters."""
AmountMinor = Annotated[
    int,
    Strict(),
    Field(gt=0, le=MAX_MINOR, description=f"Whole minor units (fen, cents), 1 to {MAX_MINOR}."),
]
RecentDate = Annotated[date, AfterValidator(check_date)]
"""A date from 10 years back to 1 year ahead of today (UTC)."""
RecentInstant = Annotated[datetime, AfterValidator(check_instant)]
"""An instant with its offset, on a day from 10 years back to 1 year ahead of today (UTC)."""
TimeZoneName = Annotated[str, AfterValidator(check_zone)]
