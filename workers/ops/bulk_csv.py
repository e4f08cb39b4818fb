"""The accounts CSV of `overdue bulk-start`: one row per overdue bill, as `PUT .../overdue`.

UTF-8 (a BOM is fine), a header row naming the columns in any order:

| column | required | becomes |
|---|---|---|
| account_id | yes | the path's account id |
| name, phone, time_zone | yes | customer.name / .phone / .time_zone |
| locale | no (zh-CN) | customer.locale |
| product | yes | product |
| amount_minor, currency | yes | amount_due.amount_minor / .currency |
| due_date | yes | due_date (YYYY-MM-DD) |
| bill_id, risk_segment | no | bill_id, risk_segment |
| vulnerable | no (false) | vulnerable: true/false, yes/no, 1/0 |
| principal_minor, interest_minor, | no | the amount's itemization: minor units, fees as |
| payments_minor, fees | | `kind:amount;...` (workers/ops/bulk_itemization.py) |
| consents | no (none) | consents: `channel:source:given_at` entries separated by `;` |

e.g. `sms:contract:2026-01-05T09:00:00+08:00; call:app_settings:2026-02-01T10:00:00Z`.

Each row is validated by the API's own schema (`OverdueReport`), so a row is accepted exactly
when the API would accept it. Reasons name the column and never quote a name or phone number.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from api.schemas import OverdueReport
from workers.ops.bulk_itemization import COLUMNS as ITEMIZATION
from workers.ops.bulk_itemization import itemization
from workflows.types import ACCOUNT_ID_PATTERN

REQUIRED = (
    "account_id",
    "name",
    "phone",
    "time_zone",
    "product",
    "amount_minor",
    "currency",
    "due_date",
)
OPTIONAL = ("locale", "bill_id", "risk_segment", "vulnerable", "consents", *ITEMIZATION)
# Where each column goes in OverdueReport, and back (for error messages).
_FIELD = {
    "name": ("customer", "name"),
    "phone": ("customer", "phone"),
    "time_zone": ("customer", "time_zone"),
    "locale": ("customer", "locale"),
    "amount_minor": ("amount_due", "amount_minor"),
    "currency": ("amount_due", "currency"),
}
_COLUMN: dict[tuple[str, ...], str] = {path: column for column, path in _FIELD.items()}
_DIGITS = re.compile(r"-?[0-9]{1,30}")  # a sign too, so "-1" is told "greater than 0"
_TRUE, _FALSE = {"true", "yes", "1", "y"}, {"false", "no", "0", "n", ""}


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (header, encoding); the message says why."""


@dataclass(frozen=True)
class RawRow:
    index: int  # 0-based among data rows: what the progress file counts
    line: int  # the row's first line in the file, 1-based (the header is line 1)
    values: dict[str, str]
    problem: str | None = None  # a shape problem found while reading (field count)


@dataclass(frozen=True)
class ValidRow:
    account_id: str
    report: OverdueReport


@dataclass(frozen=True)
class Rejected:
    line: int
    account_id: str | None
    reason: str

    def describe(self) -> str:
        who = f"account {self.account_id}" if self.account_id else "no valid account id"
        return f"line {self.line} ({who}): {self.reason}"


def read_rows(path: Path) -> Iterator[RawRow]:
    """The data rows, with their line numbers; blank lines are skipped."""
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except OSError as err:
        raise CsvFormatError(f"cannot read {path}: {err.strerror}") from None
    with handle:
        reader = csv.reader(handle, strict=True)
        line = 1
        try:
            columns = _check_header(next(reader, None), path)
            index = 0
            line = reader.line_num + 1
            for fields in reader:
                if fields:
                    yield _raw(index, line, columns, fields)
                    index += 1
                line = reader.line_num + 1
        except UnicodeDecodeError as err:
            raise CsvFormatError(f"{path}: not UTF-8 text ({err.reason}) at line {line}") from None
        except csv.Error as err:
            raise CsvFormatError(f"{path}: not valid CSV at line {line} ({err})") from None


def _check_header(header: list[str] | None, path: Path) -> list[str]:
    if not header:
        raise CsvFormatError(f"{path} is empty: it needs a header row ({', '.join(REQUIRED)})")
    columns = [c.strip().lower() for c in header]
    duplicates = sorted({c for c in columns if columns.count(c) > 1})
    if duplicates:
        raise CsvFormatError(f"{path}: the header names {', '.join(duplicates)} twice")
    unknown = [c for c in columns if c not in REQUIRED and c not in OPTIONAL]
    if unknown:
        raise CsvFormatError(
            f"{path}: unknown column(s) {', '.join(unknown)}; the columns are "
            f"{', '.join(REQUIRED)} and optionally {', '.join(OPTIONAL)}"
        )
    missing = [c for c in REQUIRED if c not in columns]
    if missing:
        raise CsvFormatError(f"{path}: the header lacks the column(s) {', '.join(missing)}")
    return columns


def _raw(index: int, line: int, columns: list[str], fields: list[str]) -> RawRow:
    values = dict(zip(columns, (f.strip() for f in fields), strict=False))
    if len(fields) != len(columns):
        problem = f"{len(fields)} fields, but the header has {len(columns)}"
        return RawRow(index, line, values, problem)
    return RawRow(index, line, values)


def validate(row: RawRow) -> ValidRow | Rejected:
    """The row as the API's request, or why the API would refuse it."""
    account_id = row.values.get("account_id", "")
    known_id = account_id if re.fullmatch(ACCOUNT_ID_PATTERN, account_id) else None
    if row.problem:
        return Rejected(row.line, known_id, row.problem)
    reasons: list[str] = []
    if known_id is None:
        reasons.append(
            "account_id: required"
            if not account_id
            else "account_id: not an account id "
            "(1 to 64 of A-Z a-z 0-9 _ . : -, starting with a letter or digit)"
        )
    body, vulnerable_reason = _body(row.values)
    if vulnerable_reason:
        reasons.append(vulnerable_reason)
    try:
        report = OverdueReport.model_validate(body)
    except ValidationError as err:
        reasons += [_reason(error) for error in err.errors(include_input=False, include_url=False)]
    else:
        if not reasons:
            assert known_id is not None
            return ValidRow(known_id, report)
    return Rejected(row.line, known_id, "; ".join(reasons))


def _body(values: dict[str, str]) -> tuple[dict[str, Any], str | None]:
    body: dict[str, Any] = {"customer": {}, "amount_due": {}}
    problem = None
    body["itemization"], problem = itemization(values)  # the optional itemization columns
    for column, value in values.items():
        if column in ("account_id", *ITEMIZATION) or value == "":
            continue  # empty: not given (the schema then says "required" where it is)
        if column == "consents":
            body["consents"], consent_problem = _consents(value)
            problem = problem or consent_problem
        elif column == "vulnerable":
            if value.lower() not in _TRUE | _FALSE:
                problem = f"vulnerable: {value!r} is not true/false, yes/no or 1/0"
                continue
            body["vulnerable"] = value.lower() in _TRUE
        elif column in _FIELD:
            group, name = _FIELD[column]
            # A CSV cell is text: whole ASCII digits (signed) are the integer the schema (strict,
            # like the API's JSON) takes; anything else ("1e5", "100.0") stays text, refused.
            digits = column == "amount_minor" and _DIGITS.fullmatch(value)
            body[group][name] = int(value) if digits else value
        else:
            body[column] = value
    return body, problem


def _consents(value: str) -> tuple[list[dict[str, str]], str | None]:
    """`channel:source:given_at; ...` as the API's `consents` (the instant keeps its colons)."""
    entries: list[dict[str, str]] = []
    for number, entry in enumerate((e.strip() for e in value.split(";") if e.strip()), 1):
        parts = [p.strip() for p in entry.split(":", 2)]
        if len(parts) != 3 or not all(parts):
            return [], f"consents: entry {number} is not channel:source:given_at"
        entries.append({"channel": parts[0], "source": parts[1], "given_at": parts[2]})
    return entries, None


def _reason(error: Any) -> str:
    location = tuple(str(part) for part in error["loc"])
    column = _COLUMN.get(location[:2]) or (location[-1] if location else "row")
    if location and location[0] == "consents":
        column = "consents" + "".join(f"[{p}]" if p.isdigit() else f".{p}" for p in location[1:])
    message = "required" if error["type"] == "missing" else str(error["msg"])
    return f"{column}: {message.removeprefix('Value error, ')}"
