"""Settings for residency: which SMS provider each jurisdiction's messages go through, and
Alibaba Cloud SMS (the domestic provider for CN).

A base of `overdue.settings.Settings` (its own module: settings.py is near the size limit).
Variables are documented in docs/settings.md and docs/sms-providers.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ALIBABA_API = "https://dysmsapi.aliyuncs.com"
# Providers that keep a message inside the PRC: a CN message may go through these only.
DOMESTIC_CN_SENDERS = frozenset({"alibaba", "recording"})
ROUTABLE_SENDERS = frozenset({"alibaba", "twilio", "recording"})
_ROUTE = re.compile(r"^(?P<jurisdiction>[A-Z]{2})=(?P<sender>[a-z]+)$")


class AlibabaConfigurationError(RuntimeError):
    """Alibaba SMS is routed to but not configured; the message says what to set."""


@dataclass(frozen=True)
class AlibabaConfig:
    access_key_id: str
    access_key_secret: str = field(repr=False)
    protocol: str  # "HTTPS", or "HTTP" for the local fake
    endpoint: str  # host[:port], as the SDK's Config.endpoint takes it
    timeout_seconds: float


def parse_routes(text: str) -> dict[str, str]:
    """`CN=alibaba,HK=twilio` -> {"CN": "alibaba", "HK": "twilio"}; ValueError names the
    entry that is not `XX=sender` or names an unknown sender."""
    routes: dict[str, str] = {}
    for entry in (part.strip() for part in text.split(",")):
        if not entry:
            continue
        match = _ROUTE.fullmatch(entry)
        if match is None:
            raise ValueError(
                f"route {entry!r} must be COUNTRY=sender (an ISO code in capitals, e.g. CN=alibaba)"
            )
        sender = match["sender"]
        if sender not in ROUTABLE_SENDERS:
            raise ValueError(
                f"route {entry!r}: unknown sender {sender!r}; expected one of: "
                f"{', '.join(sorted(ROUTABLE_SENDERS))}"
            )
        routes[match["jurisdiction"]] = sender
    return routes


class AlibabaSettings(BaseSettings):
    """SMS routing by jurisdiction and Alibaba Cloud SMS (see docs/sms-providers.md)."""

    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    sms_routes: str = Field(
        default="",
        description="Senders per jurisdiction, `CN=alibaba,...`; the others use sms_sender. "
        "The worker refuses to start when a CN message could reach a foreign provider.",
    )
    alibaba_access_key_id: str | None = Field(
        default=None, min_length=1, max_length=128, description="Alibaba Cloud AccessKey ID."
    )
    alibaba_access_key_secret: SecretStr | None = Field(
        default=None, description="Alibaba Cloud AccessKey secret: signs every API call."
    )
    alibaba_api_base: str = Field(
        default=ALIBABA_API,
        description="Origin of the SMS API (dysmsapi); the local fake's URL in dev and tests.",
    )
    alibaba_timeout_seconds: float = Field(
        default=10.0, gt=0, le=60, description="How long one Alibaba API call may take."
    )
    alibaba_receipt_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Shared token the delivery-receipt push URL carries (`?token=`); unset: "
        "the API refuses every receipt (503).",
    )
    dev_fake_alibaba: bool = Field(
        default=False,
        description="`overdue dev` only: run the local fake Alibaba SMS and route CN messages "
        "to it with the real SDK (receipts reach the API's webhook).",
    )
    fake_alibaba_port: int = Field(
        default=8012, ge=1, le=65535, description="Port of the local fake Alibaba SMS (dev)."
    )
    fake_alibaba_token: SecretStr | None = Field(
        default=None,
        min_length=16,
        description="Bearer token the fake Alibaba's /_fake/* control API requires (dev); "
        "unset: `overdue dev` keeps one in state_dir.",
    )

    @field_validator("sms_routes")
    @classmethod
    def _routes(cls, value: str) -> str:
        parse_routes(value)
        return value

    @field_validator("alibaba_api_base")
    @classmethod
    def _origin(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            raise ValueError(f"must be an http:// or https:// origin, got {value!r}")
        if parts.path.strip("/") or parts.query or parts.fragment:
            raise ValueError(f"must be an origin without a path (e.g. {ALIBABA_API})")
        return value.rstrip("/")

    def sms_route_map(self) -> dict[str, str]:
        """Jurisdiction -> sender, as OVERDUE_SMS_ROUTES sets them."""
        return parse_routes(self.sms_routes)

    def alibaba(self) -> AlibabaConfig:
        """The Alibaba settings as one checked group; the message names what is missing."""
        missing = [
            f"OVERDUE_{name.upper()}"
            for name in ("alibaba_access_key_id", "alibaba_access_key_secret")
            if not getattr(self, name)
        ]
        if missing:
            raise AlibabaConfigurationError(
                f"Alibaba SMS is routed to but not configured: set {' and '.join(missing)}"
            )
        assert self.alibaba_access_key_id and self.alibaba_access_key_secret
        origin = urlsplit(self.alibaba_api_base)
        return AlibabaConfig(
            access_key_id=self.alibaba_access_key_id,
            access_key_secret=self.alibaba_access_key_secret.get_secret_value(),
            protocol=origin.scheme.upper(),
            endpoint=origin.netloc,
            timeout_seconds=self.alibaba_timeout_seconds,
        )
