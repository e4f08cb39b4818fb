"""The one settings object, read from environment variables.

Every setting has a default that works on a fresh machine (`make run`). Variables are prefixed
`OVERDUE_`, except `DATABASE_URL`, which keeps its conventional name. See docs/settings.md.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import AliasChoices, Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ConfigurationError(RuntimeError):
    """A setting the command needs is missing; the message says how to set it."""


class Settings(BaseSettings):
    """Runtime configuration. Field docs double as the settings reference."""

    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    state_dir: Path = Field(
        default=PROJECT_ROOT / ".state",
        description="Project-local folder for the dev stack's data (Temporal SQLite, Postgres).",
    )
    database_url: str | None = Field(
        default=None,
        validation_alias=AliasChoices("DATABASE_URL", "OVERDUE_DATABASE_URL"),
        description="Postgres URL. Unset: `overdue dev` runs an embedded Postgres in state_dir.",
    )
    database_name: str = Field(
        default="overdue", description="Database the embedded Postgres creates and uses."
    )
    db_pool_min_size: int = Field(default=1, ge=0, description="Connections each process keeps.")
    db_pool_max_size: int = Field(default=10, ge=1, description="Connection cap per process.")

    temporal_host: str = Field(default="127.0.0.1", description="Temporal frontend host.")
    temporal_port: int = Field(default=7233, ge=1, le=65535, description="Temporal gRPC port.")
    temporal_ui_port: int = Field(default=8233, ge=1, le=65535, description="Temporal UI port.")
    temporal_namespace: str = Field(default="default", description="Temporal namespace.")

    api_host: str = Field(default="127.0.0.1", description="Address the API binds to.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="API port.")

    policy_file: Path = Field(
        default=PROJECT_ROOT / "policies" / "default.yaml",
        description="Reminder policy that new accounts are started with (snapshotted at start).",
    )
    sms_sender: str = Field(
        default="recording",
        description="SMS sender: `recording` keeps messages locally (dev); Twilio comes later.",
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")

    @field_validator("sms_sender")
    @classmethod
    def _known_sender(cls, value: str) -> str:
        if value not in {"recording"}:
            raise ValueError(f"unknown SMS sender {value!r}; expected one of: recording")
        return value

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"unknown log level {value!r}; expected DEBUG, INFO, WARNING or ERROR")
        return level

    @cached_property
    def temporal_address(self) -> str:
        return f"{self.temporal_host}:{self.temporal_port}"

    @cached_property
    def temporal_ui_url(self) -> str:
        return f"http://{self.temporal_host}:{self.temporal_ui_port}"

    @cached_property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @cached_property
    def temporal_db_file(self) -> Path:
        return self.state_dir / "temporal.sqlite"

    @cached_property
    def postgres_data_dir(self) -> Path:
        return self.state_dir / "postgres"

    def require_database_url(self) -> str:
        if not self.database_url:
            raise ConfigurationError(
                "DATABASE_URL is not set. Run through `overdue dev` (which starts an embedded "
                "Postgres) or set DATABASE_URL=postgresql://user:pass@host:5432/db"
            )
        return self.database_url
