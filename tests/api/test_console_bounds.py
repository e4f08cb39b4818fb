"""The console's forms apply the shared bounds (overdue/inputs.py) before anything is sent."""

from __future__ import annotations

from datetime import timedelta

import pytest

from api.console import outcomes
from api.console.outcomes import FormInvalid
from overdue.inputs import today


def test_an_amount_past_2_53_minor_units_is_refused() -> None:
    assert outcomes.parse_amount("90071992547409.91", "CNY") == 2**53 - 1
    with pytest.raises(FormInvalid, match="too large"):
        outcomes.parse_amount("90071992547409.92", "CNY")


@pytest.mark.parametrize("days", [-3654, 367])
def test_a_date_outside_the_window_is_refused(days: int) -> None:
    day = today() + timedelta(days=days)
    with pytest.raises(FormInvalid, match="promised_date must be between"):
        outcomes.parse_date(day.isoformat(), "promised_date")
    assert outcomes.parse_date(today().isoformat(), "promised_date") == today()


@pytest.mark.parametrize("text", ["9999-12-31T23:59", "0001-01-01T00:00", "2000-01-01T00:00"])
def test_a_callback_time_outside_the_window_is_refused(text: str) -> None:
    with pytest.raises(FormInvalid, match="callback_at must be between"):
        outcomes.parse_local_datetime(text, "Pacific/Kiritimati")


def test_control_characters_are_refused_but_a_note_keeps_its_lines() -> None:
    with pytest.raises(FormInvalid, match="reason must not contain control characters"):
        outcomes._text({"reason": "job\x00loss"}, "reason")
    with pytest.raises(FormInvalid, match="control characters"):
        outcomes._text({"reason": "two\nlines"}, "reason")
    note = outcomes._text({"note": "called back\nno answer"}, "note", lines=True)
    assert note == "called back\nno answer"
