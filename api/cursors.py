"""Opaque pagination cursors: URL-safe base64 of what the next page starts after."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime
from typing import Any

from api.problems import invalid_field


def encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def decode(cursor: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
    except (binascii.Error, ValueError):
        raise invalid_field("cursor", "not a cursor this API handed out", "query") from None


def encode_position(at: datetime, source: str, id_: int) -> str:
    return encode(json.dumps([at.isoformat(), source, id_]).encode())


def decode_position(cursor: str) -> tuple[datetime, str, int]:
    try:
        raw: Any = json.loads(decode(cursor))
        at, source, id_ = raw
        position = (datetime.fromisoformat(at), str(source), int(id_))
    except (ValueError, TypeError):
        raise invalid_field("cursor", "not a cursor this API handed out", "query") from None
    if position[0].tzinfo is None:
        raise invalid_field("cursor", "not a cursor this API handed out", "query")
    return position
