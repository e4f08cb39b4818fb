"""Keeps bench.sandbox_cost from rotting: a few replays through each runner, the figures
written. Structure only: CPU figures depend on the machine, not on this test."""

from __future__ import annotations

import json
from pathlib import Path

from bench import sandbox_cost


def test_sandbox_cost_writes_both_figures_and_their_ratio(tmp_path: Path) -> None:
    out = tmp_path / "sandbox_cost.json"
    sandbox_cost.main(["--n", "3", "--rounds", "1", "--out", str(out)])
    data = json.loads(out.read_text())
    ours, floor = data["ours_cpu_ms_per_instance"], data["floor_cpu_ms_per_instance"]
    assert ours > 0 and floor > 0
    assert abs(data["ours_over_floor"] - ours / floor) < 0.01  # rounded figures
