"""The template linter: the rules every SMS text of a policy must follow.

Each SMS text (the templates that sms stages and hardship reminders send, in every locale)
must carry an opt-out phrase for its locale, use no threatening or misleading term, and fit
the policy's `sms_segment_budget` when rendered with worst-case placeholder values. The
phrases and terms are data, in `template_rules.yaml` beside this module. Notify templates are
not checked: the backend sends those through its own channels and words them itself.

Run when a policy file is loaded (`overdue.policy_files`) and by `overdue policy check`; never
on a workflow's input, so running workflows and recorded histories are unaffected.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from overdue.sms_segments import Segments, count_segments
from workflows.letters import letters_problem
from workflows.policy import Channel, Policy

RULES_FILE = Path(__file__).with_name("template_rules.yaml")

# The longest plausible value of each placeholder, so a text within its budget here stays
# within it for real customers. Names depend on the script: a zh text gets a Uyghur name in
# Chinese characters with its middle dot (8 characters; Han names are 2-4), any other a
# 31-character Latin name. A non-GSM-7 name in a non-zh text (a Chinese name in an en text)
# turns the message into UCS-2 and can cost more; the ledger records what each SMS cost.
WORST_CASE_NAMES = {"zh": "阿依古丽·买买提", "": "Alexandra Montgomery-Richardson"}
WORST_CASE_VALUES = {
    "amount": "9999999.99",  # 9,999,999.99 in a 2-decimal currency, as format_minor writes it
    "currency": "CNY",  # every ISO 4217 code has 3 letters
    "due_date": "2026-12-31",  # always ISO 8601, 10 characters
    "days_past_due": "999",  # hardship plans reach a year; 3 digits
    # The itemization's amounts (activities.templates.itemized_values), as `amount`.
    "principal": "9999999.99",
    "interest": "9999999.99",
    "fees": "9999999.99",
    "payments": "9999999.99",
    # A self-service link (activities/selfservice_link.py): a 30-character public URL, the
    # path and a 22-character token. A longer OVERDUE_PUBLIC_BASE_URL costs more.
    "link": "https://service.example.com/s/AbCdEfGhIjKlMnOpQrStUv",
}


@dataclass(frozen=True)
class Finding:
    """One broken rule: `path` in the policy file (templates.<id>.<locale>) and why."""

    path: str
    reason: str


@dataclass(frozen=True)
class TemplateRules:
    opt_out: dict[str, tuple[str, ...]]  # locale or language -> phrases
    forbidden: tuple[str, ...]  # every list's terms; each applies to every text


@cache
def builtin_rules() -> TemplateRules:
    """The rule table shipped in `template_rules.yaml` (read once per process)."""
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    return TemplateRules(
        opt_out={key: tuple(phrases) for key, phrases in data["opt_out"].items()},
        forbidden=tuple(term for terms in data["forbidden"].values() for term in terms),
    )


def sms_template_ids(policy: Policy) -> list[str]:
    """Templates sent as SMS: by sms stages and by hardship instalment reminders."""
    ids = [s.template for s in policy.stages if s.channel is Channel.SMS and s.template]
    if policy.hardship.reminder_template is not None:
        ids.append(policy.hardship.reminder_template)
    return list(dict.fromkeys(ids))  # once each, in policy order


def lint_policy(policy: Policy, rules: TemplateRules | None = None) -> list[Finding]:
    """Every finding in the policy's SMS texts, in template then locale order; then its
    letters: the section a letter stage needs, and no threatening term in their own texts."""
    rules = rules or builtin_rules()
    findings: list[Finding] = []
    for template_id in sms_template_ids(policy):
        for locale, text in policy.templates.get(template_id, {}).items():
            path = f"templates.{template_id}.{locale}"
            findings += [Finding(path, r) for r in lint_text(policy, rules, locale, text)]
    problem = letters_problem(policy.stages, policy.letters, policy.default_locale)
    if problem:
        # Checked on files only: a running workflow's snapshot keeps what it started with.
        findings.append(Finding("letters", problem))
    for locale, text in (policy.letters.texts if policy.letters else {}).items():
        # A letter's own text: no threats either (rule 2); opt-out and budget are SMS rules.
        findings += [
            Finding(f"letters.texts.{locale}", f"threatening or misleading term {term!r}")
            for term in rules.forbidden
            if _term_pattern(term).search(text)
        ]
    return findings


def lint_text(policy: Policy, rules: TemplateRules, locale: str, text: str) -> list[str]:
    """The reasons one SMS text in `locale` breaks the rules (empty: it is clean)."""
    reasons = []
    phrases = opt_out_phrases(policy, rules, locale)
    if not phrases:
        reasons.append(
            f"no opt-out rule for locale {locale!r}: add its phrases under sms_opt_out_phrases"
        )
    elif not any(_normal(p) in _normal(text) for p in phrases):
        reasons.append(f"no opt-out phrase (needs one of: {', '.join(phrases)})")
    for term in rules.forbidden:
        if _term_pattern(term).search(text):
            reasons.append(f"threatening or misleading term {term!r}")
    reasons += _over_budget(policy.sms_segment_budget, locale, text)
    return reasons


def opt_out_phrases(policy: Policy, rules: TemplateRules, locale: str) -> tuple[str, ...]:
    """Phrases accepted in `locale`: its exact key, then its language's, built-in then the
    policy's own."""
    keys = dict.fromkeys([locale, _language(locale)])
    found: list[str] = []
    for table in (rules.opt_out, policy.sms_opt_out_phrases):
        for key in keys:
            found += table.get(key, ())
    return tuple(dict.fromkeys(found))


def worst_case_body(locale: str, text: str) -> str:
    """`text` rendered with the longest plausible value of each placeholder."""
    name = WORST_CASE_NAMES.get(_language(locale), WORST_CASE_NAMES[""])
    return text.format(name=name, **WORST_CASE_VALUES)


def worst_case_cost(locale: str, text: str) -> Segments | None:
    """What `text` costs rendered with worst-case values; None if it cannot be rendered (a
    conversion or format spec that str.format refuses, which the model's check lets by)."""
    try:
        return count_segments(worst_case_body(locale, text))
    except (ValueError, KeyError, IndexError):
        return None


def _over_budget(budget: int, locale: str, text: str) -> list[str]:
    counted = worst_case_cost(locale, text)
    if counted is None:
        return ["cannot be rendered: check its placeholders' format specs and conversions"]
    if counted.segments <= budget:
        return []
    units = "septets" if counted.encoding == "GSM-7" else "UTF-16 units"
    return [
        f"{counted.segments} SMS segments with worst-case values ({counted.encoding}, "
        f"{counted.units} {units}); sms_segment_budget is {budget}"
    ]


def _language(locale: str) -> str:
    return locale.split("-")[0].lower()


_SPACE_BY_NON_ASCII = re.compile(r"\s*([^\x00-\x7f])\s*")


def _normal(text: str) -> str:
    # Case and spacing do not change what a reader (or the provider's keyword match) sees:
    # '回复 TD 退订' is '回复TD退订', 'reply  stop' is 'Reply STOP'.
    return _SPACE_BY_NON_ASCII.sub(r"\1", " ".join(text.split())).casefold()


@cache
def _term_pattern(term: str) -> re.Pattern[str]:
    words = r"\s+".join(re.escape(word) for word in term.split())
    if term.isascii():
        # Whole words: 'arrest' must not flag 'arrestable' nor 'shame' flag 'shamefaced'.
        return re.compile(rf"\b{words}\b", re.IGNORECASE)
    return re.compile(words)  # Chinese has no spaces between words: anywhere in the text
