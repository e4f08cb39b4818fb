"""Keeps bench.memory from rotting: a tiny N through its three phases (the account workflow
cached, the holder of the same record, the account workflow evicted).

Structure and completion only: RSS on a shared machine is not asserted, but every phase must
have run every workflow's first task before its RSS is read (the histories say so).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import memory


# A dev server and three worker processes: real servers, so its own limit.
@pytest.mark.integration
@pytest.mark.timeout(240)
def test_memory_measures_every_phase_after_every_first_task(tmp_path: Path) -> None:
    out = tmp_path / "memory.json"
    assert (
        memory.main(["--n", "12", "--small-cache", "4", "--timeout", "120", "--out", str(out)]) == 0
    )

    data = json.loads(out.read_text())
    phases = {p["phase"]: p for p in data["phases"]}
    assert list(phases) == ["cached", "holder", "evicted"]
    for phase in phases.values():
        assert phase["start_errors"] == 0 and phase["processed"] == 12
        assert phase["idle_rss_mb"] > 0 and phase["rss_mb"] > 0
    assert phases["holder"]["max_cached_workflows"] == phases["cached"]["max_cached_workflows"]
    assert data["target_cached_over_holder"] == 1.5
    over = data["cached_over_holder_per_workflow"]  # None when a tiny N's RSS fell
    assert data["target_met"] == (over is not None and over <= 1.5)
