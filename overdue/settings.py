"""The one settings object, read from environment variables.

Every setting has a default that works on a fresh machine (`make run`). Variables are prefixed
`OVERDUE_`, except `DATABASE_URL`, which keeps its conventional name. See docs/settings.md.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from overdue.settings_alibaba import ALIBABA_API, AlibabaSettings
from overdue.settings_experiments import ExperimentSettings
from overdue.settings_letters import LetterSettings
from overdue.settings_privacy import PrivacySettings
from overdue.settings_reports import ReportSettings
from overdue.settings_retention import RetentionSettings
from overdue.settings_scoring import ScoringSettings
from overdue.settings_selfservice import SelfServiceSettings

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_TWILIO_API = "https://api.twilio.com"


def _http_url(value: str) -> str:
    """An http(s) URL with a host and no query or fragment, without a trailing slash."""
    parts = urlsplit(value)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise ValueError(f"must be an http:// or https:// URL with a host, got {value!r}")
    if parts.query or parts.fragment:
        raise ValueError(f"must not carry a query or fragment, got {value!r}")
    return value.rstrip("/")


@dataclass(frozen=True)
class TwilioConfig:
    account_sid: str
    auth_token: str = field(repr=False)
    from_: str | None
    messaging_service_sid: str | None
    api_base: str
    timeout_seconds: float
    validity_period_seconds: int
    status_callback_url: str


@dataclass(frozen=True)
class NotifyConfig:
    url: str
    secret: str = field(repr=False)
    timeout_seconds: float


class ConfigurationError(RuntimeError):
    """A setting the command needs is missing; the message says how to set it."""


class Settings(
    AlibabaSettings,
    LetterSettings,
    PrivacySettings,
    RetentionSettings,
    ScoringSettings,
    ExperimentSettings,
    SelfServiceSettings,
    ReportSettings,
    BaseSettings,
):
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
    temporal_tls: bool = Field(
        default=False,
        description="Connect to Temporal over TLS (on by itself with any TLS file, server "
        "name or API key below).",
    )
    temporal_tls_server_ca_file: Path | None = Field(
        default=None, description="PEM CA that signed the frontend's certificate (unset: system)."
    )
    temporal_tls_client_cert_file: Path | None = Field(
        default=None, description="PEM client certificate for mTLS (with the key file)."
    )
    temporal_tls_client_key_file: Path | None = Field(
        default=None, description="PEM private key of the client certificate."
    )
    temporal_tls_server_name: str | None = Field(
        default=None, description="Name the frontend's certificate is checked against."
    )
    temporal_api_key: SecretStr | None = Field(
        default=None, description="Temporal Cloud API key, sent with every call (TLS on)."
    )

    api_host: str = Field(default="127.0.0.1", description="Address the API binds to.")
    api_port: int = Field(default=8000, ge=1, le=65535, description="API port.")
    api_max_body_bytes: int = Field(
        default=65_536,
        ge=1_024,
        le=10_485_760,
        description="Largest request body the API reads; a larger one gets 413.",
    )
    dev_api_key: SecretStr | None = Field(
        default=None,
        min_length=32,
        description="Development only: an API key accepted with every scope, without a "
        "database row. Unset (the default) in every shared or production environment.",
    )
    console_session_hours: float = Field(
        default=8.0, gt=0, le=24 * 7, description="How long an agent console login lasts."
    )
    login_attempts_per_minute: int = Field(
        default=5, ge=1, le=100, description="Console login attempts per username per minute."
    )
    login_client_attempts_per_minute: int = Field(
        default=20, ge=1, le=1000, description="Console login attempts per client per minute."
    )
    login_max_lockout_seconds: int = Field(
        default=900,
        ge=60,
        le=86_400,
        description="Longest wait the doubling back-off after failed logins reaches.",
    )
    hsts_max_age_seconds: int = Field(
        default=31_536_000,
        ge=0,
        le=63_072_000,
        description="Strict-Transport-Security max-age when the public URL is https (0: off).",
    )

    policy_file: Path = Field(
        default=PROJECT_ROOT / "policies" / "default.yaml",
        description="Reminder policy that new accounts are started with (snapshotted at start).",
    )
    sms_sender: str = Field(
        default="recording",
        description="SMS sender: `recording` keeps messages in memory (dev); `twilio` sends "
        "through Twilio's Messages API (or the local fake at twilio_api_base).",
    )
    dev_fake_twilio: bool = Field(
        default=False,
        description="`overdue dev` only: run the local fake Twilio and send SMS through it with "
        "the real Twilio SDK (status callbacks reach the API's webhooks).",
    )
    fake_twilio_port: int = Field(
        default=8011, ge=1, le=65535, description="Port of the local fake Twilio (dev)."
    )
    fake_twilio_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Bearer token the fake Twilio's /_fake/* control API requires (dev); "
        "unset: `overdue dev` keeps one in state_dir.",
    )
    sms_rate_per_second: float = Field(
        default=1.0,
        gt=0,
        le=1000,
        description="SMS activities started per second across all workers (the sender's rate).",
    )
    twilio_account_sid: str | None = Field(
        default=None, pattern=r"^AC[0-9a-f]{32}$", description="Twilio Account SID (AC...)."
    )
    twilio_auth_token: SecretStr | None = Field(
        default=None, description="Twilio Auth Token: authenticates API calls and signs webhooks."
    )
    twilio_from: str | None = Field(
        default=None,
        pattern=r"^(\+[1-9][0-9]{6,14}|[0-9]{3,8}|[A-Za-z0-9 ]{1,11})$",
        description="Sender: an E.164 number, a short code or an alphanumeric sender id.",
    )
    twilio_messaging_service_sid: str | None = Field(
        default=None,
        pattern=r"^MG[0-9a-f]{32}$",
        description="Messaging Service SID (MG...), instead of twilio_from.",
    )
    twilio_api_base: str = Field(
        default=_TWILIO_API,
        description="Origin of the Messages API; the local fake's URL in dev and tests.",
    )
    twilio_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long one Twilio API call may take."
    )
    twilio_validity_period_seconds: int = Field(
        default=3600,
        ge=1,
        le=36_000,
        description="Twilio drops a message still queued after this long (contact hours).",
    )
    public_base_url: str | None = Field(
        default=None,
        description="The API's URL as Twilio sees it (status callbacks, signature checks); "
        "unset: the API's own address.",
    )
    notify_url: str | None = Field(
        default=None, description="Backend URL that receives signed `notify` webhooks."
    )
    notify_secret: SecretStr | None = Field(
        default=None, description="HMAC-SHA256 key for `notify` webhooks (16+ characters)."
    )
    notify_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long one notify webhook call may take."
    )
    log_level: str = Field(default="INFO", description="DEBUG, INFO, WARNING or ERROR.")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="`text` (readable lines, the dev stack's) or `json` (one object per line, "
        "with request, workflow and account ids, for log collectors).",
    )
    worker_metrics_address: str | None = Field(
        default="127.0.0.1:9464",
        description="host:port where the worker serves Prometheus metrics (SDK and product); "
        "empty turns the endpoint off.",
    )

    @field_validator("sms_sender")
    @classmethod
    def _known_sender(cls, value: str) -> str:
        if value not in {"recording", "twilio"}:
            raise ValueError(f"unknown SMS sender {value!r}; expected one of: recording, twilio")
        return value

    @field_validator("twilio_api_base")
    @classmethod
    def _api_origin(cls, value: str) -> str:
        url = _http_url(value)
        if urlsplit(url).path:
            raise ValueError(
                f"must be an origin without a path (e.g. {_TWILIO_API}), got {value!r}"
            )
        return url

    @field_validator("public_base_url", "notify_url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        return None if value is None else _http_url(value)

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.upper()
        if level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError(f"unknown log level {value!r}; expected DEBUG, INFO, WARNING or ERROR")
        return level

    @field_validator("worker_metrics_address")
    @classmethod
    def _host_port(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None  # empty: no metrics endpoint
        host, sep, port = value.strip().rpartition(":")
        if not sep or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
            raise ValueError(f"must be host:port (e.g. 0.0.0.0:9464) or empty, got {value!r}")
        return value.strip()

    @model_validator(mode="after")
    def _client_cert_pair(self) -> Settings:
        if (self.temporal_tls_client_cert_file is None) != (
            self.temporal_tls_client_key_file is None
        ):
            raise ValueError(
                "OVERDUE_TEMPORAL_TLS_CLIENT_CERT_FILE and OVERDUE_TEMPORAL_TLS_CLIENT_KEY_FILE "
                "go together: set both for mTLS, or neither"
            )
        return self

    @cached_property
    def temporal_uses_tls(self) -> bool:
        return self.temporal_tls or any(
            value is not None
            for value in (
                self.temporal_tls_server_ca_file,
                self.temporal_tls_client_cert_file,
                self.temporal_tls_server_name,
                self.temporal_api_key,
            )
        )

    @cached_property
    def public_url_is_https(self) -> bool:
        return self.public_url.startswith("https://")

    @cached_property
    def temporal_address(self) -> str:
        return f"{self.temporal_host}:{self.temporal_port}"

    @cached_property
    def api_url(self) -> str:
        return f"http://{self.api_host}:{self.api_port}"

    @cached_property
    def public_url(self) -> str:
        """Where Twilio reaches the API: webhook URLs and their signatures are built on it."""
        return self.public_base_url or self.api_url

    @cached_property
    def temporal_db_file(self) -> Path:
        return self.state_dir / "temporal.sqlite"

    @cached_property
    def postgres_data_dir(self) -> Path:
        return self.state_dir / "postgres"

    @property
    def sms_reaches_customers(self) -> bool:
        """Whether a configured SMS sender is a real provider's API, not a fake or the
        recorder: the one sign of production settings carry (privacy keys, residency)."""
        names = {self.sms_sender, *self.sms_route_map().values()}
        return ("twilio" in names and self.twilio_api_base == _TWILIO_API) or (
            "alibaba" in names and self.alibaba_api_base == ALIBABA_API
        )

    def twilio(self) -> TwilioConfig:
        """The Twilio settings as one checked group; the message names what is missing."""
        missing = [
            f"OVERDUE_{name.upper()}"
            for name in ("twilio_account_sid", "twilio_auth_token")
            if not getattr(self, name)
        ]
        if missing:
            raise ConfigurationError(f"Twilio is not configured: set {' and '.join(missing)}")
        if (self.twilio_from is None) == (self.twilio_messaging_service_sid is None):
            raise ConfigurationError(
                "Twilio needs exactly one sender: set OVERDUE_TWILIO_FROM or "
                "OVERDUE_TWILIO_MESSAGING_SERVICE_SID"
            )
        assert self.twilio_account_sid is not None and self.twilio_auth_token is not None
        return TwilioConfig(
            account_sid=self.twilio_account_sid,
            auth_token=self.twilio_auth_token.get_secret_value(),
            from_=self.twilio_from,
            messaging_service_sid=self.twilio_messaging_service_sid,
            api_base=self.twilio_api_base,
            timeout_seconds=self.twilio_timeout_seconds,
            validity_period_seconds=self.twilio_validity_period_seconds,
            status_callback_url=f"{self.public_url}/webhooks/twilio/status",
        )

    def notify(self) -> NotifyConfig | None:
        """The notify webhook's settings; None when no URL is set (notify stages then wait)."""
        if self.notify_url is None:
            return None
        secret = self.notify_secret.get_secret_value() if self.notify_secret else ""
        if len(secret) < 16:
            raise ConfigurationError(
                "OVERDUE_NOTIFY_URL is set: OVERDUE_NOTIFY_SECRET must be set too, "
                "at least 16 characters"
            )
        return NotifyConfig(
            url=self.notify_url, secret=secret, timeout_seconds=self.notify_timeout_seconds
        )

    def require_database_url(self) -> str:
        """DATABASE_URL, or else the embedded Postgres a running `overdue dev` keeps in
        state_dir (so `overdue users add` works beside `make run` with nothing to export)."""
        if self.database_url:
            return self.database_url
        running = _running_embedded_postgres_url(self.postgres_data_dir, self.database_name)
        if running is None:
            raise ConfigurationError(
                "DATABASE_URL is not set and no `overdue dev` Postgres is running in "
                f"{self.postgres_data_dir}. Start `make run`, or set "
                "DATABASE_URL=postgresql://user:pass@host:5432/db"
            )
        return running


def _running_embedded_postgres_url(data_dir: Path, database: str) -> str | None:
    """The socket URL of a live server in data_dir, read from its postmaster.pid."""
    try:
        lines = (data_dir / "postmaster.pid").read_text(encoding="utf-8").splitlines()
        pid, socket_dir = int(lines[0]), lines[4].strip()
        os.kill(pid, 0)  # raises when no such process
    except (OSError, ValueError, IndexError):
        return None
    return f"postgresql://postgres:@/{database}?host={socket_dir}" if socket_dir else None
