"""The chaos run's compliance-audit piece: its count decides the run's verdict, and the
report prints it with its examples."""

from __future__ import annotations

from typing import Any

import pytest

from bench.chaos import report, with_audit


def audited(violations: int) -> dict[str, Any]:
    return {
        "receipts": 376,
        "ledger_rows": 376,
        "violations": violations,
        "by_rule": {"outside_window": violations} if violations else {},
        "examples": ["chaos-00001 chaos-00001/r/t15s_sms/1 outside_window: 23:30 local"]
        if violations
        else [],
    }


def checker_result() -> dict[str, Any]:
    return {
        "accounts_started": 2,
        "accounts_inside_window": 2,
        "payments_accepted": 1,
        "faults_injected": 0,
        "provider_api_calls": 2,
        "seconds": 1.0,
        "timeline": [],
        "checked": {"accounts": 2},
        "counts": {"missed_stages": 0},
        "info": {},
        "all_zero": True,
    }


def test_a_clean_audit_keeps_the_run_all_zero(capsys: pytest.CaptureFixture[str]) -> None:
    data = with_audit(checker_result(), audited(0))
    assert data["all_zero"] is True
    report(data)
    out = capsys.readouterr().out
    assert "compliance audit: 376 receipts, 376 ledger rows, 0 violations" in out
    assert out.rstrip().endswith("ALL ZERO")


def test_an_audit_violation_fails_the_run_and_is_shown(capsys: pytest.CaptureFixture[str]) -> None:
    data = with_audit(checker_result(), audited(1))
    assert data["all_zero"] is False
    report(data)
    out = capsys.readouterr().out
    assert "1 violations {'outside_window': 1}" in out
    assert "chaos-00001/r/t15s_sms/1 outside_window" in out
    assert "FAILED" in out
    # The checker's own verdict still counts: a failed checker is not rescued by the audit.
    assert with_audit({**checker_result(), "all_zero": False}, audited(0))["all_zero"] is False
