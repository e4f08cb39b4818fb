"""The shared bounds (overdue/inputs.py) that the API, the console and the CLI apply."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import TypeAdapter, ValidationError

from overdue import inputs


@pytest.mark.parametrize(
    "zone",
    ["localtime", "posixrules", "Factory", "right/UTC", "posix/Asia/Shanghai", "", "x" * 300],
)
def test_only_canonical_zone_names_are_customer_zones(zone: str) -> None:
    with pytest.raises(ValueError, match="not an IANA time zone"):
        inputs.check_zone(zone)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "America/New_York", "UTC", "Etc/GMT+5"])
def test_real_zones_are_accepted(zone: str) -> None:
    assert inputs.check_zone(zone) == zone


@pytest.mark.parametrize("text", ["a\x00b", "\x1f", "tab\there", "line\n", "\x7f", "\x85", "\x9f"])
def test_control_characters_are_refused(text: str) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(inputs.Text).validate_python(text)


def test_line_breaks_are_text_where_lines_are_allowed() -> None:
    assert not inputs.control_character_in("two\r\nlines\tand a tab", lines_allowed=True)
    assert inputs.control_character_in("nul\x00", lines_allowed=True)
    assert TypeAdapter(inputs.Text).validate_python("李娜 — ok ✓") == "李娜 — ok ✓"


@pytest.mark.parametrize("value", ["100000", 100000.0, 1e5, True, 0, -1, 2**53])
def test_amounts_are_strict_whole_numbers_below_2_53(value: object) -> None:
    with pytest.raises(ValidationError):
        TypeAdapter(inputs.AmountMinor).validate_json(json.dumps(value))


def test_the_largest_amount_is_accepted() -> None:
    assert TypeAdapter(inputs.AmountMinor).validate_json(str(2**53 - 1)) == inputs.MAX_MINOR


def test_the_date_window_is_ten_years_back_to_one_year_ahead() -> None:
    first, last = inputs.date_window()
    today = inputs.today()
    assert inputs.check_date(first) == first and inputs.check_date(last) == last
    for outside in (first - timedelta(days=1), last + timedelta(days=1)):
        with pytest.raises(ValueError, match="must be between"):
            inputs.check_date(outside)
    assert (today - first).days == inputs.DAYS_BACK and (last - today).days == inputs.DAYS_AHEAD


@pytest.mark.parametrize(
    "instant",
    [
        datetime.max.replace(tzinfo=timezone(timedelta(hours=-23))),
        datetime.min.replace(tzinfo=timezone(timedelta(hours=23))),
        datetime(2000, 1, 1, tzinfo=UTC),
    ],
)
def test_instants_outside_the_window_are_refused(instant: datetime) -> None:
    with pytest.raises(ValueError, match="must be between"):
        inputs.check_instant(instant)


def test_an_instant_must_carry_its_offset() -> None:
    with pytest.raises(ValueError, match="offset"):
        inputs.check_instant(datetime.now())
    now = datetime.now(timezone(timedelta(hours=14)))
    assert inputs.check_instant(now) == now


@pytest.mark.parametrize(
    ("text", "row"),
    [
        ("1", 1),
        ("9223372036854775807", 2**63 - 1),
        ("9223372036854775808", None),
        ("\u0661", None),  # ARABIC-INDIC DIGIT ONE: str.isdigit() says yes
        ("\uff11", None),  # FULLWIDTH DIGIT ONE
        ("", None),
        ("-1", None),
        (" 1", None),
        ("1" * 20, None),
    ],
)
def test_a_ledger_ref_is_ascii_digits_within_bigint(text: str, row: int | None) -> None:
    assert inputs.ledger_ref(text) == row


def test_a_text_we_must_keep_loses_only_its_control_characters() -> None:
    assert inputs.replace_control_characters("a\x00b\x85c\td\r\ne") == "a\ufffdb\ufffdc\td\r\ne"
