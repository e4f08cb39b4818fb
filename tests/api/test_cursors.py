"""Cursors are checked before any database or Temporal call (api/cursors.py)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from api import cursors
from api.problems import Problem


def _position(*raw: object) -> str:
    return cursors.encode(json.dumps(raw).encode())


@pytest.mark.parametrize(
    "cursor",
    [
        _position("9999-12-31T23:59:59-23:00", "audit", 1),  # past datetime.max in UTC
        _position("0001-01-01T00:00:00+23:00", "audit", 1),  # before datetime.min in UTC
        _position("1999-12-31T23:59:59+00:00", "audit", 1),  # before any entry
        _position("2026-01-01T00:00:00+00:00", "audit", 2**63),  # past bigint
        _position("2026-01-01T00:00:00+00:00", "audit", -1),
        _position("2026-01-01T00:00:00+00:00", "audit", True),
        _position("2026-01-01T00:00:00+00:00", "audit", "1"),
        _position("2026-01-01T00:00:00+00:00", "a\x00", 1),
        _position("2026-01-01T00:00:00+00:00", "other", 1),
        _position("2026-01-01T00:00:00", "audit", 1),  # no offset
        "\u0661\u0662",  # not ASCII
    ],
)
def test_a_timeline_cursor_beyond_what_the_store_holds_is_refused(cursor: str) -> None:
    with pytest.raises(Problem) as refused:
        cursors.decode_position(cursor)
    assert refused.value.status_code == 422


def test_the_largest_timeline_position_round_trips() -> None:
    at = datetime(2199, 12, 31, 23, 59, tzinfo=UTC)
    assert cursors.decode_position(cursors.encode_position(at, "contact", 2**63 - 1)) == (
        at,
        "contact",
        2**63 - 1,
    )


def test_a_list_cursor_holds_for_its_own_filter_only() -> None:
    token = b"\x0a\x10temporal-page-token"
    cursor = cursors.wrap_token("filter A", token)
    assert cursors.unwrap_token("filter A", cursor) == token
    tampered = cursors.encode(cursors.decode(cursor)[:-1] + b"X")
    for scope, given in (("filter B", cursor), ("filter A", tampered)):
        with pytest.raises(Problem) as refused:
            cursors.unwrap_token(scope, given)
        assert refused.value.status_code == 422


@pytest.mark.parametrize("raw", [b"\x00" * 12, b"\xff" * 8, b"[1]", b"", b"\x01"])
def test_a_list_cursor_we_did_not_issue_is_refused(raw: bytes) -> None:
    with pytest.raises(Problem):
        cursors.unwrap_token("filter", cursors.encode(raw))
