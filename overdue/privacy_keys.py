"""Envelope encryption of personal text, and the keys it uses.

Each subject (an account id, or `SHARED_SUBJECT` for texts about no single account) has its own
random 256-bit data key, stored wrapped (AES-GCM) by the master key from settings
(`overdue.settings_privacy`). A text is sealed with its subject's data key (AES-GCM, a fresh
96-bit nonce, the subject as associated data, so a token moved to another account does not
open). Destroying a subject's data key makes every token sealed under it unreadable, wherever
it was copied (backups included): that is how an account is erased
(`overdue.store.sealed_texts`, `overdue.erasure`).

This module holds no SQL; the keys' table is read and written by `overdue.store.sealed_texts`.
"""

from __future__ import annotations

import base64
import hashlib
import os
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from overdue.settings import ConfigurationError, Settings
from overdue.settings_privacy import decode_master_key

SEALED_PREFIX = "sealed:v1:"
# Subject of the texts about no single account (an ops batch's reason, an SMS from a number no
# account has); never destroyed by an account's erasure. Not a valid account id.
SHARED_SUBJECT = "*"
_NONCE = 12


class Unreadable(Exception):
    """A token that does not open with the key given (tampered, another subject's, another
    key's): never shown as if it were the text."""


@dataclass(frozen=True)
class Keyring:
    master_key: bytes = field(repr=False)
    number_key: bytes = field(repr=False)
    # Keys that still unwrap (never wrap): the master key being rotated out.
    previous_keys: tuple[bytes, ...] = field(default=(), repr=False)

    @property
    def master_key_id(self) -> str:
        """Which master key wrapped a data key (not secret: a digest's first 8 bytes)."""
        return key_id(self.master_key)

    def new_data_key(self) -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def wrap(self, subject: str, data_key: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + AESGCM(self.master_key).encrypt(nonce, data_key, _wrap_aad(subject))

    def unwrap(self, subject: str, wrapped: bytes) -> bytes:
        """The data key, unwrapped by the master key or, while rotating, a previous one."""
        for key in (self.master_key, *self.previous_keys):
            try:
                return AESGCM(key).decrypt(wrapped[:_NONCE], wrapped[_NONCE:], _wrap_aad(subject))
            except InvalidTag:
                continue
        raise Unreadable(
            f"the data key of {subject!r} does not open with the master key or a previous one "
            "(OVERDUE_PRIVACY_MASTER_KEY changed without OVERDUE_PRIVACY_PREVIOUS_MASTER_KEYS?)"
        )


def key_id(master_key: bytes) -> str:
    """A master key's id as `data_keys.master_key_id` records it."""
    return hashlib.sha256(b"overdue.master-key-id\x00" + master_key).hexdigest()[:16]


def _wrap_aad(subject: str) -> bytes:
    return b"overdue.data-key\x00" + subject.encode()


def _seal_aad(subject: str) -> bytes:
    return b"overdue.sealed-text\x00" + subject.encode()


def seal(data_key: bytes, subject: str, text: str) -> str:
    """The text as a token: prefix, base64 of nonce and ciphertext, then the subject (not
    personal: an account id) so a reader knows whose key opens it."""
    nonce = os.urandom(_NONCE)
    sealed = nonce + AESGCM(data_key).encrypt(nonce, text.encode(), _seal_aad(subject))
    return f"{SEALED_PREFIX}{base64.b64encode(sealed).decode()}:{subject}"


def is_sealed(value: str) -> bool:
    return value.startswith(SEALED_PREFIX)


def subject_of(token: str) -> str:
    """The subject a token is sealed for (base64 has no ':', an account id may)."""
    _, _, subject = token.removeprefix(SEALED_PREFIX).partition(":")
    return subject


def open_token(data_key: bytes, token: str) -> str:
    """The text a token seals; Unreadable when this key does not open it."""
    encoded, _, subject = token.removeprefix(SEALED_PREFIX).partition(":")
    try:
        sealed = base64.b64decode(encoded, validate=True)
        plain = AESGCM(data_key).decrypt(sealed[:_NONCE], sealed[_NONCE:], _seal_aad(subject))
    except (InvalidTag, ValueError):
        raise Unreadable(f"a text sealed for {subject!r} does not open with this key") from None
    return plain.decode()


def keyring_from(settings: Settings) -> Keyring:
    """The keys settings name; the public development keys are refused where SMS reach real
    customers (a real provider's API), the one sign of production the settings carry."""
    if settings.sms_reaches_customers and settings.privacy_uses_dev_keys:
        raise ConfigurationError(
            "OVERDUE_PRIVACY_MASTER_KEY and OVERDUE_PRIVACY_NUMBER_KEY must be set (not the "
            "public development defaults) when SMS go through a real provider's API; see "
            "docs/privacy.md"
        )
    return Keyring(
        master_key=decode_master_key(settings.privacy_master_key.get_secret_value()),
        number_key=settings.privacy_number_key.get_secret_value().encode(),
        previous_keys=settings.privacy_previous_keys,
    )


_current: Keyring | None = None


def keyring() -> Keyring:
    """The process's keyring, read from settings on first use (every process reads the same
    environment; tests may set another with `use_keyring`)."""
    global _current
    if _current is None:
        _current = keyring_from(Settings())
    return _current


def use_keyring(ring: Keyring | None) -> None:
    """Set the process's keyring (None: read settings again on next use)."""
    global _current
    _current = ring
