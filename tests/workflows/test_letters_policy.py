"""A policy's `letters` section: checked when it is loaded, and what a letter stage hands its
activity (workflows/letters.py, workflows/letter_input.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from overdue.policy_files import PolicyFileError, load_policy
from overdue.template_lint import Finding, lint_policy
from tests.workflows.records import make_record
from workflows.forbearance_types import Fee, Itemization, ItemizationState
from workflows.letter_input import balance_items, letter_spec
from workflows.letters import LETTER_TEXT_MAX
from workflows.policy import Policy
from workflows.types import AccountRecord

EXAMPLE = Path(__file__).resolve().parents[1] / "policies" / "letters.yaml"
LENDER = {"name": "Lender", "address": "1 Road", "phone": "400"}


def policy(**changes: Any) -> Policy:
    data: dict[str, Any] = {
        "id": "letters",
        "version": 1,
        "stages": [{"id": "d20_letter", "offset": "20d", "channel": "notify", "kind": "letter"}],
        "letters": {"lender": {"en": LENDER}, "texts": {"en": "Please pay."}},
    }
    data.update(changes)
    return Policy.model_validate(data)


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        (
            {"letters": {"lender": {"en": LENDER}, "texts": {"en": "x", "zh-CN": "y"}}},
            "lender and texts must have the same locales",
        ),
        (
            {"letters": {"lender": {"fr": LENDER}, "texts": {"fr": "Payez."}}},
            "no letter wording for locale 'fr'",
        ),
        (
            {"letters": {"lender": {"en": LENDER}, "texts": {"en": "x" * (LETTER_TEXT_MAX + 1)}}},
            f"at most {LETTER_TEXT_MAX}",
        ),
        ({"letters": {"lender": {"en": LENDER}, "texts": {"en": "  "}}}, "letters.texts.en: empty"),
        (
            {"letters": {"lender": {"en": LENDER}, "texts": {"en": "a\tb"}}},
            "control characters",
        ),
        (
            {"letters": {"lender": {"en": LENDER}, "texts": {"en": "x"}, "objection_days": 3}},
            "greater than or equal to 7",
        ),
    ],
)
def test_a_broken_letters_section_is_refused(changes: dict[str, Any], problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        policy(**changes)


def test_a_file_whose_letter_stage_has_no_letter_is_refused(tmp_path: Path) -> None:
    """On files only: a snapshot in a running workflow stays loadable (see below)."""
    text = EXAMPLE.read_text("utf-8")
    text = text[: text.index("letters:\n")] + text[text.index("templates:\n") :]
    file = tmp_path / "broken.yaml"
    file.write_text(text, "utf-8")
    with pytest.raises(PolicyFileError) as refused:
        load_policy(file)
    assert refused.value.problems == [
        ("letters", "a letter stage needs a 'letters' section (docs/letters.md)")
    ]


def test_letters_need_a_text_in_the_default_locale() -> None:
    findings = lint_policy(policy(default_locale="zh-CN"))
    assert findings == [Finding("letters", "no text for the default locale 'zh-CN'")]


def test_a_policy_without_letter_stages_needs_no_section() -> None:
    stages = [{"id": "d1_sms", "offset": "1d", "channel": "sms", "template": "t"}]
    templates = {"t": {"en": "Hi. Reply STOP to opt out."}}
    assert policy(stages=stages, templates=templates, letters=None).letters is None


def test_the_example_loads_and_its_letter_stage_carries_the_letter() -> None:
    loaded = load_policy(EXAMPLE)
    assert loaded.letters is not None and set(loaded.letters.texts) == {"zh-CN", "en"}
    record = make_record(loaded)
    letter, sms = (next(s for s in loaded.stages if s.id == i) for i in ("d20_letter", "d1_sms"))
    spec = letter_spec(record, letter)
    assert spec is not None
    assert (spec.product, spec.due_date, spec.default_locale) == (
        record.product,
        record.due_date,
        "zh-CN",
    )
    assert spec.letters == loaded.letters and spec.itemization is None
    assert letter_spec(record, sms) is None


def test_a_snapshot_from_before_letters_posts_its_letter_as_it_did() -> None:
    """A running workflow's policy has no section: the stage gets no letter (the webhook)."""
    old = policy(letters=None)
    assert letter_spec(make_record(old), old.stages[0]) is None


def test_a_threatening_term_in_a_letter_text_refuses_the_file(tmp_path: Path) -> None:
    text = EXAMPLE.read_text("utf-8").replace(
        "If you have paid already", "We will send the police if you have not paid"
    )
    file = tmp_path / "threat.yaml"
    file.write_text(text, "utf-8")
    with pytest.raises(PolicyFileError) as refused:
        load_policy(file)
    assert ("letters.texts.en", "threatening or misleading term 'police'") in refused.value.problems


def _itemized(balance_minor: int) -> AccountRecord:
    parts = Itemization(
        principal_minor=100_000,
        interest_minor=3_000,
        fees=(Fee(kind="late_fee", amount_minor=5_000), Fee(kind="annual_fee", amount_minor=2_000)),
        payments_minor=10_000,
    )
    state = ItemizationState(
        itemization=parts, amount_minor=100_000, reported_at=datetime(2026, 3, 1, tzinfo=UTC)
    )
    return make_record(load_policy(EXAMPLE), balance_minor=balance_minor, itemization=state)


def test_a_letter_itemizes_the_balance_with_the_payments_since_the_report() -> None:
    record = _itemized(balance_minor=60_000)  # 40,000 paid since the itemization came
    lines = {
        i.kind: i.amount_minor
        for i in balance_items(record.itemization, record.balance_minor) or ()
    }
    assert lines == {"principal": 100_000, "interest": 3_000, "fees": 7_000, "payments": 50_000}
    total = lines["principal"] + lines["interest"] + lines["fees"] - lines["payments"]
    assert total == record.balance_minor


def test_a_balance_larger_than_the_itemization_explains_is_not_itemized() -> None:
    grown = _itemized(balance_minor=150_000)
    assert balance_items(grown.itemization, grown.balance_minor) is None
    assert balance_items(None, 60_000) is None
