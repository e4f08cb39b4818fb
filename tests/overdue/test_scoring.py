"""Risk scoring without servers: the shipped synthetic set trains a model that finds the
planted relationship, scores explain themselves the same way every time, and bad training
input and bad `overdue score` arguments are refused with a clear message."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from overdue.scoring import synthetic
from overdue.scoring.csv_rows import read_examples, write_examples
from overdue.scoring.features import (
    FEATURES,
    BillFacts,
    HistoryFacts,
    TrainingDataError,
    account_features,
)
from overdue.scoring.model import RiskModel
from overdue.scoring.training import auc, fit
from workers.cli.main import main

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def shipped_model() -> RiskModel:
    return fit(read_examples(synthetic.SHIPPED_CSV), source="csv", outcome_days=60, now=NOW)


def test_the_shipped_set_is_the_documented_generators_output() -> None:
    out = io.StringIO()
    write_examples(out, synthetic.examples(3000, 18))
    assert synthetic.SHIPPED_CSV.read_text() == out.getvalue()


def test_the_model_trained_on_the_shipped_set_ranks_held_out_accounts(
    shipped_model: RiskModel,
) -> None:
    assert shipped_model.metrics.auc_holdout > 0.7
    # A held-out generated set the training never saw (another seed).
    assert auc(shipped_model, list(synthetic.examples(2000, seed=99))) > 0.7


def test_the_model_finds_the_planted_directions(shipped_model: RiskModel) -> None:
    weight = dict(zip(shipped_model.columns, shipped_model.coefficients, strict=True))
    for feature in ("days_past_due", "amount_log", "disputes", "calls_unanswered"):
        assert weight[feature] < 0, feature
    for feature in ("earlier_paid_share", "promises_kept_share", "calls_reached", "sms_replies"):
        assert weight[feature] > 0, feature
    low, high = shipped_model.cut_points
    assert 0 < low < high < 1


def test_the_model_is_json_and_reads_back_the_same(shipped_model: RiskModel) -> None:
    again = RiskModel.model_validate_json(shipped_model.model_dump_json())
    assert again == shipped_model
    assert shipped_model.version.startswith("risk-20261203T090000Z-")


def _model(coefficients: dict[str, float]) -> RiskModel:
    columns = [*FEATURES, "product:card"]
    return RiskModel.model_validate(
        {
            "version": "risk-test",
            "trained_at": NOW,
            "outcome_days": 60,
            "products": ["card"],
            "columns": columns,
            "means": [0.0] * len(columns),
            "scales": [1.0] * len(columns),
            "coefficients": [coefficients.get(c, 0.0) for c in columns],
            "intercept": 0.0,
            "cut_points": [0.3, 0.6],
            "metrics": {
                "source": "test",
                "rows": 0,
                "train_rows": 0,
                "holdout_rows": 0,
                "paid_share": 0.5,
                "auc_train": 0.5,
                "auc_holdout": 0.5,
            },
        }
    )


def test_reasons_name_the_features_weighing_most_with_their_direction() -> None:
    model = _model(
        {"days_past_due": -0.1, "calls_reached": 0.5, "disputes": -2.0, "sms_replies": 0.2}
    )
    history = HistoryFacts(calls_reached=3, disputes=1, sms_replies=1)
    values = account_features(history, BillFacts("card", 10_000, date(2026, 11, 23)), NOW)
    score = model.score(values, "card")
    assert values["days_past_due"] == 10
    assert [(r.feature, r.direction) for r in score.reasons] == [
        ("disputes", "lowers"),  # -2.0
        ("calls_reached", "raises"),  # +1.5
        ("days_past_due", "lowers"),  # -1.0; sms_replies (+0.2) is left out
    ]
    assert score.reasons[0].value == 1 and score.reasons[0].contribution == -2.0
    assert score.risk_segment == "high"  # logit -1.3: propensity 0.21 < 0.3
    assert model.score(values, "card") == score  # the same input, the same reasons


def test_equal_contributions_are_ordered_by_name() -> None:
    model = _model({"sms_replies": 1.0, "calls_reached": 1.0, "disputes": -1.0})
    history = HistoryFacts(calls_reached=1, disputes=1, sms_replies=1)
    values = account_features(history, BillFacts("card", 100, date(2026, 12, 3)), NOW)
    assert [r.feature for r in model.score(values, "card").reasons] == [
        "calls_reached",
        "disputes",
        "sms_replies",
    ]


def test_segments_follow_the_cut_points() -> None:
    model = _model({})
    assert [model.segment(p) for p in (0.1, 0.3, 0.59, 0.6, 0.99)] == [
        "high",
        "medium",
        "medium",
        "low",
        "low",
    ]


def test_a_model_whose_columns_do_not_match_is_refused() -> None:
    good = _model({}).model_dump()
    with pytest.raises(ValueError, match="columns"):
        RiskModel.model_validate({**good, "columns": good["columns"][:-1]})
    with pytest.raises(ValueError, match="cut points"):
        RiskModel.model_validate({**good, "cut_points": (0.7, 0.2)})


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rows.csv"
    path.write_text(text)
    return path


def test_bad_training_files_name_the_line_and_field(tmp_path: Path) -> None:
    header = ",".join([*FEATURES, "product", "paid"])
    row = ",".join(["1"] * len(FEATURES))
    with pytest.raises(TrainingDataError, match="header lacks paid"):
        read_examples(_csv(tmp_path, ",".join([*FEATURES, "product"]) + "\n"))
    with pytest.raises(TrainingDataError, match="line 3: paid must be 0 or 1"):
        read_examples(_csv(tmp_path, f"{header}\n{row},card,1\n{row},card,yes\n"))
    bad = ",".join(["x", *["1"] * (len(FEATURES) - 1)])
    with pytest.raises(TrainingDataError, match="line 2: days_past_due 'x' is not a number"):
        read_examples(_csv(tmp_path, f"{header}\n{bad},card,1\n"))
    with pytest.raises(TrainingDataError, match="cannot read"):
        read_examples(tmp_path / "missing.csv")


def test_too_few_or_one_sided_examples_are_refused() -> None:
    examples = list(synthetic.examples(30, seed=1))
    with pytest.raises(TrainingDataError, match="at least 40"):
        fit(examples, source="t", outcome_days=60, now=NOW)
    all_paid = [e.__class__(e.features, e.product, True) for e in synthetic.examples(100, 2)]
    with pytest.raises(TrainingDataError, match="0 unpaid"):
        fit(all_paid, source="t", outcome_days=60, now=NOW)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["score"], "name an action"),
        (["score", "bad id!"], "is not an account id"),
        (["score", "acct-1", "extra"], "and nothing else"),
        (["score", "generate", "--out", "x.csv", "--rows", "0"], "must be from 1 to 1000000"),
        (["score", "train", "--from-csv", "a.csv", "--synthetic", "--no-store"], "exclude"),
        (["score", "train", "--from-csv", "/nonexistent/a.csv", "--no-store"], "cannot read"),
        (["score", "train", "--bogus"], "unrecognized arguments"),
    ],
)
def test_bad_score_arguments_are_refused_clearly(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    assert message in capsys.readouterr().err


def test_train_from_csv_writes_the_model_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("OVERDUE_SCORE_MODEL_DIR", str(tmp_path))
    assert main(["score", "train", "--synthetic", "--no-store"]) == 0
    out = capsys.readouterr().out
    assert "AUC held-out: 0." in out
    (written,) = tmp_path.glob("risk-*.json")
    model = RiskModel.model_validate_json(written.read_text())
    assert model.metrics.source == "csv:training_synthetic.csv"
    assert f"AUC held-out: {model.metrics.auc_holdout:.3f}" in out


def test_generate_writes_the_requested_rows(tmp_path: Path) -> None:
    out = tmp_path / "set.csv"
    assert main(["score", "generate", "--out", str(out), "--rows", "50", "--seed", "3"]) == 0
    assert len(read_examples(out)) == 50
