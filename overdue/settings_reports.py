"""Supervisor reports' settings (docs/reports.md): the day's time zone, the days-past-due
buckets, how far back a promise or plan is followed, and the deadlines ages are measured
against."""

from __future__ import annotations

import itertools
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ReportSettings(BaseSettings):
    """Mixed into `overdue.settings.Settings`."""

    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    report_time_zone: str = Field(
        default="Asia/Shanghai",
        description="IANA time zone whose calendar days the reports count in.",
    )
    report_buckets: str = Field(
        default="1,31,61,91",
        description="Lower bounds of the days-past-due buckets, comma-separated, increasing, "
        "the first >= 1: 1,31,61,91 gives current, 1-30, 31-60, 61-90, 91+.",
    )
    report_lookback_days: int = Field(
        default=400,
        ge=1,
        le=3660,
        description="Days before a range a promise or plan may have been made and still end "
        "(kept or broken) inside it.",
    )
    report_dispute_deadline_days: int = Field(
        default=15, ge=1, le=365, description="Days within which a dispute should be closed."
    )
    report_complaint_deadline_days: int = Field(
        default=15, ge=1, le=365, description="Days within which a complaint should be answered."
    )
    report_escalation_deadline_days: int = Field(
        default=3,
        ge=1,
        le=365,
        description="Days within which a supervisor should act on an escalation.",
    )

    @field_validator("report_time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("report_buckets")
    @classmethod
    def _increasing(cls, value: str) -> str:
        try:
            bounds = [int(part) for part in value.split(",")]
        except ValueError:
            raise ValueError("buckets are whole numbers separated by commas") from None
        if bounds[0] < 1 or any(b <= a for a, b in itertools.pairwise(bounds)):
            raise ValueError("buckets need increasing lower bounds, the first at least 1")
        return value

    @property
    def report_bucket_bounds(self) -> tuple[int, ...]:
        return tuple(int(part) for part in self.report_buckets.split(","))
