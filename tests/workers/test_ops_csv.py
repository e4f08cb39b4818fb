"""The bulk-start CSV: whole-file problems refused up front, row problems named by column."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.ops.bulk_csv import CsvFormatError, Rejected, ValidRow, read_rows, validate

HEADER = "account_id,name,phone,time_zone,product,amount_minor,currency,due_date"
GOOD = "A-1,Li Na,+8613912345678,Asia/Shanghai,credit_line,50000,CNY,2026-11-01"


def write(tmp_path: Path, text: str, name: str = "a.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def checked(tmp_path: Path, text: str) -> list[ValidRow | Rejected]:
    return [validate(row) for row in read_rows(write(tmp_path, text))]


def test_a_good_row_is_the_apis_request(tmp_path: Path) -> None:
    (row,) = checked(tmp_path, f"\ufeff{HEADER},locale,vulnerable,bill_id\n{GOOD},en,yes,B-7\n")
    assert isinstance(row, ValidRow)
    assert row.account_id == "A-1"
    report = row.report
    assert (report.customer.phone, report.customer.locale) == ("+8613912345678", "en")
    assert (report.amount_due.amount_minor, report.amount_due.currency) == (50000, "CNY")
    assert report.vulnerable is True and report.effective_bill_id() == "B-7"


def test_columns_in_any_order_and_empty_optionals(tmp_path: Path) -> None:
    header = "due_date,currency,amount_minor,product,time_zone,phone,name,account_id,locale"
    line = "2026-11-01,CNY,100,loan,Asia/Shanghai,+8613912345678,Li Na,A-2,"
    (row,) = checked(tmp_path, f"{header}\n{line}\n")
    assert isinstance(row, ValidRow) and row.report.customer.locale == "zh-CN"


def test_row_problems_name_the_column_and_line_never_the_value(tmp_path: Path) -> None:
    rows = checked(
        tmp_path,
        f"{HEADER},vulnerable\n"
        "A-1,,+86139,Mars/Base,credit_line,12.5,XXX,2026/11/01,maybe\n"
        "\n"
        '"bad id","Li\nNa",+8613912345678,Asia/Shanghai,credit_line,1,CNY,2026-11-01,\n'
        "A-4,short\n",
    )
    first, second, third = rows
    assert isinstance(first, Rejected) and first.line == 2 and first.account_id == "A-1"
    assert first.reason.split("; ") == [
        "vulnerable: 'maybe' is not true/false, yes/no or 1/0",
        "name: required",
        "phone: not a valid phone number for its country code",
        "time_zone: 'Mars/Base' is not an IANA time zone (e.g. Asia/Shanghai)",
        "amount_minor: Input should be a valid integer",
        "currency: 'XXX' is not an ISO 4217 currency code (e.g. CNY, USD)",
        "due_date: Input should be a valid date or datetime, invalid date separator, expected `-`",
    ]
    assert "+86139" not in first.reason
    # A quoted newline: the row starts on line 4 and the next one on line 6.
    assert isinstance(second, Rejected) and (second.line, second.account_id) == (4, None)
    assert second.reason.startswith("account_id: not an account id")
    assert second.describe().startswith("line 4 (no valid account id): account_id:")
    assert isinstance(third, Rejected) and third.line == 6
    assert third.reason == "2 fields, but the header has 9"
    assert "Li" not in " ".join(r.reason for r in rows if isinstance(r, Rejected))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "is empty: it needs a header row (account_id, name, phone"),
        ("account_id,name\n", "the header lacks the column(s) phone, time_zone, product"),
        (f"{HEADER},colour\n", "unknown column(s) colour; the columns are account_id"),
        (f"{HEADER},Name\n", "the header names name twice"),
    ],
)
def test_header_problems_stop_before_any_row(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(CsvFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        list(read_rows(write(tmp_path, text)))


def test_not_utf8_or_broken_csv_names_the_line(tmp_path: Path) -> None:
    latin = tmp_path / "latin.csv"
    latin.write_bytes(f"{HEADER}\n{GOOD}\n".encode() + "A-3,Jos\xe9".encode("latin-1") + b"\n")
    with pytest.raises(CsvFormatError, match=r"latin.csv: not UTF-8 text \(invalid .*\) at line"):
        list(read_rows(latin))
    broken = write(tmp_path, f'{HEADER}\n{GOOD}\nA-3,"unterminated\n', "broken.csv")
    with pytest.raises(CsvFormatError, match=r"broken\.csv: not valid CSV at line 3"):
        list(read_rows(broken))
    with pytest.raises(CsvFormatError, match=r"cannot read .*missing\.csv"):
        list(read_rows(tmp_path / "missing.csv"))


def test_a_time_zone_no_file_system_can_hold_is_a_rejected_row(tmp_path: Path) -> None:
    zone = "Asia/" + "x" * 300
    (row,) = checked(tmp_path, f"{HEADER}\n{GOOD.replace('Asia/Shanghai', zone)}\n")
    assert isinstance(row, Rejected) and row.reason.startswith("time_zone: ")


@pytest.mark.parametrize(
    ("column", "value", "reason"),
    [
        ("amount_minor", "100000.0", "amount_minor: Input should be a valid integer"),
        ("amount_minor", "1e5", "amount_minor: Input should be a valid integer"),
        ("amount_minor", "\u0661\u0662", "amount_minor: Input should be a valid integer"),
        ("amount_minor", str(2**53), "amount_minor: Input should be less than or equal to"),
        ("name", "Li\x00Na", "name: must not contain control characters"),
        ("time_zone", "localtime", "time_zone: 'localtime' is not an IANA time zone"),
        ("time_zone", "right/UTC", "time_zone: 'right/UTC' is not an IANA time zone"),
        ("due_date", "9999-12-31", "due_date: must be between"),
    ],
)
def test_a_row_outside_the_apis_bounds_is_rejected(
    tmp_path: Path, column: str, value: str, reason: str
) -> None:
    """The CLI takes what the API takes: strict whole amounts, clean text, real zones, dates
    within the window (overdue/inputs.py)."""
    fields = dict(zip(HEADER.split(","), GOOD.split(","), strict=True))
    fields[column] = value
    (row,) = checked(tmp_path, f"{HEADER}\n{','.join(fields.values())}\n")
    assert isinstance(row, Rejected) and row.reason.startswith(reason), row


def test_consents_are_the_apis_consents(tmp_path: Path) -> None:
    consents = "sms:contract:2026-01-05T09:00:00+08:00; call:app_settings:2026-02-01T10:00:00Z"
    (row,) = checked(tmp_path, f'{HEADER},consents\n{GOOD},"{consents}"\n')
    assert isinstance(row, ValidRow)
    assert [
        (c.channel.value, c.source.value, c.given_at.isoformat()) for c in row.report.consents
    ] == [
        ("sms", "contract", "2026-01-05T09:00:00+08:00"),
        ("call", "app_settings", "2026-02-01T10:00:00+00:00"),
    ]


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("sms:contract", "consents: entry 1 is not channel:source:given_at"),
        ("fax:contract:2026-01-05T09:00:00Z", "consents[0].channel: Input should be"),
        ("sms:contract:2026-01-05T09:00:00", "consents[0].given_at: must carry a UTC offset"),
        (
            "sms:contract:2026-01-05T09:00:00Z;sms:backend:2026-01-06T09:00:00Z",
            "consents: [1].channel sms is listed twice",
        ),
    ],
)
def test_a_bad_consent_is_a_rejected_row_naming_the_column(
    tmp_path: Path, cell: str, reason: str
) -> None:
    (row,) = checked(tmp_path, f'{HEADER},consents\n{GOOD},"{cell}"\n')
    assert isinstance(row, Rejected)
    assert reason in row.reason, row.reason
