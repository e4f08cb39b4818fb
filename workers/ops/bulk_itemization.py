"""The optional itemization columns of `overdue bulk-start`'s CSV (workers/ops/bulk_csv.py).

| column | what |
|---|---|
| principal_minor, interest_minor, payments_minor | whole minor units |
| fees | `kind:amount_minor` entries separated by `;`, e.g. `late_fee:5000; annual_fee:1200` |

Given at all (any of them), they become the report's `itemization`, which the API's schema
checks (non-negative, adding up to amount_minor); principal and interest then default to 0.
"""

from __future__ import annotations

import re
from typing import Any

COLUMNS = ("principal_minor", "interest_minor", "fees", "payments_minor")
_DIGITS = re.compile(r"-?[0-9]{1,30}")


def itemization(values: dict[str, str]) -> tuple[dict[str, Any] | None, str | None]:
    """The row's itemization as the API's JSON, or None when no column of it is filled; and
    a problem with a cell's form, if any (the schema checks the rest)."""
    given = {c: values[c] for c in COLUMNS if values.get(c, "") != ""}
    if not given:
        return None, None
    body: dict[str, Any] = {"principal_minor": 0, "interest_minor": 0}
    for column, value in given.items():
        if column == "fees":
            fees, problem = _fees(value)
            if problem:
                return None, problem
            body["fees"] = fees
        elif _DIGITS.fullmatch(value):
            body[column] = int(value)
        else:
            return None, f"{column}: {value!r} is not a whole number of minor units"
    return body, None


def _fees(value: str) -> tuple[list[dict[str, Any]], str | None]:
    fees: list[dict[str, Any]] = []
    for number, entry in enumerate((e.strip() for e in value.split(";") if e.strip()), 1):
        kind, _, amount = (p.strip() for p in entry.partition(":"))
        if not kind or not _DIGITS.fullmatch(amount):
            return [], f"fees: entry {number} is not kind:amount_minor"
        fees.append({"kind": kind, "amount_minor": int(amount)})
    return fees, None
