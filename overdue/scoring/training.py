"""Fitting the risk model with scikit-learn: a logistic regression on standardized features,
checked on held-out rows (ROC AUC), written out as a `RiskModel` (JSON, not a pickle).

Only `overdue score train` imports this module: scoring reads the JSON and needs no
scikit-learn.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import train_test_split

from overdue.scoring.features import Example, TrainingDataError, column_names, vector
from overdue.scoring.model import RiskModel, TrainingMetrics

MIN_ROWS = 40  # fewer closed bills than this say nothing a model could learn
MIN_EACH_CLASS = 10
HOLDOUT_SHARE = 0.25


def fit(
    examples: list[Example], *, source: str, outcome_days: int, now: datetime, seed: int = 7
) -> RiskModel:
    """Fit on 75% of `examples` (stratified), measure AUC on the other 25%, and return the
    model with its cut points at the training propensities' terciles."""
    paid = sum(e.paid for e in examples)
    if len(examples) < MIN_ROWS:
        raise TrainingDataError(f"{len(examples)} closed bills; at least {MIN_ROWS} are needed")
    if min(paid, len(examples) - paid) < MIN_EACH_CLASS:
        raise TrainingDataError(
            f"{paid} paid and {len(examples) - paid} unpaid bills; at least {MIN_EACH_CLASS} "
            "of each are needed"
        )
    products = tuple(sorted({e.product for e in examples}))
    x = np.array([vector(e.features, e.product, products) for e in examples], dtype=float)
    y = np.array([int(e.paid) for e in examples])
    x_train, x_hold, y_train, y_hold = train_test_split(
        x, y, test_size=HOLDOUT_SHARE, random_state=seed, stratify=y
    )
    means = x_train.mean(axis=0)
    scales = x_train.std(axis=0)
    scales[scales < 1e-9] = 1.0  # a constant column (up to rounding): its coefficient stays 0
    regression = LogisticRegression(C=1.0, max_iter=2000)
    regression.fit((x_train - means) / scales, y_train)
    p_train = regression.predict_proba((x_train - means) / scales)[:, 1]
    p_hold = regression.predict_proba((x_hold - means) / scales)[:, 1]
    low, high = np.quantile(p_train, [1 / 3, 2 / 3])
    metrics = TrainingMetrics(
        source=source,
        rows=len(examples),
        train_rows=len(y_train),
        holdout_rows=len(y_hold),
        paid_share=round(float(y.mean()), 6),
        auc_train=round(float(roc_auc_score(y_train, p_train)), 6),
        auc_holdout=round(float(roc_auc_score(y_hold, p_hold)), 6),
    )
    body = {
        "trained_at": now.isoformat(),
        "outcome_days": outcome_days,
        "products": products,
        "columns": tuple(column_names(products)),
        "means": tuple(round(float(v), 9) for v in means),
        "scales": tuple(round(float(v), 9) for v in scales),
        "coefficients": tuple(round(float(v), 9) for v in regression.coef_[0]),
        "intercept": round(float(regression.intercept_[0]), 9),
        "cut_points": (round(float(low), 6), round(float(high), 6)),
        "metrics": metrics.model_dump(),
    }
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()
    version = f"risk-{now:%Y%m%dT%H%M%SZ}-{digest[:8]}"
    return RiskModel.model_validate({**body, "version": version})


def auc(model: RiskModel, examples: list[Example]) -> float:
    """The model's ROC AUC on other examples (e.g. a freshly generated set)."""
    predicted = [model.score(e.features, e.product).propensity for e in examples]
    return float(roc_auc_score([int(e.paid) for e in examples], predicted))
