"""Retention periods: defaults, overrides, and the legal floors that stop a process at start."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from pydantic import ValidationError

from overdue.settings import Settings
from overdue.settings_retention import COLLECTION_RECORD_FLOOR_DAYS, FLOORS, RetentionPeriods


def test_defaults_are_at_or_above_every_floor() -> None:
    periods = Settings().retention_periods()
    assert periods == RetentionPeriods()
    for name, (floor, _) in FLOORS.items():
        assert getattr(Settings(), name) >= floor


def test_a_period_at_its_floor_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OVERDUE_RETENTION_COLLECTION_RECORDS_DAYS", "730")
    monkeypatch.setenv("OVERDUE_RETENTION_AUDIT_EVENTS_DAYS", "730")
    monkeypatch.setenv("OVERDUE_RETENTION_MESSAGE_BODIES_DAYS", "30")  # no floor
    periods = Settings().retention_periods()
    assert (periods.collection_records, periods.audit_events, periods.message_bodies) == (
        730,
        730,
        30,
    )


@pytest.mark.parametrize(
    "variable", ["OVERDUE_RETENTION_COLLECTION_RECORDS_DAYS", "OVERDUE_RETENTION_AUDIT_EVENTS_DAYS"]
)
def test_a_period_below_its_floor_is_refused_naming_variable_and_floor(
    monkeypatch: pytest.MonkeyPatch, variable: str
) -> None:
    monkeypatch.setenv(variable, str(COLLECTION_RECORD_FLOOR_DAYS - 1))
    with pytest.raises(ValidationError, match=f"{variable} is 729 days, below its floor of 730"):
        Settings()


def test_the_process_stops_at_start_below_a_floor() -> None:
    env = {**os.environ, "OVERDUE_RETENTION_COLLECTION_RECORDS_DAYS": "365"}
    result = subprocess.run(
        [sys.executable, "-m", "workers.cli.main", "worker"],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    assert "OVERDUE_RETENTION_COLLECTION_RECORDS_DAYS is 365 days" in result.stderr
    assert "floor of 730 days" in result.stderr
    assert "Traceback" not in result.stderr
