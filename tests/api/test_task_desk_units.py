"""The task page's pure parts: the plan schedule and its check (shared with the workflow's
validator), the policy file's desk section, refusals in the agent's language, Babel formats
and the call-allowed indicator at fixed clocks."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from api.console.calling_hours import calling_hours
from api.console.formats import amount_text, moment_text
from api.console.i18n import Translator
from api.console.reasons import FORM_CHECKS, REJECTIONS, explain
from api.console.task_facts import call_now, mask_links
from overdue.desk_policy import desk_problems, read_desk
from overdue.policy_files import PolicyFileError, load_policy, read_policy
from workflows.agent_requests import Instalment
from workflows.plan_schedule import add_months, plan_limits, plan_problem, schedule, split_evenly
from workflows.policy import HardshipRules

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "policies" / "default.yaml"


@pytest.mark.parametrize(("total", "count"), [(50_000, 3), (1, 1), (7, 7), (100_001, 12)])
def test_a_schedule_sums_exactly_to_the_balance(total: int, count: int) -> None:
    amounts = split_evenly(total, count)
    assert sum(amounts) == total and len(amounts) == count
    assert max(amounts) - min(amounts) <= 1 and amounts == sorted(amounts, reverse=True)


def test_monthly_dates_keep_the_day_or_the_months_last() -> None:
    assert add_months(date(2027, 1, 31), 1) == date(2027, 2, 28)
    assert add_months(date(2027, 11, 30), 3) == date(2028, 2, 29)
    plan = schedule(50_000, 3, date(2027, 1, 31), None)
    assert [i.due_date for i in plan] == [date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]
    weekly = schedule(50_000, 3, date(2027, 1, 1), 7)
    assert [i.due_date for i in weekly][-1] == date(2027, 1, 15)


def test_the_plan_check_is_the_workflows_in_the_same_order() -> None:
    rules, today = HardshipRules(max_instalments=3, max_days=60), date(2027, 1, 1)
    ok = schedule(900, 3, today, 30)
    assert plan_problem(ok, rules, today, 900) is None
    cases = {
        "plan_empty": [],
        "plan_too_many": schedule(900, 4, today, 7),
        "plan_first_past": schedule(900, 3, today - timedelta(days=1), 7),
        "plan_dates_order": [ok[1], ok[0], ok[2]],
        "plan_too_long": schedule(900, 3, today, 31),
        "plan_total": [*ok[:2], Instalment(due_date=ok[2].due_date, amount_minor=1)],
    }
    for code, plan in cases.items():
        problem = plan_problem(plan, rules, today, 900)
        assert problem is not None and problem.code == code
        # The workflow rejects with the message; the console reads it back under the same code.
        assert explain(Translator("en"), problem.message, rejection=True).code == code


def test_vulnerable_limits_come_from_the_policys_section() -> None:
    policy = load_policy(DEFAULT, date(2026, 12, 1))
    assert plan_limits(policy, vulnerable=False) == policy.hardship
    if policy.vulnerable is not None and policy.vulnerable.plan_max_instalments is not None:
        limits = plan_limits(policy, vulnerable=True)
        assert limits.max_instalments == policy.vulnerable.plan_max_instalments


def test_the_default_policy_has_call_guides_in_both_languages() -> None:
    desk = read_desk(DEFAULT)
    policy = load_policy(DEFAULT, date(2026, 12, 1))
    calls = [s.id for s in policy.stages if s.channel.value == "call_task"]
    for stage_id in ("d2_call", "d15_collections_call"):
        assert stage_id in calls
        for lang in ("en", "zh-CN"):
            guide = desk.guide(stage_id, lang, policy.default_locale)
            assert guide is not None and guide.say and guide.offer and guide.avoid
    assert desk.guide("d2_call", "fr", "zh-CN") == desk.guides["d2_call"]["zh-CN"]


def test_a_wrong_desk_section_is_refused_with_its_path(tmp_path: Path) -> None:
    assert desk_problems({"guides": {"nope": {"en": {"say": ["hi"]}}}}, {"d2_call"}) == [
        ("desk.guides.nope", "the policy has no such stage")
    ]
    problems = desk_problems({"guides": {"d2_call": {"english": {"shout": []}}}}, {"d2_call"})
    assert [path for path, _ in problems] == ["desk.guides.d2_call.english.shout"]
    broken = tmp_path / "policy.yaml"
    broken.write_text(DEFAULT.read_text(encoding="utf-8") + "\n  plan_typo: 1\n", encoding="utf-8")
    with pytest.raises(PolicyFileError) as refused:
        read_policy(broken, date(2026, 12, 1))
    assert ("desk.plan_typo", "Extra inputs are not permitted") in refused.value.problems


def test_every_reason_pattern_has_a_translation_that_differs_from_english() -> None:
    zh = Translator("zh-CN")
    for reason in (*REJECTIONS, *FORM_CHECKS):
        assert zh.gettext(reason.message) != reason.message, reason.code


@pytest.mark.parametrize(
    ("raw", "rejection", "code", "zh"),
    [
        ("at most 12 instalments", True, "plan_too_many", "最多允许 12 期。"),
        (
            "a promise cannot be taken while the account is disputed",
            True,
            "promise_state",
            "账户处于“争议中”状态时不能记录承诺还款。",
        ),
        ("promised_date is required", False, "required", "承诺日期为必填项。"),
        ("amount 'x' is not a number", False, "amount_not_number", "金额 'x' 不是数字。"),
        ("something new", True, "other", "something new"),
    ],
)
def test_refusals_are_recognised_and_translated(
    raw: str, rejection: bool, code: str, zh: str
) -> None:
    explained = explain(Translator("zh-CN"), raw, rejection=rejection)
    assert (explained.code, explained.text, explained.raw) == (code, zh, raw)


def test_moments_and_amounts_as_each_language_writes_them() -> None:
    moment = datetime(2026, 12, 3, 16, 5, tzinfo=UTC)
    assert (
        moment_text(moment, "Asia/Shanghai", "en") == "Dec 4, 2026 00:05 (Asia/Shanghai, GMT+08:00)"
    )
    assert (
        moment_text(moment, "Asia/Shanghai", "zh-CN")
        == "2026年12月4日 00:05 (Asia/Shanghai, GMT+08:00)"
    )
    assert moment_text(moment, None, "en") == "Dec 3, 2026 16:05 (UTC)"
    assert amount_text(50_000, "CNY", "zh-CN") == "¥500.00"
    assert amount_text(50_000, "CNY", "en") == "CN¥500.00"
    assert amount_text(500, "JPY", "en") == "¥500"


def test_call_now_at_fixed_clocks() -> None:
    policy = load_policy(DEFAULT, date(2026, 12, 1))
    en, phone, zone = Translator("en"), "+8613912345678", "Asia/Shanghai"
    wednesday_noon = datetime(2026, 12, 2, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai
    allowed = call_now(en, calling_hours(policy, phone, zone, wednesday_noon), None)
    assert (allowed.allowed, allowed.code) == (True, "allowed")
    night = call_now(
        en, calling_hours(policy, phone, zone, wednesday_noon + timedelta(hours=11)), None
    )
    assert (night.allowed, night.code) == (False, "outside_hours")
    opens = "Dec 3, 2026 08:00 (Asia/Shanghai, GMT+08:00)"
    assert night.text == f"No call now: outside calling hours; from {opens}."
    saturday = call_now(
        en, calling_hours(policy, phone, zone, datetime(2026, 12, 5, 4, tzinfo=UTC)), None
    )
    assert (saturday.allowed, saturday.code) == (False, "rest_day")
    unknown = call_now(en, calling_hours(policy, phone, None, wednesday_noon), None)
    assert (unknown.allowed, unknown.code) == (False, "no_time_zone")


def test_the_borrowers_link_token_is_masked_in_a_message_agents_read() -> None:
    body = "Hello. Online: https://service.example.com/s/AbCdEfGhIjKlMnOpQrStUv Reply STOP"
    assert mask_links(body) == "Hello. Online: https://service.example.com/s/… Reply STOP"
    assert mask_links("no link here /s/short") == "no link here /s/short"
    assert mask_links(None) is None
