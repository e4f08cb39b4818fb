"""Keeps bench/ from rotting: the cost benchmark on one short scenario (a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import cost


def test_cost_benchmark_counts_a_short_lifecycle(tmp_path: Path) -> None:
    out = tmp_path / "cost.json"
    assert cost.main(["--scenario", "pays_on_day_9", "--out", str(out)]) == 0

    (result,) = json.loads(out.read_text())["scenarios"]
    assert result["outcome"] == "resolved"
    assert result["actions"]["start"] == 1 and result["actions"]["signal"] == 1
    assert result["actions_total"] == sum(result["actions"].values())
    assert result["contacts"] >= 1 and result["history_events"] > result["actions_total"]
    assert result["floor_actions"] <= result["actions_total"] < result["naive_actions"]
    assert 1 <= result["ratio_to_floor"] and 0 < result["ratio_to_naive"] < 1
