"""Dates, times and amounts as the agent's language writes them (Babel's CLDR data).

A moment on the task page is shown in the customer's zone, named (IANA id and GMT offset), so
an agent never has to convert: '2026年12月4日 00:07 (Asia/Shanghai, GMT+08:00)'. Without a
zone (a page about no customer) a moment is shown in UTC, named too.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from babel.dates import format_date, format_time, get_timezone_gmt
from babel.numbers import format_currency

from workflows.currencies import minor_unit_exponent
from workflows.dial_caps import zone_or_none


def babel_locale(lang: str) -> str:
    """The page's language tag (zh-CN) as Babel's locale id (zh_CN)."""
    return lang.replace("-", "_")


def moment_text(moment: datetime | None, time_zone: str | None, lang: str) -> str:
    """`moment` in `time_zone` (UTC when unknown), with the zone named."""
    if moment is None:
        return ""
    zone = zone_or_none(time_zone)
    local = moment.astimezone(zone or UTC)
    locale = babel_locale(lang)
    day, clock = (
        format_date(local, "medium", locale=locale),
        format_time(local, "HH:mm", locale=locale),
    )
    when = f"{day} {clock}"
    if zone is None:
        return f"{when} (UTC)"
    return f"{when} ({time_zone}, {get_timezone_gmt(local, locale=locale)})"


def clock_text(moment: datetime | None, lang: str) -> str:
    """Only the time of day ('22:00'), for a moment on the day already shown beside it."""
    return "" if moment is None else format_time(moment, "HH:mm", locale=babel_locale(lang))


def date_text(day: date | None, lang: str) -> str:
    return "" if day is None else format_date(day, "medium", locale=babel_locale(lang))


def weekday_text(day: date, lang: str) -> str:
    return format_date(day, "EEEE", locale=babel_locale(lang))


def amount_text(amount_minor: int | None, currency: str | None, lang: str) -> str:
    """An amount in minor units as the language writes money: 'CN¥500.00', '¥500.00'."""
    if amount_minor is None or not currency:
        return ""
    amount = Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))
    return format_currency(amount, currency, locale=babel_locale(lang))
