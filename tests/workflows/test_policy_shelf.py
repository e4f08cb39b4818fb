"""Policies by digest (workflows/policy_shelf.py): the digest names one content, the serialized
input and record name their policy by it, and decoding takes the one shared object."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from pydantic import ValidationError
from temporalio.api.common.v1 import Payload
from temporalio.contrib.pydantic import pydantic_data_converter

import workflows.policy_shelf as shelf
from overdue.policy_files import load_policy
from tests.workflows.records import make_record
from workflows.acting import new_record
from workflows.policy import Policy
from workflows.policy_change import PolicyChange, apply_policy_change
from workflows.types import AccountRecord, OverdueAccountInput

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = load_policy(ROOT / "policies" / "default.yaml")
CONVERT = pydantic_data_converter.payload_converter


@pytest.fixture(autouse=True)
def cold_shelf() -> Iterator[None]:
    shelf.clear()
    yield
    shelf.clear()


def _input(policy: Policy, **fields: object) -> OverdueAccountInput:
    return OverdueAccountInput(
        account_id="acct-shelf-1",
        product="credit_line",
        amount_due_minor=150_000,
        currency="CNY",
        due_date=date(2026, 12, 1),
        time_zone="Asia/Shanghai",
        jurisdiction="CN",
        policy=policy,
        release=3,
        **fields,
    )


def _wire(value: object) -> Payload:
    [payload] = CONVERT.to_payloads([value])
    return payload


def _read(payload: Payload, kind: type) -> object:
    [value] = CONVERT.from_payloads([payload], [kind])
    return value


def test_the_digest_names_the_content_not_the_object() -> None:
    again = Policy.model_validate(DEFAULT.model_dump(mode="json"))
    assert shelf.shelve(DEFAULT).digest == shelf.shelve(again).digest
    newer = DEFAULT.model_copy(update={"version": DEFAULT.version + 1})
    assert shelf.shelve(newer).digest != shelf.shelve(DEFAULT).digest
    ref = shelf.shelve(DEFAULT)
    assert (ref.id, ref.version) == (DEFAULT.id, DEFAULT.version)


def test_one_object_per_version_on_the_shelf() -> None:
    ref = shelf.shelve(DEFAULT)
    copy = Policy.model_validate(DEFAULT.model_dump(mode="json"))
    shelf.shelve(copy)
    assert shelf.take(ref.digest) is DEFAULT


def test_an_input_by_digest_travels_small_and_reads_back_the_shared_policy() -> None:
    ref = shelf.shelve(DEFAULT)
    wire = _wire(_input(DEFAULT, policy_ref=ref))
    data = wire.data
    assert len(data) < 2_000, len(data)
    assert b'"policy"' not in data and b"templates" not in data and b"stages" not in data
    first = _read(wire, OverdueAccountInput)
    second = _read(wire, OverdueAccountInput)
    assert isinstance(first, OverdueAccountInput) and isinstance(second, OverdueAccountInput)
    assert first.policy is DEFAULT and second.policy is DEFAULT
    assert first == _input(DEFAULT, policy_ref=ref)


def test_an_input_without_a_digest_travels_whole_as_before() -> None:
    wire = _wire(_input(DEFAULT))
    assert b'"templates"' in wire.data and b'"policy_ref":null' in wire.data
    back = _read(wire, OverdueAccountInput)
    assert isinstance(back, OverdueAccountInput) and back.policy == DEFAULT


def test_the_carried_record_names_its_policy_by_digest_too() -> None:
    ref = shelf.shelve(DEFAULT)
    start = _input(DEFAULT, policy_ref=ref)
    record = new_record(start, "episode-1", datetime(2026, 12, 1, 2, tzinfo=UTC))
    assert record.policy_ref == ref
    wire = _wire(start.model_copy(update={"carried": record}))
    assert len(wire.data) < 2_500, len(wire.data)
    assert b"templates" not in wire.data
    back = _read(wire, OverdueAccountInput)
    assert isinstance(back, OverdueAccountInput) and back.carried is not None
    assert back.carried.policy is DEFAULT and back.carried == record


def test_a_digest_not_on_the_shelf_fails_the_decoding_and_is_asked_for() -> None:
    ref = shelf.shelve(DEFAULT)
    wire = _wire(_input(DEFAULT, policy_ref=ref))
    shelf.clear()
    with pytest.raises(ValidationError, match="not on this process's shelf"):
        _read(wire, OverdueAccountInput)
    assert shelf.wanted() == {ref.digest}
    shelf.shelve_body(ref.digest, DEFAULT.model_dump(mode="json"))
    assert shelf.wanted() == frozenset()
    assert isinstance(_read(wire, OverdueAccountInput), OverdueAccountInput)


def test_a_stored_body_must_match_its_digest() -> None:
    ref = shelf.shelve(DEFAULT)
    shelf.clear()
    other = DEFAULT.model_copy(update={"description": "changed"}).model_dump(mode="json")
    with pytest.raises(ValueError, match="does not match its body"):
        shelf.shelve_body(ref.digest, other)


def test_a_policy_move_carries_the_new_version_by_digest_only_when_it_was_stored() -> None:
    newer = DEFAULT.model_copy(update={"version": DEFAULT.version + 1})
    record = make_record(DEFAULT)
    record.policy_ref = shelf.shelve(DEFAULT)
    now = datetime(2026, 12, 2, 4, tzinfo=UTC)
    apply_policy_change(record, PolicyChange(policy=newer, actor="ops:lee", change_id="m"), now)
    assert record.policy_ref is None  # carried whole: no stored version was named
    assert b'"templates"' in _wire(record).data
    stored = shelf.shelve(newer)
    change = PolicyChange(policy=newer, policy_ref=stored, actor="ops:lee", change_id="m2")
    apply_policy_change(record, change, now)
    back = _read(_wire(record), AccountRecord)
    assert isinstance(back, AccountRecord) and back.policy is newer


def test_shelved_policies_come_by_id_and_newest_version_first() -> None:
    newer = DEFAULT.model_copy(update={"version": DEFAULT.version + 1})
    other = DEFAULT.model_copy(update={"id": "aaa-first-by-id"})
    for policy in (DEFAULT, newer, other):
        shelf.shelve(policy)
    assert shelf.shelved_policies() == [other, newer, DEFAULT]
