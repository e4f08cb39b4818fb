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
    # The target is reported beside the figure; a process started on this release meets no
    # patch id it has to ask (each would cost a billed TemporalChangeVersion upsert).
    assert result["target_ratio_to_floor"] == cost.TARGET_RATIO
    assert result["target_met"] == (result["actions_total"] <= 1.15 * result["floor_actions"])
    assert result["over_floor"]["of_which_patch_markers"] == 0
