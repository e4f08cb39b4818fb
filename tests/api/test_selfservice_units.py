"""Self-service's pure parts: evidence judged by content, the plan schedule and its limits,
the borrower's catalogue complete (zh-CN)."""

from __future__ import annotations

import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from api.selfservice.evidence import check_file, sniff
from api.selfservice.forms import Invalid, contact
from workflows.selfservice_requests import instalment_choices, schedule

ROOT = Path(__file__).resolve().parents[2]
PO = ROOT / "api" / "selfservice" / "locale" / "zh_CN" / "LC_MESSAGES" / "messages.po"
PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 20
PDF = b"%PDF-1.7\n"
JPEG = b"\xff\xd8\xff\xe0" + b"\0" * 20


@pytest.mark.parametrize(
    ("name", "declared", "content", "kind"),
    [
        ("a.pdf", "application/pdf", PDF, "application/pdf"),
        ("A.PNG", "image/png", PNG, "image/png"),
        ("b.jpeg", "image/jpeg", JPEG, "image/jpeg"),
        ("c.jpg", "application/octet-stream", JPEG, "image/jpeg"),
    ],
)
def test_files_of_the_taken_kinds_pass(name: str, declared: str, content: bytes, kind: str) -> None:
    assert check_file(name, declared, content, 1024).content_type == kind


@pytest.mark.parametrize(
    ("name", "declared", "content", "key"),
    [
        ("a.pdf", "application/pdf", PNG, "file.mislabelled"),
        ("a.pdf", "application/pdf", b"hello", "file.type"),
        ("a.png", "image/png", b"<svg/>", "file.type"),
        ("a.png", "application/pdf", PNG, "file.mislabelled"),
        ("a", "image/png", PNG, "file.mislabelled"),
        ("a.pdf", "application/pdf", b"", "file.empty"),
        ("a.pdf", "application/pdf", PDF + b"x" * 1024, "file.too_large"),
    ],
)
def test_other_files_are_refused(name: str, declared: str, content: bytes, key: str) -> None:
    with pytest.raises(Invalid) as err:
        check_file(name, declared, content, 1024)
    assert err.value.key == key
    assert sniff(b"GIF89a") is None


def test_a_schedule_adds_up_to_the_balance_monthly() -> None:
    first = date(2026, 12, 10)
    plan = schedule(1000, 3, first)
    assert [i.amount_minor for i in plan] == [334, 333, 333]
    assert [i.due_date for i in plan] == [first, first + timedelta(30), first + timedelta(60)]
    assert sum(i.amount_minor for i in schedule(7, 7, first)) == 7


def test_instalment_choices_keep_within_the_limits() -> None:
    today = date(2026, 12, 3)
    first = today + timedelta(days=7)
    assert instalment_choices(12, 365, 50_000, first, today) == list(range(2, 13))
    assert instalment_choices(12, 60, 50_000, first, today) == [2]  # day 37 ok, day 67 not
    assert instalment_choices(6, 365, 3, first, today) == [2, 3]  # a minor unit each at least


def test_contact_form_builds_one_inconvenient_range_and_refusals() -> None:
    action = contact(
        {"refuse_sms": "on", "days": "weekends", "start": "09:00", "end": "11:30"}, "f" * 32
    )
    assert action.audit_details == {
        "inconvenient_times": ["Sat,Sun 09:00-11:30"],
        "refused_channels": ["sms"],
    }
    for bad in (
        {"days": "someday", "start": "09:00", "end": "10:00"},
        {"days": "daily", "start": "25:00", "end": "10:00"},
        {"days": "daily", "start": "10:00", "end": "09:00"},
    ):
        with pytest.raises(Invalid):
            contact(bad, "f" * 32)


def test_the_borrower_catalogue_is_complete_and_compiles() -> None:
    with PO.open("rb") as source:
        catalog = read_po(source)
    missing = [m.id for m in catalog if m.id and (not m.string or m.fuzzy)]
    assert missing == []
    subprocess.run(["msgfmt", "--check", "-o", "/dev/null", str(PO)], check=True)
