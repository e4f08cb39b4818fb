"""Calendar sources expanded into explicit dates when a policy file is loaded: CN from
`chinese_calendar` (with its swapped working days), other countries from `holidays`."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

import pytest

from overdue.calendar_sources import calendar_notes, calendar_rows, default_years
from overdue.policy_files import PolicyFileError, load_policy
from workers.cli.policy_commands import check_file
from workflows.calendars import is_rest_day
from workflows.policy import Policy

ROOT = Path(__file__).resolve().parents[2]
TODAY = date(2025, 6, 15)  # every load here names its date: nothing depends on the wall clock

POLICY = """
id: cal
version: 1
calendars:
  CN:
    source: chinese_calendar
    years: [{first}, {last}]
    blackout_days: [2025-06-03]
    on_rest_days: {{sms: {{start: "10:00", end: "18:00"}}, call: none}}
  US: {{source: "holidays:US", years: [2025, 2026]}}
  default: {{source: none}}
stages: [{{id: d1_sms, offset: 1d, channel: sms, template: t}}]
templates: {{t: {{en: "Hi. Reply STOP to opt out."}}}}
"""


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "policy.yaml"
    file.write_text(text, encoding="utf-8")
    return file


def test_cn_national_day_2025_and_its_swapped_working_days(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, POLICY.format(first=2025, last=2025)), TODAY)
    cn = policy.calendars["CN"]
    assert cn.years == (2025, 2025)
    october = [date(2025, 10, d) for d in range(1, 13)]
    assert [is_rest_day(policy.calendars, "CN", d) for d in october] == [
        *[True] * 8,  # 1-8 October: National Day and Mid-autumn
        False,  # Thursday the 9th
        False,  # Friday the 10th
        False,  # Saturday the 11th: a 调休 working day
        True,  # Sunday the 12th
    ]
    assert date(2025, 9, 28) in cn.working_days  # the other 调休 Sunday
    assert date(2025, 10, 11) in cn.working_days
    # Only days unlike Monday-Friday are kept: weekday holidays and working weekend days.
    assert date(2025, 10, 4) not in cn.rest_days  # a Saturday rests anyway
    assert all(d.weekday() < 5 for d in cn.rest_days)
    assert all(d.weekday() >= 5 for d in cn.working_days)
    assert cn.blackout_days == (date(2025, 6, 3),)
    assert is_rest_day(policy.calendars, "CN", date(2025, 6, 3))


def test_us_holidays_come_from_the_holidays_package(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, POLICY.format(first=2025, last=2025)), TODAY)
    us = policy.calendars["US"]
    assert date(2025, 7, 4) in us.rest_days  # Independence Day, a Friday
    assert date(2025, 11, 27) in us.rest_days  # Thanksgiving
    assert date(2026, 7, 3) in us.rest_days  # 4 July 2026 is a Saturday: observed Friday
    assert date(2026, 7, 4) not in us.rest_days  # a Saturday: no need to list it
    assert us.working_days == ()
    assert not is_rest_day(policy.calendars, "US", date(2025, 7, 3))
    # Another country: the default calendar, Saturdays and Sundays only.
    assert not is_rest_day(policy.calendars, "JP", date(2025, 7, 4))
    assert policy.calendars["default"].rest_days == ()


def test_a_year_the_package_does_not_know_takes_the_statutory_holidays_with_a_warning(
    tmp_path: Path,
) -> None:
    """chinese_calendar 1.11.0 has no 2027 (the State Council's notice comes late in the year
    before): the statutory holidays by rule stand in, never a year of weekends only."""
    policy = load_policy(write(tmp_path, POLICY.format(first=2026, last=2027)), TODAY)
    cn = policy.calendars["CN"]
    spring_festival = [date(2027, 2, d) for d in range(4, 12)]  # Thursday 4th to Thursday 11th
    assert [is_rest_day(policy.calendars, "CN", d) for d in spring_festival] == [
        False,  # Thursday the 4th
        True,  # Friday the 5th: New Year's Eve (除夕)
        True,  # Saturday
        True,  # Sunday: New Year's Day (初一)
        True,  # Monday
        True,  # Tuesday: the observance of the day that fell on Saturday
        True,  # Wednesday: the observance of the day that fell on Sunday
        False,  # Thursday the 11th
    ]
    assert is_rest_day(policy.calendars, "CN", date(2027, 10, 1))  # National Day, a Friday
    assert date(2026, 10, 7) in cn.rest_days  # 2026 still from chinese_calendar, 调休 included
    assert date(2026, 10, 10) in cn.working_days
    assert not [d for d in cn.working_days if d.year == 2027]  # no swaps are known for 2027
    (note,) = calendar_notes(policy, TODAY)
    assert note.path == "calendars.CN.years"
    assert note.reason.startswith(
        "chinese_calendar has no data for 2027: its rest days then are the statutory holidays"
    )


def test_a_span_ending_too_soon_is_warned_about(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, POLICY.format(first=2025, last=2025)), TODAY)
    notes = calendar_notes(policy, TODAY)
    assert [(n.path, n.reason) for n in notes] == [
        (
            "calendars.CN.years",
            "the span ends with 2025; processes started now run into 2026: extend `years`",
        )
    ]
    row = next(r for r in calendar_rows(policy) if r.jurisdiction == "CN")
    assert (row.source, row.years, row.blackout_days) == ("chinese_calendar", "2025-2025", 1)
    assert row.rules == "sms 10:00-18:00, call none, notify none"


def test_without_years_the_load_date_picks_the_span(tmp_path: Path) -> None:
    text = POLICY.format(first=2025, last=2025).replace("    years: [2025, 2025]\n", "")
    policy = load_policy(write(tmp_path, text), TODAY)
    assert policy.calendars["CN"].years == default_years(TODAY) == (2024, 2026)


@pytest.mark.parametrize(
    ("change", "path", "reason"),
    [
        (
            ('"holidays:US"', '"holidays:XX"'),
            "calendars.US.source",
            "the holidays package knows no country 'XX'",
        ),
        (
            ("blackout_days:", "rest_days: [2025-06-03]\n    blackout_days:"),
            "calendars.CN.rest_days",
            "filled in from `source` when the file is loaded",
        ),
        (
            ("source: chinese_calendar", "source: outlook"),
            "calendars.CN.source",
            "String should match pattern",
        ),
    ],
)
def test_bad_calendars_are_refused_with_path_and_reason(
    tmp_path: Path, change: tuple[str, str], path: str, reason: str
) -> None:
    text = POLICY.format(first=2025, last=2025).replace(*change)
    with pytest.raises(PolicyFileError) as raised:
        load_policy(write(tmp_path, text), TODAY)
    ((found_path, found_reason),) = raised.value.problems
    assert found_path == path
    assert found_reason.startswith(reason)


def test_policy_check_prints_the_calendars_and_their_warnings() -> None:
    out, err = io.StringIO(), io.StringIO()
    code = check_file(ROOT / "policies" / "default.yaml", out, err, today=date(2026, 12, 3))
    assert code == 0, out.getvalue() + err.getvalue()  # warnings do not refuse the policy
    lines = out.getvalue().splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("CALENDAR"))
    assert lines[header + 1].split()[:3] == ["CN", "chinese_calendar", "2025-2027"]
    assert lines[header + 1].endswith("sms 10:00-18:00, call none, notify 10:00-18:00")
    assert lines[-2].startswith("calendars.CN.years: chinese_calendar has no data for 2027")
    assert lines[-1].endswith("policies/default.yaml: 1 calendar warning; the policy still loads")


def test_the_expanded_snapshot_round_trips_and_stays_small() -> None:
    """What a workflow's input carries: explicit dates that survive JSON, and few of them."""
    policy = load_policy(ROOT / "policies" / "default.yaml", date(2026, 12, 3))
    assert Policy.model_validate_json(policy.model_dump_json()) == policy
    without = policy.model_copy(update={"calendars": {}})
    added = len(policy.model_dump_json()) - len(without.model_dump_json())
    assert added < 1_200, added  # three years of CN: 61 dates (2027 by rule) and the rules


def test_loading_logs_the_calendar_warnings(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="overdue.policy_files"):
        load_policy(write(tmp_path, POLICY.format(first=2026, last=2027)), TODAY)
    (line,) = [r.getMessage() for r in caplog.records if r.name == "overdue.policy_files"]
    assert line.endswith(
        "calendars.CN.years: chinese_calendar has no data for 2027: its rest days then are "
        "the statutory holidays by rule (the holidays package), without the State Council's "
        "swapped working days; check them against its notice and list any other day off as "
        "blackout_days (or upgrade the package)"
    )
