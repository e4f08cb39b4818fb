"""Hypothesis strategies from the API's published JSON schemas (pydantic's
`model_json_schema()`), for the subset pydantic emits for request bodies: objects with `$ref`
and `$defs`, `anyOf`, enums, arrays, strings (length, pattern, `date`, `date-time`), bounded
integers, booleans, null.

hypothesis-jsonschema would do this, but its last release (0.23.1) fails on the pinned
Hypothesis (`'many' object has no attribute 'more'`), so this small reader does it here.

`overrides` maps a property name (at any depth) to the strategy drawn instead of the schema's:
realistic values (a valid phone number, a zone, a date within the accepted window) where the
schema only says "string", so that most drawn requests pass the model.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone
from typing import Any

from hypothesis import strategies as st

Strategy = st.SearchStrategy[Any]
OFFSETS = st.integers(-12 * 60, 14 * 60).map(lambda m: timezone(timedelta(minutes=m)))


def instants() -> st.SearchStrategy[str]:
    """RFC 3339 instants with an offset, anywhere in the calendar."""
    return st.datetimes(
        min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30), timezones=OFFSETS
    ).map(lambda at: at.isoformat())


def from_schema(
    schema: Mapping[str, Any],
    overrides: Mapping[str, Strategy] | None = None,
    root: Mapping[str, Any] | None = None,
) -> Strategy:
    root = root if root is not None else schema
    overrides = overrides or {}
    if "$ref" in schema:
        name = str(schema["$ref"]).removeprefix("#/$defs/")
        return from_schema(root["$defs"][name], overrides, root)
    if "anyOf" in schema:
        return st.one_of([from_schema(option, overrides, root) for option in schema["anyOf"]])
    if "enum" in schema:
        return st.sampled_from(list(schema["enum"]))
    kind = schema.get("type")
    if kind == "array":
        items = from_schema(schema["items"], overrides, root)
        return st.lists(items, min_size=schema.get("minItems", 0), max_size=schema.get("maxItems"))
    if kind == "object":
        return _object(schema, overrides, root)
    if kind == "string":
        return _string(schema)
    if kind == "integer":
        low = schema.get("minimum", schema.get("exclusiveMinimum", -(2**63) - 1) + 1)
        high = schema.get("maximum", schema.get("exclusiveMaximum", 2**63) - 1)
        return st.integers(low, high)
    if kind == "boolean":
        return st.booleans()
    if kind == "null":
        return st.none()
    raise NotImplementedError(f"schema not covered here: {dict(schema)}")


def _object(
    schema: Mapping[str, Any], overrides: Mapping[str, Strategy], root: Mapping[str, Any]
) -> Strategy:
    def one(name: str, sub: Mapping[str, Any]) -> Strategy:
        return overrides[name] if name in overrides else from_schema(sub, overrides, root)

    required = set(schema.get("required", ()))
    properties: dict[str, Any] = schema["properties"]
    return st.fixed_dictionaries(
        {name: one(name, sub) for name, sub in properties.items() if name in required},
        optional={name: one(name, sub) for name, sub in properties.items() if name not in required},
    )


def _string(schema: Mapping[str, Any]) -> Strategy:
    if schema.get("format") == "date":
        return st.dates().map(lambda day: day.isoformat())
    if schema.get("format") == "date-time":
        return instants()
    low, high = schema.get("minLength", 0), schema.get("maxLength", 1000)
    if "pattern" in schema:
        return st.from_regex(schema["pattern"], fullmatch=True).filter(
            lambda text: low <= len(text) <= high
        )
    return st.text(min_size=low, max_size=high)


def window_instants(first: datetime, last: datetime) -> st.SearchStrategy[str]:
    """Instants between two aware datetimes, each written with a random offset."""
    span = int((last - first).total_seconds())
    return st.tuples(st.integers(0, span), OFFSETS).map(
        lambda drawn: (first + timedelta(seconds=drawn[0])).astimezone(drawn[1]).isoformat()
    )
