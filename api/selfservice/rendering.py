"""Rendering the borrower's pages: Jinja2 (autoescaped), zh-CN and en from the self-service
catalogue (`locale/`, kept apart from the console's so each can be translated on its own;
docs/translations.md), the console's security headers, and no caching."""

from __future__ import annotations

from functools import cache
from gettext import NullTranslations
from pathlib import Path
from typing import Any

import jinja2
from fastapi.templating import Jinja2Templates
from starlette.requests import Request
from starlette.responses import Response

from api.console import i18n
from api.console.rendering import SECURITY_HEADERS
from workflows.currencies import format_minor

HERE = Path(__file__).parent
LOCALE_DIR = HERE / "locale"
LANGUAGES = ("zh-CN", "en")
LANGUAGE_NAMES = {"zh-CN": "中文", "en": "English"}


@cache
def translations(lang: str) -> NullTranslations:
    if lang == "en":
        return NullTranslations()
    folder = lang.replace("-", "_")
    with (LOCALE_DIR / folder / "LC_MESSAGES" / "messages.po").open("rb") as source:
        return i18n.compile_po(source, folder)


@cache
def templates(lang: str) -> Jinja2Templates:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(lang), newstyle=True)  # type: ignore[attr-defined]
    env.filters["money"] = lambda minor, currency: f"{format_minor(minor, currency)} {currency}"
    return Jinja2Templates(env=env)


def language(request: Request) -> str:
    chosen = i18n.negotiate(
        request.cookies.get(i18n.COOKIE), request.headers.get("accept-language")
    )
    return chosen if chosen in LANGUAGES else "en"


def gettext(lang: str, message: str, **values: object) -> str:
    text = translations(lang).gettext(message)
    return text % values if values else text


def render(request: Request, template: str, status_code: int = 200, **values: Any) -> Response:
    lang = language(request)
    context = {
        "lang": lang,
        "languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        **values,
    }
    response = templates(lang).TemplateResponse(request, template, context, status_code=status_code)
    response.headers.update(SECURITY_HEADERS)
    response.headers["Referrer-Policy"] = "no-referrer"  # the token is in the path
    return response
