"""Risk scoring (issue 18, docs/strategy.md#risk-scoring): the features, the model as JSON, its
training (scikit-learn, `training` only) and the synthetic training set."""
