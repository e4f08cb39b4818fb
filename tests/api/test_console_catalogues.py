# ruff: noqa: RUF001 -- Chinese text uses full-width punctuation on purpose.
"""The console's gettext catalogues: complete, compilable by ordinary tools, placeholders intact.

The msgids are extracted here from the sources exactly as `make messages` does (babel.cfg and
the Makefile's keywords), so text added to a page without a translation fails this file, as
does a committed messages.pot that `make messages` has not refreshed.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

from api.console import i18n, words
from overdue.policy_files import load_policy

ROOT = Path(__file__).resolve().parents[2]
CONSOLE = ROOT / "api" / "console"
LOCALES = [lang for lang in i18n.LANGUAGES if lang != i18n.DEFAULT]
DEFAULT_POLICY = load_policy(ROOT / "policies" / "default.yaml")
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

MsgKey = tuple[str | None, str]


def _keywords() -> dict[str, object]:
    line = next(
        line
        for line in (ROOT / "Makefile").read_text().splitlines()
        if line.startswith("MESSAGE_KEYWORDS")
    )
    specs = re.findall(r"-k\s+(\S+)", line)
    return {**DEFAULT_KEYWORDS, **parse_keywords(specs)}


def _extracted() -> set[MsgKey]:
    with (ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)  # type: ignore[no-untyped-call]
    found = extract_from_dir(
        str(CONSOLE),
        method_map,
        options_map,
        keywords=_keywords(),  # type: ignore[arg-type]
    )
    return {(context, _singular(message)) for _file, _line, message, _c, context in found}


def _singular(message: str | tuple[str, ...] | list[str]) -> str:
    return message if isinstance(message, str) else message[0]


def _catalogue(lang: str) -> Catalog:
    path = i18n.LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as source:
        return read_po(source, locale=lang.replace("-", "_"))


def _entries(catalog: Catalog) -> dict[MsgKey, Message]:
    return {(m.context, _singular(m.id)): m for m in catalog if m.id}


def test_there_is_a_language_besides_english() -> None:
    assert "zh-CN" in LOCALES and i18n.DEFAULT == "en"


def test_the_committed_template_holds_what_the_sources_say() -> None:
    with (i18n.LOCALE_DIR / "messages.pot").open("rb") as source:
        template = _entries(read_po(source))
    assert set(template) == _extracted(), "run `make messages`"


@pytest.mark.parametrize("lang", LOCALES)
def test_every_message_is_translated_and_none_is_fuzzy(lang: str) -> None:
    entries = _entries(_catalogue(lang))
    missing = _extracted() - set(entries)
    assert not missing, f"not in the {lang} catalogue (run `make messages`): {missing}"
    fuzzy = [key for key, m in entries.items() if m.fuzzy]
    assert not fuzzy, f"fuzzy in {lang}: {fuzzy}"
    empty = [
        key
        for key, m in entries.items()
        if not m.string
        or any(not s for s in ([m.string] if isinstance(m.string, str) else m.string))
    ]
    assert not empty, f"untranslated in {lang}: {empty}"


@pytest.mark.parametrize("lang", LOCALES)
def test_translations_keep_the_placeholders(lang: str) -> None:
    catalog = _catalogue(lang)
    for key, m in _entries(catalog).items():
        ids = [m.id] if isinstance(m.id, str) else list(m.id)
        strings = [m.string] if isinstance(m.string, str) else list(m.string or ())
        expected = {name for text in ids for name in PLACEHOLDER.findall(text)}
        for text in strings:
            # A language with one plural form may leave out the count ("%(num)d").
            assert set(PLACEHOLDER.findall(text)) | ({"num"} & expected) >= expected, (key, text)
            assert set(PLACEHOLDER.findall(text)) <= expected, (key, text)
        assert not list(m.check(catalog)), key  # Babel's own python-format checks


@pytest.mark.parametrize("lang", LOCALES)
def test_catalogue_compiles_with_gnu_msgfmt_and_in_the_app(lang: str) -> None:
    path = i18n.LOCALE_DIR / lang.replace("-", "_") / "LC_MESSAGES" / "messages.po"
    msgfmt = shutil.which("msgfmt")
    assert msgfmt, "GNU gettext's msgfmt is missing (scripts/debian-packages installs it)"
    checked = subprocess.run(
        [msgfmt, "--check", "--statistics", "-o", "/dev/null", str(path)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert "fuzzy" not in checked.stderr and "untranslated" not in checked.stderr, checked.stderr
    t = i18n.Translator(lang)
    assert t.gettext("Log in") != "Log in"


def test_language_switch_names_each_language_in_itself() -> None:
    assert [i18n.language_name(lang) for lang in ("zh-CN", "en")] == ["中文", "English"]


def test_domain_ids_read_as_words_in_both_languages() -> None:
    zh, en = i18n.Translator("zh-CN"), i18n.Translator("en")
    assert words.in_words(zh, "contact_status", "task_created") == "已生成外呼任务"
    assert words.in_words(en, "contact_status", "task_created") == "call task created"
    assert words.in_words(zh, "channel", "call_task") == "人工外呼"
    assert words.in_words(zh, "state", "active") == "催收中"
    assert words.in_words(zh, "task_status", "claimed") == "处理中"
    assert words.in_words(zh, "audit", "promise.recorded") == "已记录承诺还款"
    assert words.in_words(zh, "state", "not_a_state") == "not_a_state"  # the id, not nothing
    call = next(s for s in DEFAULT_POLICY.stages if s.channel == "call_task")
    days = call.offset.days
    assert words.stage_words(zh, DEFAULT_POLICY, call.id) == f"逾期第 {days} 天：人工外呼"
    assert words.stage_words(en, DEFAULT_POLICY, call.id) == (
        f"{days} days after the due date: agent call"
    )
    assert words.stage_words(en, DEFAULT_POLICY, "gone_stage") == "gone_stage"
    fast = load_policy(ROOT / "tests" / "policies" / "fast.yaml")  # anchored at the start
    assert words.stage_words(zh, fast, "t3s_call") == "流程开始后 3 秒：人工外呼"
    assert (
        words.stage_words(en, fast, "t3s_call") == "3 seconds after the process started: agent call"
    )


def test_a_stage_of_another_policy_version_names_its_policy() -> None:
    """A report or task naming a stage the current file lacks (a challenger's, an older
    version's) reads it from the version that has it, and says which policy that is."""
    zh, en = i18n.Translator("zh-CN"), i18n.Translator("en")
    fast = load_policy(ROOT / "tests" / "policies" / "fast.yaml")
    others = [fast, DEFAULT_POLICY]
    call = next(s for s in DEFAULT_POLICY.stages if s.channel == "call_task")
    days = call.offset.days
    # The current policy's own stage: no policy named, even when others have it too.
    assert words.stage_words(en, DEFAULT_POLICY, call.id, others) == (
        f"{days} days after the due date: agent call"
    )
    assert words.stage_words(en, DEFAULT_POLICY, "t3s_call", others) == (
        f"3 seconds after the process started: agent call (policy {fast.id})"
    )
    assert words.stage_words(zh, DEFAULT_POLICY, "t3s_call", others) == (
        f"流程开始后 3 秒：人工外呼（策略 {fast.id}）"
    )
    assert words.stage_words(en, DEFAULT_POLICY, "in_no_policy", others) == "in_no_policy"


def test_outcome_details_read_as_words() -> None:
    zh = i18n.Translator("zh-CN")
    details = {"task_id": 7, "outcome": "reached", "amount_minor": 50_000, "text_id": "x"}
    assert words.detail_words(zh, details, "CNY") == "金额：500.00 CNY；结果：已接通"
