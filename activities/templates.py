"""Rendering message templates in the customer's locale."""

from __future__ import annotations

from datetime import date

from workflows.currencies import format_minor


def pick_locale(texts: dict[str, str], locale: str, default_locale: str) -> str:
    """Exact locale, then its language ('zh-CN' -> 'zh'), then the policy's default."""
    if locale in texts:
        return locale
    language = locale.split("-")[0].lower()
    for candidate in texts:
        if candidate.split("-")[0].lower() == language:
            return candidate
    return default_locale


def render(
    text: str,
    *,
    name: str,
    amount_minor: int,
    currency: str,
    due_date: date,
    days_past_due: int,
    link: str = "",
) -> str:
    return text.format(
        name=name,
        amount=format_minor(amount_minor, currency),
        currency=currency,
        due_date=due_date.isoformat(),
        days_past_due=days_past_due,
        link=link,
    )
