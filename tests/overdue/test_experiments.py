"""Experiment files, the arm hash, segment weights, guardrails and the arms' policies."""

from __future__ import annotations

import hashlib
import shutil
from collections import Counter
from pathlib import Path

import pytest
import yaml

from overdue.experiment_analysis import Outcome
from overdue.experiment_guardrails import breaches
from overdue.experiment_policies import ArmPolicyError, arm_policies
from overdue.experiments import (
    Experiment,
    ExperimentFileError,
    SegmentFacts,
    arm_for,
    bucket,
    load_experiment,
    pick,
)

ROOT = Path(__file__).resolve().parents[2]
FACTS = SegmentFacts(product="credit_line", risk_segment=None, jurisdiction="CN")


def _experiment(**changes: object) -> Experiment:
    data: dict[str, object] = {
        "id": "sms-first",
        "champion": "champion",
        "arms": [
            {"name": "champion", "policy": {"id": "default", "version": 4}, "weight": 3},
            {"name": "sms_first", "policy": {"id": "demo", "version": 1}, "weight": 1},
        ],
    }
    data.update(changes)
    return Experiment.model_validate(data)


def test_the_hash_is_fixed_for_a_pair() -> None:
    # A stored value: a change to the hash would move running experiments' accounts.
    digest = hashlib.sha256(b"sms-first\x00A-1001").digest()
    assert bucket("sms-first", "A-1001") == int.from_bytes(digest[:8], "big") / 2**64
    assert bucket("sms-first", "A-1001") == pytest.approx(0.2394531500550356)
    assert bucket("sms-first", "A-1001") == bucket("sms-first", "A-1001")
    assert bucket("other", "A-1001") != bucket("sms-first", "A-1001")


def test_arms_get_their_weights_share() -> None:
    experiment = _experiment()
    counts = Counter(arm_for(experiment, f"acct-{i}", FACTS) for i in range(20_000))
    assert counts["sms_first"] / 20_000 == pytest.approx(0.25, abs=0.015)


def test_pick_places_points_on_cumulative_weights() -> None:
    weights = {"a": 1.0, "b": 0.0, "c": 3.0}
    assert pick(weights, 0.0) == "a"
    assert pick(weights, 0.2499) == "a"
    assert pick(weights, 0.25) == "c"
    assert pick(weights, 0.999999) == "c"


def test_a_segment_overrides_the_weights_for_its_accounts() -> None:
    experiment = _experiment(
        segments=[
            {
                "name": "high_risk_cn",
                "when": {"risk_segments": ["high"], "jurisdictions": ["CN"]},
                "weights": {"champion": 1},
            }
        ]
    )
    high = SegmentFacts(product="credit_line", risk_segment="high", jurisdiction="CN")
    assert {arm_for(experiment, f"acct-{i}", high) for i in range(500)} == {"champion"}
    assert "sms_first" in {arm_for(experiment, f"acct-{i}", FACTS) for i in range(500)}


@pytest.mark.parametrize(
    ("changes", "path", "reason"),
    [
        ({"champion": "nobody"}, "", "champion 'nobody' is not one of the arms"),
        ({"alpha": 0.7}, "alpha", "less than 0.5"),
        (
            {"segments": [{"name": "s", "when": {}, "weights": {"ghost": 1}}]},
            "",
            "segment 's' names unknown arms ['ghost']",
        ),
        ({"guardrails": {"min_accounts": 0}}, "guardrails.min_accounts", "greater than or equal"),
    ],
)
def test_a_bad_file_names_path_and_reason(
    tmp_path: Path, changes: dict[str, object], path: str, reason: str
) -> None:
    data = _experiment().model_dump(mode="json")
    data.update(changes)
    file = tmp_path / "exp.yaml"
    file.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ExperimentFileError) as caught:
        load_experiment(file)
    assert any(p == path and reason in r for p, r in caught.value.problems), caught.value.problems


def _version(name: str) -> int:
    version = yaml.safe_load((ROOT / "policies" / name).read_text(encoding="utf-8"))["version"]
    assert isinstance(version, int)
    return version


def test_arm_policies_are_found_by_id_and_version(tmp_path: Path) -> None:
    default, demo = _version("default.yaml"), _version("demo.yaml")
    experiment = _experiment(
        arms=[
            {"name": "champion", "policy": {"id": "default", "version": default}, "weight": 1},
            {"name": "sms_first", "policy": {"id": "demo", "version": demo}, "weight": 1},
        ]
    )
    shutil.copy(ROOT / "policies" / "default.yaml", tmp_path)
    with pytest.raises(ArmPolicyError) as caught:
        arm_policies(experiment, tmp_path)
    assert caught.value.problems == [
        (
            "arms.1.policy",
            f"policy 'demo' version {demo} not found in {tmp_path} (no file has this id)",
        )
    ]
    shutil.copy(ROOT / "policies" / "demo.yaml", tmp_path)
    policies = arm_policies(experiment, tmp_path)
    assert (policies["sms_first"].id, policies["sms_first"].version) == ("demo", demo)
    assert (policies["champion"].id, policies["champion"].version) == ("default", default)


def _rows(
    arm: str, n: int, *, complaints: int = 0, vulnerable: int = 0, cured: int = 0
) -> list[Outcome]:
    return [
        Outcome(
            arm=arm,
            vulnerable=i < vulnerable,
            cured=i < cured,
            days_to_cure=1.0 if i < cured else None,
            recovered_minor=0,
            currency="CNY",
            contacts=1,
            complained=i < complaints,
            opted_out=False,
            disputed=False,
        )
        for i in range(n)
    ]


def test_a_guardrail_waits_for_enough_accounts_then_stops_the_arm() -> None:
    experiment = _experiment(guardrails={"min_accounts": 100, "complaint_rate_increase": 0.01})
    few = _rows("champion", 99) + _rows("sms_first", 99, complaints=20)
    assert breaches(experiment, few) == []
    rows = _rows("champion", 100, complaints=1) + _rows("sms_first", 100, complaints=3)
    (breach,) = breaches(experiment, rows)
    assert (breach.arm, breach.metric) == ("sms_first", "complaint_rate")
    assert (breach.arm_value, breach.champion_value) == (0.03, 0.01)
    within = _rows("champion", 100, complaints=1) + _rows("sms_first", 100, complaints=2)
    assert breaches(experiment, within) == []


def test_vulnerable_customers_worse_cured_stop_the_arm() -> None:
    experiment = _experiment(guardrails={"min_accounts": 10, "vulnerable_cure_rate_drop": 0.05})
    # Overall the challenger cures as many; its vulnerable customers far fewer.
    champion = _rows("champion", 100, vulnerable=20, cured=50)
    challenger = _rows("sms_first", 100, vulnerable=20, cured=50)
    challenger = [
        Outcome(**{**o.__dict__, "cured": o.cured and not o.vulnerable}) for o in challenger
    ]
    (breach,) = breaches(experiment, champion + challenger)
    assert breach.metric == "vulnerable_cure_rate"
    assert "lower by more than 5.00%" in breach.describe()
