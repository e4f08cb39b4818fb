"""Free-text SMS replies that revoke consent to texts: "please stop texting me", "别再发短信了".

TCPA (FCC 2024) lets a customer revoke consent by any reasonable means, not only by the exact
keywords that `api/sms_keywords.py` recognises. `classify_reply` tells such a request from any
other reply, with the rules of `revocation_rules.yaml` (data that compliance staff extend):
`revocation_request` stops SMS at once and asks an agent to confirm; `reply` goes to an agent
as before. A false match costs an agent's click (SMS resume when they reject it); a missed one
is still read by an agent. Pure and total: it never raises, and it never logs the text.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path

import yaml

RULES_FILE = Path(__file__).with_name("revocation_rules.yaml")
_APOSTROPHES = str.maketrans({"\u2018": "'", "\u2019": "'", "\u02bc": "'", "`": "'"})


class ReplyKind(StrEnum):
    REVOCATION_REQUEST = "revocation_request"
    REPLY = "reply"


@dataclass(frozen=True)
class LanguageRules:
    language: str
    revocation: tuple[re.Pattern[str], ...]
    negation: tuple[re.Pattern[str], ...]


def _compiled(language: str, section: object, name: str) -> tuple[re.Pattern[str], ...]:
    if not isinstance(section, dict):
        raise ValueError(f"{RULES_FILE.name}: {language} must map revocation/negation to lists")
    patterns = section.get(name, [])
    if not isinstance(patterns, list) or not all(isinstance(p, str) for p in patterns):
        raise ValueError(f"{RULES_FILE.name}: {language}.{name} must be a list of strings")
    return tuple(re.compile(p) for p in patterns)


def parse_rules(data: object) -> tuple[LanguageRules, ...]:
    """The rule table from its YAML data; a malformed table is refused, naming the entry."""
    if not isinstance(data, dict) or not data:
        raise ValueError(f"{RULES_FILE.name} must map languages to rules")
    return tuple(
        LanguageRules(
            language=str(language),
            revocation=_compiled(str(language), section, "revocation"),
            negation=_compiled(str(language), section, "negation"),
        )
        for language, section in data.items()
    )


@cache
def builtin_rules() -> tuple[LanguageRules, ...]:
    """The rules shipped in `revocation_rules.yaml` (read once per process)."""
    return parse_rules(yaml.safe_load(RULES_FILE.read_text(encoding="utf-8")))


def normalize(body: str, language: str) -> str:
    """NFKC (full-width forms become ASCII), lower case, straight apostrophes; Chinese text
    without white space (a customer's "别 再 发" is "别再发"), other text with single spaces."""
    text = unicodedata.normalize("NFKC", body).casefold().translate(_APOSTROPHES)
    if language == "zh":
        return "".join(text.split())
    return " ".join(text.split())


def classify_reply(body: str, rules: tuple[LanguageRules, ...] | None = None) -> ReplyKind:
    """Whether a free-text reply (not an exact keyword) asks us to stop texting."""
    for language in rules if rules is not None else builtin_rules():
        text = normalize(body, language.language)
        if not any(p.search(text) for p in language.revocation):
            continue
        if any(p.search(text) for p in language.negation):
            continue  # "don't stop": another language's rules may still match
        return ReplyKind.REVOCATION_REQUEST
    return ReplyKind.REPLY
