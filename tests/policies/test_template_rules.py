"""Every policy file shipped in the repository passes the template linter."""

from __future__ import annotations

from pathlib import Path

import pytest

from overdue.policy_files import load_policy, read_policy
from overdue.template_lint import lint_policy, sms_template_ids

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted(
    p.relative_to(ROOT)
    for folder in ("policies", "tests/policies", "bench/policies")
    for p in (ROOT / folder).glob("*.yaml")
)


def test_the_shipped_policies_are_found() -> None:
    assert Path("policies/default.yaml") in SHIPPED
    assert len(SHIPPED) >= 5


@pytest.mark.parametrize("name", SHIPPED, ids=str)
def test_shipped_policy_has_no_findings(name: Path) -> None:
    policy = read_policy(ROOT / name)
    assert sms_template_ids(policy), "a policy with SMS stages checks something"
    assert lint_policy(policy) == []
    load_policy(ROOT / name)  # what the API and the CLI do
