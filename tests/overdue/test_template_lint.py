"""The template linter's rules, one by one, in zh-CN and en: opt-out phrase, threatening or
misleading terms, the segment budget at its boundary; and load_policy refusing findings."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from overdue.policy_files import PolicyFileError, load_policy
from overdue.sms_segments import count_segments
from overdue.template_lint import (
    WORST_CASE_NAMES,
    Finding,
    builtin_rules,
    lint_policy,
    worst_case_body,
)
from workflows.policy import Policy

CLEAN = {
    "en": "Hello {name}, {amount} {currency} was due on {due_date}. Reply STOP to opt out.",
    "zh-CN": "{name}您好，您于{due_date}到期的{amount}{currency}尚未还款。回复TD退订。",  # noqa: RUF001
}


def policy(texts: dict[str, str], **fields: Any) -> Policy:
    return Policy.model_validate(
        {
            "id": "lint",
            "version": 1,
            "stages": [{"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t"}],
            "templates": {"t": texts},
            **fields,
        }
    )


def reasons(texts: dict[str, str], **fields: Any) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in lint_policy(policy(texts, **fields)):
        found.setdefault(finding.path, []).append(finding.reason)
    return found


def test_clean_templates_in_both_languages_have_no_findings() -> None:
    assert lint_policy(policy(CLEAN)) == []


@pytest.mark.parametrize(
    "zh",
    [
        "{name}您好，请尽快还款。回复TD退订",  # noqa: RUF001
        "{name}您好，请尽快还款。退订回T",  # noqa: RUF001
        "{name}您好，请尽快还款。回复 td 退订",  # noqa: RUF001  (case and spaces do not matter)
    ],
)
def test_zh_opt_out_phrases_are_accepted(zh: str) -> None:
    assert reasons({"en": CLEAN["en"], "zh-CN": zh}) == {}


def test_a_text_without_its_opt_out_phrase_is_refused_per_locale() -> None:
    found = reasons({"en": "Hello {name}, please pay.", "zh-CN": "{name}您好，请还款。退订"})  # noqa: RUF001
    assert found["templates.t.en"] == [
        "no opt-out phrase (needs one of: Reply STOP, Text STOP, reply with STOP)"
    ]
    # 退订 alone is not enough: the customer must learn what to reply.
    (zh,) = found["templates.t.zh-CN"]
    assert zh.startswith("no opt-out phrase (needs one of: 回复TD退订, ")


def test_the_language_rule_covers_its_locales() -> None:
    texts = {"en": CLEAN["en"], "en-GB": "Hi {name}. Text STOP to opt out.", "zh-TW": "回T退订"}
    assert reasons(texts) == {}


def test_a_locale_without_a_rule_is_refused_until_the_policy_gives_phrases() -> None:
    texts = {"en": CLEAN["en"], "fr": "Bonjour {name}. Répondez STOP pour arrêter."}
    assert reasons(texts) == {
        "templates.t.fr": [
            "no opt-out rule for locale 'fr': add its phrases under sms_opt_out_phrases"
        ]
    }
    assert reasons(texts, sms_opt_out_phrases={"fr": ["Répondez STOP"]}) == {}


def test_a_policy_extends_the_built_in_phrases() -> None:
    texts = {"en": "Hello {name}. Send END to unsubscribe."}
    assert "templates.t.en" in reasons(texts)
    assert reasons(texts, sms_opt_out_phrases={"en": ["Send END"]}) == {}
    # The built-in phrases still count alongside the policy's own.
    assert reasons(CLEAN, sms_opt_out_phrases={"en": ["Send END"]}) == {}


@pytest.mark.parametrize(
    ("locale", "text", "term"),
    [
        ("en", "Pay now or you may be arrested. Reply STOP to opt out.", "arrested"),
        ("en", "We will tell the POLICE. Reply STOP to opt out.", "police"),
        (
            "en",
            "Or your employer   will be told. Reply STOP to opt out.",
            "your employer will be told",
        ),
        ("en", "We may garnish your wages. Reply STOP to opt out.", "garnish"),
        ("zh-CN", "{name}您好，逾期将报警处理。回复TD退订", "报警"),  # noqa: RUF001
        ("zh-CN", "{name}您好，我们将上门催收。回复TD退订", "上门"),  # noqa: RUF001
        ("zh-CN", "{name}您好，逾期将通知单位。回复TD退订", "通知单位"),  # noqa: RUF001
    ],
)
def test_threatening_or_misleading_terms_are_refused(locale: str, text: str, term: str) -> None:
    texts = {**CLEAN, locale: text}
    assert reasons(texts) == {f"templates.t.{locale}": [f"threatening or misleading term {term!r}"]}


def test_latin_terms_match_whole_words_only() -> None:
    # 'policy' is not 'police', 'shameless' not 'shame', 'jailbreak' not 'jail'.
    text = "Our policy: no shameless jailbreak. Reply STOP to opt out."
    assert reasons({**CLEAN, "en": text}) == {}


def test_every_built_in_term_is_refused() -> None:
    for term in builtin_rules().forbidden:
        found = reasons({**CLEAN, "en": f"{term}. Reply STOP to opt out."})
        assert found == {"templates.t.en": [f"threatening or misleading term {term!r}"]}, term


def _padded(template: str, locale: str, segments: int) -> str:
    """`template` padded with filler so its worst case is exactly at the end of `segments`."""
    per = {"en": (160, 153), "zh-CN": (70, 67)}[locale]
    limit = per[0] if segments == 1 else per[1] * segments
    filler = "x" if locale == "en" else "请"
    body = worst_case_body(locale, template)
    return template.replace("{name}", "{name}" + filler * (limit - len(body)), 1)


@pytest.mark.parametrize("locale", ["en", "zh-CN"])
@pytest.mark.parametrize("budget", [1, 2, 3])
def test_the_segment_budget_at_its_boundary(locale: str, budget: int) -> None:
    at_limit = _padded(CLEAN[locale], locale, budget)
    assert count_segments(worst_case_body(locale, at_limit)).segments == budget
    assert reasons({**CLEAN, locale: at_limit}, sms_segment_budget=budget) == {}
    one_more = at_limit.replace("{name}", "{name}" + ("x" if locale == "en" else "请"), 1)
    (reason,) = reasons({**CLEAN, locale: one_more}, sms_segment_budget=budget)[
        f"templates.t.{locale}"
    ]
    encoding = "GSM-7" if locale == "en" else "UCS-2"
    assert reason.startswith(f"{budget + 1} SMS segments with worst-case values ({encoding}, ")
    assert reason.endswith(f"sms_segment_budget is {budget}")


def test_the_budget_defaults_to_two_segments() -> None:
    assert policy(CLEAN).sms_segment_budget == 2


def test_worst_case_values_are_the_longest_plausible() -> None:
    assert worst_case_body("zh-CN", "{name}|{amount}|{currency}|{due_date}|{days_past_due}") == (
        f"{WORST_CASE_NAMES['zh']}|9999999.99|CNY|2026-12-31|999"
    )
    assert worst_case_body("en-GB", "{name}").startswith("Alexandra")


def test_only_sms_templates_are_checked() -> None:
    notice = {"en": "An app notice without an opt-out, sent by the backend."}
    checked = Policy.model_validate(
        {
            "id": "lint",
            "version": 1,
            "stages": [
                {"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t"},
                {
                    "id": "d1_app",
                    "offset": "1d",
                    "channel": "notify",
                    "kind": "app_notice",
                    "template": "n",
                },
            ],
            "hardship": {"reminder_template": "plan"},
            "templates": {"t": CLEAN, "n": notice, "plan": {"en": "Hello {name}, pay."}},
        }
    )
    assert lint_policy(checked) == [
        Finding(
            "templates.plan.en",
            "no opt-out phrase (needs one of: Reply STOP, Text STOP, reply with STOP)",
        )
    ]


def test_a_text_that_cannot_be_rendered_is_a_finding() -> None:
    found = reasons({**CLEAN, "en": "Hello {name!z}. Reply STOP to opt out."})
    assert found["templates.t.en"][0].startswith("cannot be rendered")


def test_loading_a_policy_file_refuses_its_findings_with_path_and_reason(tmp_path: Path) -> None:
    file = tmp_path / "policy.yaml"
    file.write_text(
        "id: lint\nversion: 1\n"
        "stages: [{id: d1_sms, offset: 1d, channel: sms, template: t}]\n"
        "templates: {t: {en: 'Hello {name}, or we call the police.'}}\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyFileError) as caught:
        load_policy(file)
    assert caught.value.problems == [
        (
            "templates.t.en",
            "no opt-out phrase (needs one of: Reply STOP, Text STOP, reply with STOP)",
        ),
        ("templates.t.en", "threatening or misleading term 'police'"),
    ]
    assert f"invalid policy file {file}:\n  templates.t.en: no opt-out phrase" in str(caught.value)
