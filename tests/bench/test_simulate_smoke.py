"""Keeps bench/simulate.py from rotting: a small portfolio on one process (a few seconds)."""

from __future__ import annotations

import json
from pathlib import Path

from bench import simulate


def test_the_simulate_benchmark_times_a_small_portfolio(tmp_path: Path) -> None:
    out = tmp_path / "simulate.json"
    args = ["--accounts", "80", "--days", "40", "--workers", "1", "--out", str(out)]
    assert simulate.main(args) == 0
    result = json.loads(out.read_text())
    assert result["accounts"] == 80 and result["workers"] == 1
    assert result["simulate_seconds"] > 0 and result["simulate_cpu_seconds"] > 0
    assert result["baseline_projected_seconds"] > 0 and result["ratio_to_baseline"] > 0
    assert len(result["load_average_before"]) == 3
