"""Keeps bench.throughput --workers from rotting: a tiny N with 1 and 2 worker processes.

Structure and completion only: the machine is shared, so no figure's size is asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import throughput


# Two stacks (dev server, embedded Postgres) and six worker processes: real servers. About
# 40 s on a loaded 2-core machine, so its own limit, well above the suite's 60 s per test.
@pytest.mark.integration
@pytest.mark.timeout(240)
def test_throughput_runs_with_one_and_two_worker_processes(tmp_path: Path) -> None:
    out = tmp_path / "throughput.json"
    args = ["--n", "4", "--workers", "1,2", "--timeout", "90", "--out", str(out)]
    assert throughput.main(args) == 0

    data = json.loads(out.read_text())
    assert data["workers"] == [1, 2] and len(data["machine"]["load_average_1_5_15"]) == 3
    for run, processes in zip(data["runs"], [1, 2], strict=True):
        assert run["processes"] == processes
        for phase in ("ceiling", "ours"):
            figures = run[phase]
            assert figures["worker_processes"] == processes
            assert len(figures["worker_cpu_seconds_per_process"]) == processes
            assert figures["start_errors"] == 0 and figures["first_contacts"] == 4
            assert figures["completion_rate"] == 1.0
        assert run["ours"]["ledger_statuses"] == {"sent": 4}
        assert set(run["ours_over_ceiling"]) >= {"contacts_per_second", "latency_p99_s"}
    assert set(data["scaling"]) == {"1", "2"}
    assert data["scaling"]["1"]["ours"]["contacts_per_second"] == 1.0


@pytest.mark.parametrize("text", ["0", "1,1", "a", "", "17"])
def test_worker_counts_reject_what_is_no_list_of_process_counts(text: str) -> None:
    with pytest.raises(SystemExit):
        throughput.main(["--workers", text])
