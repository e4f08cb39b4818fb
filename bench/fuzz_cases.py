"""The cases the fuzz sends (bench/fuzz.py has the whole story): schemathesis's, bent towards
what users send (realistic accounts, phones, time zones and currencies; edge values one leaf at
a time; list and timeline cursors tampered), and the signatures of the known failure classes
(`SIGNATURES`, `KNOWN_500S`) that sort a failure as known or new.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import schemathesis
from hypothesis import strategies as st

Case = schemathesis.Case[Any]
Operation = schemathesis.APIOperation[Any, Any, Any, Any]
EDGE_STRINGS = ("\x00", "a\x00b", "\x00" * 4, "\x1f\x7f", "\u202e\u0301", "\ufeff", "\U0010ffff")
EDGE_INTS = (0, -1, 2**63 - 1, 2**63, 2**64, 10**30, -(2**63) - 1)
EDGE_DATES = ("0001-01-01", "9999-12-31", "2000-02-29")  # `*_date` fields
EDGE_INSTANTS = ("0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "9999-12-31T23:59:59Z")
EDGE_TOKENS = (b"\x00" * 12, b"\xff" * 8, b"[1]")  # list cursors: not Temporal's page tokens
EDGE_POSITIONS: tuple[tuple[object, ...], ...] = (  # timeline cursors: [instant, source, id]
    (*EDGE_INSTANTS, "2000-01-01T00:00:00+00:00", "2000-01-01T00:00:00", "yesterday"),
    ("audit", "contact", "a\x00", ""),
    (1, 0, -1, 2**63 - 1, 2**63, -(2**63) - 1, 10**30, "1", None),
)
REALISTIC: dict[str, tuple[str, ...]] = {  # what backends send where the schema says "string"
    "phone": ("+8613800138000", "+8613912345678"),
    "time_zone": ("Asia/Shanghai", "America/New_York", "UTC"),
    "currency": ("CNY", "CNY", "USD"),
    "locale": ("zh-CN", "en"),
}
SEEDS = tuple(f"fuzz-seed-{i}" for i in range(4))
PUT_OVERDUE = "PUT /v1/accounts/{account_id}/overdue"
_ACCOUNT = "/v1/accounts/{account_id}"


def _b64(cursor: object) -> bytes | None:
    if not isinstance(cursor, str) or not cursor:
        return None
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)) or None
    except (binascii.Error, ValueError):
        return None


def _beyond_database(cursor: object) -> bool:
    """A timeline cursor the API accepts ([aware instant, source, id]) that Postgres cannot
    take: the instant overflows in UTC, the id is past int64, or the source holds NUL."""
    try:
        at, source, id_ = json.loads(_b64(cursor) or b"")
        instant, number = datetime.fromisoformat(at), int(id_)
    except (ValueError, TypeError):
        return False
    if instant.tzinfo is None:
        return False
    try:
        instant.astimezone(UTC)
    except OverflowError:
        return True
    return "\x00" in str(source) or not -(2**63) <= number < 2**63


def calendar_end(value: object) -> bool:
    """A due date whose stage times overflow the calendar (within 90 days of its ends)."""
    try:
        day = date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return False
    return day is not None and not date(1, 4, 1) <= day <= date(9999, 10, 1)


def body_field(case: Case, *path: str) -> object:
    value: object = case.body
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


def _huge(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 2**63


def _nul(value: object) -> bool:
    return isinstance(value, str) and "\x00" in value


def account_of(case: Case) -> str:
    return str((case.path_parameters or {}).get("account_id"))


@dataclass
class Seen:
    """What earlier answers left behind for later requests to meet."""

    created: list[str] = field(default_factory=list)  # accounts whose process a PUT started
    broken: set[str] = field(default_factory=set)  # ... on a calendar-end due date
    new_ids: int = 0  # account ids handed to PUTs as new (numbered as generated: deterministic)

    def new_account(self) -> str:
        self.new_ids += 1
        return f"fuzz-new-{self.new_ids}"

    def accounts(self) -> tuple[str, ...]:
        """Accounts a user would name: the seeds, the latest ones created, the broken ones."""
        return SEEDS + tuple(self.created[-16:]) + tuple(sorted(self.broken)[:4])


@dataclass(frozen=True)
class Signature:
    """A class of requests: which operations, and what in the request (field and value)."""

    name: str
    operations: frozenset[str]
    what: str
    matches: Callable[[Case, Seen], bool]
    known: str | None = None  # fails today: the issue that will fix it
    defuse: Callable[[Case], None] | None = None  # for slow answers (bench/fuzz.py)


def _drop_cursor(case: Case) -> None:
    case.query = {k: v for k, v in (case.query or {}).items() if k != "cursor"}


_EVENTS = frozenset(
    f"POST {_ACCOUNT}/{p}"
    for p in ("hardship", "disputes", "disputes/{dispute_id}/close", "cease-contact")
)
SIGNATURES = (
    Signature(
        "nul-in-reason",
        _EVENTS,
        "NUL byte in `reason` / `resolution`",
        lambda c, _: _nul(body_field(c, "reason")) or _nul(body_field(c, "resolution")),
    ),
    Signature(
        "nul-in-customer-name",
        frozenset({PUT_OVERDUE}),
        "NUL byte in `customer.name`",
        lambda c, _: _nul(body_field(c, "customer", "name")),
    ),
    Signature(
        "int64-amount-due",
        frozenset({PUT_OVERDUE}),
        "`amount_due.amount_minor` >= 2**63",
        lambda c, _: _huge(body_field(c, "amount_due", "amount_minor")),
    ),
    Signature(
        "int64-payment",
        frozenset({f"POST {_ACCOUNT}/payments"}),
        "`amount_minor` >= 2**63",
        lambda c, _: _huge(body_field(c, "amount_minor")),
    ),
    Signature(
        "list-cursor",
        frozenset({"GET /v1/accounts"}),
        "`cursor` that base64-decodes but is no page token",
        lambda c, _: _b64((c.query or {}).get("cursor")) is not None,
        defuse=_drop_cursor,
    ),
    Signature(
        "timeline-cursor-range",
        frozenset({f"GET {_ACCOUNT}/timeline"}),
        "`cursor` beyond the database (instant overflows in UTC, id past int64, NUL source)",
        lambda c, _: _beyond_database((c.query or {}).get("cursor")),
    ),
    Signature(
        # Such a PUT once started a process that could never run (its GET then answered 500);
        # now the date is refused (422). Kept: the edge must still go out.
        "calendar-end-due-date",
        frozenset({PUT_OVERDUE}),
        "`due_date` near 0001-01-01 or 9999-12-31 (a process's stage times overflow)",
        lambda c, _: calendar_end(body_field(c, "due_date")),
    ),
)
# Each known one has a strict xfail regression test in tests/integration/api/test_known_500s.py;
# a failure that matches no known signature is new, and fails the suite's fuzz test.
KNOWN_500S = {sig.name: sig.known for sig in SIGNATURES if sig.known}


def signatures_of(label: str, case: Case, seen: Seen) -> list[Signature]:
    return [s for s in SIGNATURES if label in s.operations and s.matches(case, seen)]


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict | list):
        for key, item in value.items() if isinstance(value, dict) else enumerate(value):
            yield from _leaves(item, (*path, key))
    elif path:
        yield path, value


def _times(key: object) -> tuple[str, ...]:
    """Edge values for a date (`*_date`) or an RFC 3339 instant (`*_at`), by the field's name."""
    if isinstance(key, str) and key.endswith(("_date", "_at")):
        return EDGE_DATES if key.endswith("_date") else EDGE_INSTANTS
    return ()


def _edges(key: object, value: object) -> tuple[object, ...]:
    """The edge values for a leaf: by its name (dates, instants), else by its type."""
    if _times(key):
        return _times(key)
    if isinstance(value, str):
        return EDGE_STRINGS
    return EDGE_INTS if isinstance(value, int) and not isinstance(value, bool) else ()


def put_at(body: Any, path: tuple[Any, ...], value: object) -> None:
    """Set the leaf at `path` (keys and indexes) of a JSON body to `value`."""
    container = body
    for key in path[:-1]:
        container = container[key]
    container[path[-1]] = value


def _bend(body: Any, draw: st.DrawFn) -> Any:
    """The body with its REALISTIC fields nearly always realistic and its times often at the
    calendar's ends (still valid values), then often one leaf made edgy (one at a time: a
    failure then points at its field, and the others stay valid)."""
    body = copy.deepcopy(body)

    def put(path: tuple[Any, ...], value: object) -> None:
        put_at(body, path, value)

    for path, _ in _leaves(body):
        if path[-1] in REALISTIC and draw(st.integers(0, 19)):  # 95%
            put(path, draw(st.sampled_from(REALISTIC[path[-1]])))
        elif _times(path[-1]) and draw(st.integers(0, 3)) == 0:  # 25%
            put(path, draw(st.sampled_from(_times(path[-1]))))
    edgy = [(path, edges) for path, v in _leaves(body) if (edges := _edges(path[-1], v))]
    if edgy and draw(st.integers(0, 9)) < 6:
        path, edges = draw(st.sampled_from(edgy))
        put(path, draw(st.sampled_from(edges)))
    return body


def _with_cursor(case: Case, raw: bytes) -> None:
    case.query = {**(case.query or {}), "cursor": base64.urlsafe_b64encode(raw).decode()}


def user_cases(
    operation: Operation, mode: schemathesis.GenerationMode, seen: Seen
) -> st.SearchStrategy[Case]:
    """Schemathesis's cases for the operation, bent towards what users send (bench/fuzz.py)."""
    base = operation.as_strategy(generation_mode=mode)

    @st.composite
    def bent(draw: st.DrawFn) -> Case:
        case = draw(base)
        if case.path_parameters:
            path = dict(case.path_parameters)
            # PUTs: half of them for new accounts, as most bills are; never for a seed (one
            # restarted on a calendar-end due date would break for good). Others: 3/4 existing.
            if "account_id" in path and operation.method == "put":
                if draw(st.booleans()):
                    path["account_id"] = seen.new_account()
            elif "account_id" in path and draw(st.integers(0, 3)):
                path["account_id"] = draw(st.sampled_from(seen.accounts()))
            if "dispute_id" in path and draw(st.booleans()):
                path["dispute_id"] = "D-1"
            case.path_parameters = path
        if isinstance(case.body, dict | list):
            case.body = _bend(case.body, draw)
        if operation.path.endswith("/timeline") and draw(st.integers(0, 2)) == 0:
            position = [draw(st.sampled_from(values)) for values in EDGE_POSITIONS]
            _with_cursor(case, json.dumps(position).encode())
        if operation.path == "/v1/accounts" and draw(st.integers(0, 2)) == 0:
            _with_cursor(case, draw(st.sampled_from(EDGE_TOKENS) | st.binary(min_size=1)))
        return case

    return bent()
