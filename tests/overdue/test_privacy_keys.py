"""Envelope encryption of personal text (overdue/privacy_keys.py) and number references
(overdue/number_refs.py): round trips, and every way a token must refuse to open."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

import pytest
from pydantic import ValidationError

from overdue.number_refs import number_ref
from overdue.privacy_keys import (
    SEALED_PREFIX,
    Keyring,
    Unreadable,
    is_sealed,
    keyring,
    keyring_from,
    open_token,
    seal,
    subject_of,
    use_keyring,
)
from overdue.settings import ConfigurationError, Settings
from overdue.settings_privacy import DEV_MASTER_KEY

NAME = "Zhang Sealedname"


def _ring(number_key: bytes = b"n" * 32) -> Keyring:
    return Keyring(master_key=os.urandom(32), number_key=number_key)


def test_a_sealed_text_opens_with_its_key_and_carries_only_the_subject() -> None:
    data_key = _ring().new_data_key()
    token = seal(data_key, "acct-1", f"您好 {NAME}")
    assert is_sealed(token) and token.startswith(SEALED_PREFIX)
    assert NAME not in token and "Sealedname" not in token
    assert subject_of(token) == "acct-1"
    assert open_token(data_key, token) == f"您好 {NAME}"
    assert seal(data_key, "acct-1", NAME) != seal(data_key, "acct-1", NAME)  # fresh nonces


def test_a_subject_with_colons_is_read_back_whole() -> None:
    data_key = _ring().new_data_key()
    token = seal(data_key, "bank:acct:7", "x")
    assert subject_of(token) == "bank:acct:7"
    assert open_token(data_key, token) == "x"


def test_another_key_does_not_open_a_token() -> None:
    ring = _ring()
    token = seal(ring.new_data_key(), "acct-1", NAME)
    with pytest.raises(Unreadable):
        open_token(ring.new_data_key(), token)


def test_a_token_moved_to_another_account_does_not_open() -> None:
    data_key = _ring().new_data_key()
    token = seal(data_key, "acct-1", NAME)
    moved = token.removesuffix(":acct-1") + ":acct-2"
    with pytest.raises(Unreadable):
        open_token(data_key, moved)


def test_a_tampered_token_does_not_open() -> None:
    data_key = _ring().new_data_key()
    token = seal(data_key, "acct-1", NAME)
    encoded, _, subject = token.removeprefix(SEALED_PREFIX).partition(":")
    raw = bytearray(base64.b64decode(encoded))
    raw[-1] ^= 1
    with pytest.raises(Unreadable):
        open_token(data_key, f"{SEALED_PREFIX}{base64.b64encode(raw).decode()}:{subject}")
    with pytest.raises(Unreadable):
        open_token(data_key, f"{SEALED_PREFIX}not base64!:{subject}")


def test_a_data_key_unwraps_with_its_master_key_and_subject_only() -> None:
    ring = _ring()
    data_key = ring.new_data_key()
    wrapped = ring.wrap("acct-1", data_key)
    assert data_key not in wrapped
    assert ring.unwrap("acct-1", wrapped) == data_key
    with pytest.raises(Unreadable, match="OVERDUE_PRIVACY_MASTER_KEY"):
        _ring().unwrap("acct-1", wrapped)
    with pytest.raises(Unreadable):
        ring.unwrap("acct-2", wrapped)


def test_number_refs_are_keyed_and_stable() -> None:
    phone = "+8613912340000"
    try:
        use_keyring(_ring(b"k" * 32))
        first = number_ref(phone)
        assert first == number_ref(phone) and len(first) == 32
        expected = hmac.new(b"k" * 32, b"overdue.number\x00" + phone.encode(), hashlib.sha256)
        assert first == expected.digest()
        # Not the unkeyed digest anyone can compute from the number alone.
        assert first != hashlib.sha256(b"overdue.dialled-number\x00" + phone.encode()).digest()
        use_keyring(_ring(b"j" * 32))
        assert number_ref(phone) != first
    finally:
        use_keyring(None)


def test_the_development_keys_work_without_set_up() -> None:
    settings = Settings()
    assert settings.privacy_uses_dev_keys
    ring = keyring_from(settings)
    assert ring.master_key == base64.b64decode(DEV_MASTER_KEY)
    try:
        use_keyring(None)
        assert keyring() == ring
    finally:
        use_keyring(None)


def test_the_development_keys_are_refused_where_sms_reach_real_customers() -> None:
    with pytest.raises(ConfigurationError, match="OVERDUE_PRIVACY_MASTER_KEY"):
        keyring_from(Settings(sms_sender="twilio"))
    own = Settings(
        sms_sender="twilio",
        privacy_master_key=base64.b64encode(os.urandom(32)).decode(),
        privacy_number_key="a private number key of 32+ chars",
    )
    assert not own.privacy_uses_dev_keys
    assert keyring_from(own).number_key == b"a private number key of 32+ chars"
    # The local fake Twilio is not production.
    keyring_from(Settings(sms_sender="twilio", twilio_api_base="http://127.0.0.1:8011"))


@pytest.mark.parametrize(
    ("value", "reason"),
    [("not base64!", "base64"), (base64.b64encode(b"short").decode(), "32 bytes")],
)
def test_a_bad_master_key_stops_the_process_naming_the_variable(value: str, reason: str) -> None:
    with pytest.raises(ValidationError, match=reason) as refused:
        Settings(privacy_master_key=value)
    assert "privacy_master_key" in str(refused.value)


def test_a_short_number_key_is_refused() -> None:
    with pytest.raises(ValidationError, match="privacy_number_key"):
        Settings(privacy_number_key="short")


def test_the_keys_never_show_in_a_repr() -> None:
    settings = Settings()
    assert DEV_MASTER_KEY not in repr(settings)
    assert "never for real numbers" not in repr(settings)
    assert "master_key" not in repr(keyring_from(settings)).replace("master_key=", "")
