"""Settings of borrower self-service (docs/self-service.md): how long a link and a session
live, how many wrong identity values lock a link, how often a link may be opened, and which
evidence files are taken; the one-time code's settings come with it
(`overdue.settings_selfservice_code`). Mixed into `overdue.settings.Settings`."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from overdue.settings_selfservice_code import SelfServiceCodeSettings


class SelfServiceSettings(SelfServiceCodeSettings):
    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    selfservice_link_days: int = Field(
        default=14,
        ge=1,
        le=90,
        description="Days a self-service link (the `{link}` placeholder) works after its SMS "
        "was rendered.",
    )
    selfservice_session_minutes: int = Field(
        default=30,
        ge=1,
        le=24 * 60,
        description="Minutes a borrower's session lasts after the identity check (never past "
        "its link's expiry).",
    )
    selfservice_max_check_failures: int = Field(
        default=5,
        ge=1,
        le=20,
        description="Wrong identity values after which a link is locked for good (counted in "
        "Postgres, per link); the borrower then calls or waits for a new SMS.",
    )
    selfservice_opens_per_hour: int = Field(
        default=60,
        ge=1,
        description="Requests one link may make in an hour (pages, forms, files) before it "
        "is answered 429.",
    )
    selfservice_max_file_bytes: int = Field(
        default=2_097_152,
        ge=1_024,
        le=10_485_760,
        description="Largest evidence file a borrower may upload (PDF, JPEG or PNG, checked by "
        "content).",
    )
    selfservice_max_files: int = Field(
        default=3, ge=1, le=10, description="Evidence files one hardship or dispute form takes."
    )

    @property
    def selfservice_max_body_bytes(self) -> int:
        """The body limit of the pages that take files: every file at its largest, plus the
        form's fields and multipart framing."""
        return self.selfservice_max_files * self.selfservice_max_file_bytes + 65_536
