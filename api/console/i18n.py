"""The console's languages: gettext catalogues and choosing one per request.

The text is English in the code and the templates (the msgids); every other language is a
catalogue, `locale/<ll_CC>/LC_MESSAGES/messages.po` beside this module, which translators edit
with ordinary tools (Poedit, msgfmt; docs/translations.md). `make messages` extracts the msgids
into `locale/messages.pot` and merges them into each .po.

Catalogues are compiled when first used, from the .po in memory: no .mo file is kept, so none
can go stale. A fuzzy or empty translation reads in English (as msgfmt would compile it), and
tests/api/test_console_catalogues.py fails the build on either.

The choice is the `overdue_lang` cookie (set by the language switch), else the browser's
Accept-Language, else English.
"""

from __future__ import annotations

import io
from functools import cache
from gettext import NullTranslations
from pathlib import Path

from babel import Locale
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"
DEFAULT = "en"  # the msgids' language: it needs no catalogue
COOKIE = "overdue_lang"


def _tag(folder: str) -> str:
    """gettext's folder name (zh_CN) as the page's language tag (zh-CN)."""
    return folder.replace("_", "-")


def _catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / f"{DOMAIN}.po"


def _find_languages() -> tuple[str, ...]:
    found = sorted(_tag(po.parents[1].name) for po in LOCALE_DIR.glob(f"*/LC_MESSAGES/{DOMAIN}.po"))
    return (*found, DEFAULT)


# Every language with a catalogue, and English. A new .po is a new language in the switch.
LANGUAGES: tuple[str, ...] = _find_languages()


def language_name(lang: str) -> str:
    """A language's name in itself, for the language switch: '中文', 'English'."""
    name = Locale.parse(lang, sep="-").get_language_name()
    return name or lang


def compile_po(source: io.BufferedIOBase | io.BytesIO, locale: str) -> Translations:
    """A .po file compiled (as msgfmt would: fuzzy entries left out) into gettext's form."""
    catalog = read_po(source, locale=locale, domain=DOMAIN)
    compiled = io.BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return Translations(compiled, domain=DOMAIN)


@cache
def translations(lang: str) -> NullTranslations:
    """The compiled catalogue of `lang` (English: the msgids themselves)."""
    if lang == DEFAULT or lang not in LANGUAGES:
        return NullTranslations()
    with _catalogue_path(lang).open("rb") as source:
        return compile_po(source, lang.replace("-", "_"))


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


class Translator:
    """One language's gettext, with `%(name)s` placeholders filled after translating."""

    def __init__(self, lang: str) -> None:
        self.lang = lang if lang in LANGUAGES else DEFAULT
        self.translations = translations(self.lang)

    def gettext(self, message: str, **values: object) -> str:
        text = self.translations.gettext(message)
        return text % values if values else text

    def ngettext(self, singular: str, plural: str, n: int, **values: object) -> str:
        text = self.translations.ngettext(singular, plural, n)
        return text % {"num": n, **values}

    def pgettext(self, context: str, message: str, **values: object) -> str:
        text = self.translations.pgettext(context, message)
        return text % values if values else text


def _from_accept_language(header: str) -> str | None:
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, index, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        # The first language the browser asks for that we have, or one of its region's
        # siblings: zh-TW reads zh-CN rather than English.
        for lang in LANGUAGES:
            if tag == lang.lower() or tag.split("-")[0] == lang.lower().split("-")[0]:
                return lang
    return None


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    if cookie is not None and cookie in LANGUAGES:
        return cookie
    return _from_accept_language(accept_language or "") or DEFAULT
