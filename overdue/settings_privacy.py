"""Settings of personal data at rest: the master key that wraps each account's data key, and
the key that turns phone numbers into references (`overdue.number_refs`).

Both have development defaults, so `make run` and the tests need no set-up; they are public
(they are in this file) and protect nothing. `overdue.privacy_keys.keyring_from` refuses them
where real customers are reached (SMS through Twilio's real API). See docs/privacy.md.
"""

from __future__ import annotations

import base64
import binascii

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

# Public development values: anything sealed under them is readable by anyone with the code.
DEV_MASTER_KEY = "BFqqREyeWhR8HdJMyQhq3VXV4uHOEQhTHzGLKReY1Ds="
DEV_NUMBER_KEY = "overdue development number key: never for real numbers"


def decode_master_key(value: str) -> bytes:
    """The 32 bytes of an AES-256 key given as standard base64."""
    try:
        raw = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("must be standard base64 (e.g. `openssl rand -base64 32`)") from None
    if len(raw) != 32:
        raise ValueError(f"must decode to 32 bytes (AES-256), got {len(raw)}")
    return raw


class PrivacySettings(BaseSettings):
    """Mixed into `overdue.settings.Settings` (one settings object)."""

    model_config = SettingsConfigDict(env_prefix="OVERDUE_", extra="ignore", frozen=True)

    privacy_master_key: SecretStr = Field(
        default=SecretStr(DEV_MASTER_KEY),
        description="Base64 AES-256 key wrapping each account's data key (envelope "
        "encryption of message bodies and typed texts). Default: a public development key.",
    )
    privacy_previous_master_keys: SecretStr = Field(
        default=SecretStr(""),
        description="Comma-separated base64 AES-256 keys that still unwrap data keys but never "
        "wrap one: the master key being replaced, while `overdue privacy rewrap` moves the data "
        "keys to the new one (docs/operations.md, rotating keys). Default: none.",
    )
    privacy_number_key: SecretStr = Field(
        default=SecretStr(DEV_NUMBER_KEY),
        min_length=32,
        description="HMAC-SHA256 key of phone-number references (opt-outs, dial attempts). "
        "Default: a public development key.",
    )

    @field_validator("privacy_master_key")
    @classmethod
    def _master_key(cls, value: SecretStr) -> SecretStr:
        decode_master_key(value.get_secret_value())
        return value

    @field_validator("privacy_previous_master_keys")
    @classmethod
    def _previous_keys(cls, value: SecretStr) -> SecretStr:
        for n, key in enumerate(_listed(value.get_secret_value()), 1):
            try:
                decode_master_key(key)
            except ValueError as err:
                raise ValueError(f"key {n}: {err}") from None
        return value

    @property
    def privacy_previous_keys(self) -> tuple[bytes, ...]:
        return tuple(
            decode_master_key(k)
            for k in _listed(self.privacy_previous_master_keys.get_secret_value())
        )

    @property
    def privacy_uses_dev_keys(self) -> bool:
        return (
            self.privacy_master_key.get_secret_value() == DEV_MASTER_KEY
            or self.privacy_number_key.get_secret_value() == DEV_NUMBER_KEY
        )


def _listed(value: str) -> list[str]:
    return [key.strip() for key in value.split(",") if key.strip()]
