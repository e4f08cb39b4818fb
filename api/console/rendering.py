"""Rendering console pages: Jinja2 templates (autoescaped), security headers, language cookie.

One Jinja2 environment per language, each with gettext's catalogue installed (jinja2.ext.i18n,
new style: `{{ _("Due by %(when)s", when=x) }}` escapes the values it fills in)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

import workflows.policy_shelf as policy_shelf
from api.console import formats, i18n, words
from api.console.context import CSRF_FIELD, Console
from overdue.store import complaints
from workflows.currencies import format_minor
from workflows.forbearance_types import EndReason

TEMPLATE_DIR = Path(__file__).parent / "templates"


@cache
def templates(lang: str) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(i18n.translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda minor, currency: (
        f"{format_minor(minor, currency)} {currency}" if minor is not None else ""
    )
    env.filters["when"] = lambda moment: (
        moment.strftime("%Y-%m-%d %H:%M UTC") if moment is not None else ""
    )
    # A moment in a zone (the customer's on the task page; none: UTC), named, as `lang` writes.
    env.filters["local"] = lambda moment, zone=None: formats.moment_text(moment, zone, lang)
    env.filters["day"] = lambda day: formats.date_text(day, lang)
    env.filters["amount"] = lambda minor, currency: formats.amount_text(minor, currency, lang)
    # Choices a form offers, from the types that validate them: one list, never a literal.
    env.globals["forbearance_end_reasons"] = tuple(reason.value for reason in EndReason)
    env.globals["complaint_outcomes"] = complaints.OUTCOMES
    return Jinja2Templates(env=env)


# Pages show personal data: never cached, never framed, forms post only to ourselves.
SECURITY_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": (
        "default-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def render(page: Console, template: str, status_code: int = 200, **values: Any) -> Response:
    policy = page.services.policy
    others = policy_shelf.shelved_policies()
    context: dict[str, Any] = {
        "lang": page.lang,
        "languages": [(lang, i18n.language_name(lang)) for lang in i18n.LANGUAGES],
        "word": lambda table, value: words.in_words(page.t, table, value),
        "stage_words": lambda stage_id: words.stage_words(page.t, policy, stage_id, others),
        "details_words": lambda details, currency: words.detail_words(page.t, details, currency),
        "user": page.session.user if page.session else None,
        "csrf_field": CSRF_FIELD,
        "csrf_token": page.session.csrf_token if page.session else "",
        "here": page.request.url.path,
        "zone": None,  # the customer's time zone, on pages about one customer
        **values,
    }
    response = templates(page.lang).TemplateResponse(
        page.request, template, context, status_code=status_code
    )
    response.headers.update(SECURITY_HEADERS)
    return response
