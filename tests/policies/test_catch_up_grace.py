"""The policy's `catch_up_grace`: written like stage offsets, 0 or more; shipped values."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from overdue.policy_files import load_policy
from tests.overdue.test_policy_files import problems
from tests.overdue.test_policy_files import write as write_policy
from workflows.policy import Policy

ROOT = Path(__file__).resolve().parents[2]

BASE = """
id: test
version: 1
stages:
  - {id: d1, offset: 1d, channel: sms, template: t}
  - {id: d3, offset: 3d, channel: call_task, queue: general}
templates:
  t: {en: "Hi {name}. Reply STOP to opt out."}
"""


def with_grace(grace: str | None) -> str:
    return BASE + (f"catch_up_grace: {grace}\n" if grace is not None else "")


def write(tmp_path: Path, grace: str | None) -> Path:
    return write_policy(tmp_path, with_grace(grace))


@pytest.mark.parametrize(
    ("name", "grace"),
    [
        ("policies/default.yaml", timedelta(hours=6)),
        ("policies/demo.yaml", timedelta(seconds=20)),
        ("bench/policies/chaos.yaml", timedelta(seconds=60)),
        ("bench/policies/latency.yaml", timedelta(seconds=60)),
        ("tests/policies/fast.yaml", timedelta(seconds=30)),
    ],
)
def test_shipped_policies_set_their_grace(name: str, grace: timedelta) -> None:
    assert load_policy(ROOT / name).catch_up_grace == grace


def test_no_grace_means_zero(tmp_path: Path) -> None:
    assert load_policy(write(tmp_path, None)).catch_up_grace == timedelta(0)


@pytest.mark.parametrize(
    ("text", "grace"),
    [
        ("0s", timedelta(0)),
        ("6h", timedelta(hours=6)),
        ("60s", timedelta(seconds=60)),
        ("1d2h30m", timedelta(days=1, hours=2, minutes=30)),
        ("PT6H", timedelta(hours=6)),
        ('"+90s"', timedelta(seconds=90)),
    ],
)
def test_grace_is_written_like_an_offset(tmp_path: Path, text: str, grace: timedelta) -> None:
    assert load_policy(write(tmp_path, text)).catch_up_grace == grace


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("-1h", "must be 0 or more, like '6h', '60s' or '0s'; got -1h"),
        ("-1d2h30m", "must be 0 or more, like '6h', '60s' or '0s'; got -1d2h30m"),
        ("-PT90S", "must be 0 or more, like '6h', '60s' or '0s'; got -1m30s"),
        ("-PT0.5S", "must be 0 or more, like '6h', '60s' or '0s'; got -0.5s"),
        ("60", "write a duration with a unit, like '1d', '-3d', '12h' or '90s'"),
        ("soon", "write a duration with a unit, like '6h', '60s' or '0s'; got 'soon'"),
        ("6 hours", "write a duration with a unit, like '6h', '60s' or '0s'; got '6 hours'"),
        ("''", "write a duration with a unit, like '6h', '60s' or '0s'; got ''"),
        ("null", "write a duration with a unit, like '6h', '60s' or '0s'; got None"),
        ("true", "write a duration with a unit, like '1d', '-3d', '12h' or '90s'"),
    ],
)
def test_a_negative_or_malformed_grace_is_refused_precisely(
    tmp_path: Path, text: str, reason: str
) -> None:
    assert problems(tmp_path, with_grace(text)) == [("catch_up_grace", reason)]


def test_grace_survives_the_json_round_trip_of_the_data_converter(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, "6h"))
    assert Policy.model_validate_json(policy.model_dump_json()) == policy


def test_a_snapshot_without_the_field_keeps_the_old_behaviour(tmp_path: Path) -> None:
    """Running workflows carry policy snapshots from before the field: they read as grace 0."""
    dumped = load_policy(write(tmp_path, "6h")).model_dump(mode="json")
    del dumped["catch_up_grace"]
    assert Policy.model_validate(dumped).catch_up_grace == timedelta(0)
