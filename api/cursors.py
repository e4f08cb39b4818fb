"""Opaque pagination cursors, checked before any database or Temporal call.

- List cursors wrap Temporal's page token with a digest of the token and the list's filter: a
  cursor we did not hand out for this filter is refused at once (Temporal, given a token it
  cannot read, retries for seconds and then fails). The digest is not keyed: it stops malformed
  and mismatched cursors, not a client who forges one on purpose, who gains nothing but a
  slower answer about accounts they may read anyway.
- Timeline cursors hold a position ([instant, source, id]) whose every part is bounded to what
  the store can hold: an instant from year 2000 to 2200 with its offset, a known source, an id
  within bigint.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from datetime import UTC, datetime
from typing import Any

from api.problems import Problem, invalid_field
from overdue.inputs import BIGINT_MAX

_VERSION = b"\x01"
_DIGEST_BYTES = 16
_SOURCES = frozenset({"audit", "contact"})
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)  # before the product: no entry is older
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)


def _refused() -> Problem:
    return invalid_field("cursor", "not a cursor this API handed out", "query")


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor.encode("ascii") + b"=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):  # UnicodeEncodeError is a ValueError
        raise _refused() from None


def _digest(scope: str, token: bytes) -> bytes:
    return hashlib.sha256(scope.encode() + b"\x00" + token).digest()[:_DIGEST_BYTES]


def wrap_token(scope: str, token: bytes) -> str:
    """A list cursor for Temporal's page `token`, valid only for the same `scope` (filter)."""
    return encode(_VERSION + _digest(scope, token) + token)


def unwrap_token(scope: str, cursor: str) -> bytes:
    """The page token inside a cursor `wrap_token` made for `scope`; 422 for any other."""
    raw = decode(cursor)
    digest, token = raw[1 : 1 + _DIGEST_BYTES], raw[1 + _DIGEST_BYTES :]
    if raw[:1] != _VERSION or not token or not hmac.compare_digest(digest, _digest(scope, token)):
        raise _refused()
    return token


def encode_position(at: datetime, source: str, id_: int) -> str:
    return encode(json.dumps([at.isoformat(), source, id_]).encode())


def decode_position(cursor: str) -> tuple[datetime, str, int]:
    try:
        raw: Any = json.loads(decode(cursor))
        at, source, id_ = raw
        instant = datetime.fromisoformat(at)
    except (ValueError, TypeError):
        raise _refused() from None
    known = isinstance(source, str) and source in _SOURCES
    whole = isinstance(id_, int) and not isinstance(id_, bool) and 0 <= id_ <= BIGINT_MAX
    if not (known and whole and instant.tzinfo is not None and _bounded(instant)):
        raise _refused()
    return instant, source, id_


def _bounded(instant: datetime) -> bool:
    try:
        return _EARLIEST <= instant.astimezone(UTC) <= _LATEST
    except (OverflowError, ValueError):
        return False
