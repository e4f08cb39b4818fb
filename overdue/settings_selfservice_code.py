"""Settings of the self-service one-time code by SMS (docs/self-service.md "The one-time code"):
how many codes a link may ask for, how often, and how long a code works. Mixed into
`overdue.settings.Settings`."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SelfServiceCodeSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    selfservice_codes_per_day: int = Field(
        default=3,
        ge=1,
        le=20,
        description="One-time codes by SMS one self-service link may ask for in 24 hours; "
        "beyond that the page says when to try again (429) and nothing is sent.",
    )
    selfservice_code_interval_seconds: int = Field(
        default=60,
        ge=1,
        le=3600,
        description="Seconds between two one-time codes asked on one link.",
    )
    selfservice_code_minutes: int = Field(
        default=10,
        ge=1,
        le=60,
        description="Minutes a one-time code works after it was made (once).",
    )

    @property
    def selfservice_code_interval(self) -> timedelta:
        return timedelta(seconds=self.selfservice_code_interval_seconds)

    @property
    def selfservice_code_lifetime(self) -> timedelta:
        return timedelta(minutes=self.selfservice_code_minutes)
