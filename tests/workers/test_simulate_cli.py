"""`overdue simulate` on the command line: a bulk-start CSV or the generator in, JSON and HTML
out, the same bytes for the same seed; bad input (a row the API would refuse, a behaviour model
or policy that is not valid) refused with a clear reason and nothing written."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.overdue.strategy.support import DEFAULT_MODEL, ROOT
from workers.cli.main import build_parser
from workers.cli.simulate_command import simulate_command

START = "2026-12-01T00:00:00+00:00"
HEADER = "account_id,name,phone,time_zone,product,amount_minor,currency,due_date,risk_segment\n"
GOOD_ROWS = (
    "a1,Wang Wei,+8613800138000,Asia/Shanghai,credit_card,150000,CNY,2026-12-04,high\n"
    "a2,Li Na,+8613800138001,Asia/Shanghai,consumer_loan,80000,CNY,2026-11-28,low\n"
    "a3,Ann Lee,+12025550123,America/New_York,credit_card,120000,USD,2026-12-05,\n"
)


def simulate(tmp_path: Path, *args: str) -> tuple[int, str, str, Path]:
    out_dir = tmp_path / "out"
    parsed = build_parser().parse_args(
        ["simulate", "--start", START, "--out", str(out_dir), "--workers", "1", *args]
    )
    out, err = io.StringIO(), io.StringIO()
    code = simulate_command(parsed, out, err)
    return code, out.getvalue(), err.getvalue(), out_dir


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_portfolio_csv_is_simulated_into_json_and_html(tmp_path: Path) -> None:
    portfolio = write(tmp_path, "accounts.csv", HEADER + GOOD_ROWS)
    code, out, err, out_dir = simulate(
        tmp_path, "--portfolio", str(portfolio), "--days", "60", "--daily"
    )
    assert code == 0, err
    report = json.loads((out_dir / "report.json").read_text())
    assert report["accounts"] == 3
    assert len(report["days"]) == 60
    assert report["compliance"]["total_violations"] == 0
    assert set(report["recovered_minor"]) <= {"CNY", "USD"}
    page = (out_dir / "report.html").read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page
    assert "compliance violations" in out and "report.html" in out
    assert "2026-12-01" in out and "2027-01-29" in out  # --daily: the first and last days


def test_the_same_seed_writes_the_same_bytes(tmp_path: Path) -> None:
    runs = []
    for n in (1, 2):
        code, _, err, out_dir = simulate(
            tmp_path / str(n), "--synthetic", "60", "--seed", "4", "--days", "45"
        )
        assert code == 0, err
        runs.append(
            ((out_dir / "report.json").read_bytes(), (out_dir / "report.html").read_bytes())
        )
    assert runs[0] == runs[1]


def test_a_row_the_api_would_refuse_refuses_the_file(tmp_path: Path) -> None:
    bad = GOOD_ROWS.replace(
        "a2,Li Na,+8613800138001,Asia/Shanghai,consumer_loan,80000,",
        "a2,Li Na,+8613800138001,Asia/Shanghai,consumer_loan,1e5,",
    )
    portfolio = write(
        tmp_path,
        "accounts.csv",
        HEADER + bad + "a4,X,+8613800138002,Mars/Base,p,100,CNY,2026-12-04,\n",
    )
    code, out, err, out_dir = simulate(tmp_path, "--portfolio", str(portfolio))
    assert code == 2
    assert "2 row(s) the API would refuse; nothing simulated" in err
    assert "line 3 (account a2): amount_minor" in err
    assert "line 5 (account a4): time_zone" in err
    assert "Li Na" not in err and "+8613800138001" not in err  # no personal data in reasons
    assert not out_dir.exists() and out == ""


def test_a_csv_without_its_columns_is_refused(tmp_path: Path) -> None:
    portfolio = write(tmp_path, "accounts.csv", "account_id,amount_minor\na1,100\n")
    code, _, err, out_dir = simulate(tmp_path, "--portfolio", str(portfolio))
    assert code == 2 and "lacks the column(s) name, phone, time_zone" in err
    assert not out_dir.exists()


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("segments: {low: {}}\n", "a 'default' segment is required"),
        (
            "segments: {default: {cure: [[0, 1.5]], right_party_contact: 0.5, promise: 0.3,"
            " hardship: 0.1, promise_keeping: 0.5, plan_keeping: 0.5}}\n",
            "segments.default.cure: Value error, a daily payment hazard is a probability",
        ),
        ("segments: {default: {cure: [[0, 0.1]]}}\n", "segments.default.right_party_contact"),
        ("channel_uplift: {fax: 1}\nsegments: {default: {}}\n", "unknown channel(s) fax"),
        ("- not a mapping\n", "a behaviour model is a mapping"),
        ("segments: [unclosed\n", "not valid YAML"),
    ],
)
def test_a_behaviour_model_that_is_not_valid_is_refused(
    tmp_path: Path, text: str, reason: str
) -> None:
    model = write(tmp_path, "model.yaml", text)
    code, _, err, out_dir = simulate(tmp_path, "--synthetic", "5", "--behaviour", str(model))
    assert code == 2
    assert f"overdue simulate: {model}" in err and reason in err, err
    assert not out_dir.exists()


def test_a_policy_that_is_not_valid_is_refused(tmp_path: Path) -> None:
    policy = write(tmp_path, "policy.yaml", "id: x\nversion: 0\nstages: []\n")
    code, _, err, out_dir = simulate(tmp_path, "--synthetic", "5", "--compare", str(policy))
    assert code == 2 and str(policy) in err
    assert not out_dir.exists()


def test_the_shipped_model_is_the_default(tmp_path: Path) -> None:
    parsed = build_parser().parse_args(["simulate", "--synthetic", "3"])
    assert (ROOT / parsed.behaviour).resolve() == DEFAULT_MODEL.resolve()
    with pytest.raises(SystemExit):
        build_parser().parse_args(["simulate", "--synthetic", "0"])
