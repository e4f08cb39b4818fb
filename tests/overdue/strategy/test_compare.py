"""`--compare`: two policies on the same portfolio and the same customers' draws. A planted
difference (one more SMS stage on day 5, with a behaviour model in which a text changes
nothing) is exactly what the comparison shows, for processes started before their due dates."""

from __future__ import annotations

from typing import Any

from overdue.strategy.portfolio import synthetic
from overdue.strategy.report_data import compare, summarize
from overdue.strategy.report_html import render
from overdue.strategy.runner import simulate
from tests.overdue.strategy.support import START, default_policy, model_with, setup, with_day5_sms

# What one more text per account can change: texts, their segments and cost, and the
# workflow's actions for it (an activity, a timer and an upsert), their cost.
SMS_FIGURES = {
    "contacts: sms",
    "stage: d5_sms",
    "sms segments",
    "sms cost (USD)",
    "temporal actions",
    "temporal cost (USD)",
}


def compared() -> dict[str, Any]:
    # A text neither makes anyone pay sooner nor opt out: only the policy differs.
    model = model_with(channel_uplift={"sms": 0.0, "notify": 0.1, "call": 0.8}, sms_opt_out=0.0)
    # Processes that start before the due date: a late start acts only on the latest stage
    # due (docs/policies.md, catch-up), so there the new stage would replace the day-2 call.
    accounts = [a for a in synthetic(400, 21, START.date()) if a.due_date > START.date()]
    runs = []
    for policy in (default_policy(), with_day5_sms(default_policy())):
        chosen = setup(policy, model)
        runs.append(summarize(simulate(chosen, accounts), chosen, {"portfolio": "test"}))
    return compare(*runs)


def test_the_comparison_shows_exactly_the_planted_stage() -> None:
    report = compared()
    champion, challenger, diff = report["champion"], report["challenger"], report["differences"]
    assert set(diff) == SMS_FIGURES, diff
    added = diff["stage: d5_sms"]
    assert added > 0 and diff["contacts: sms"] == added
    assert challenger["contacts_by_stage"]["d5_sms"] == [
        a - b
        for a, b in zip(challenger["contacts"]["sms"], champion["contacts"]["sms"], strict=True)
    ]
    # Day by day, everything else is the same.
    for name in ("states", "buckets", "recovered_minor", "call_tasks", "agent_hours"):
        assert champion[name] == challenger[name], name
    stages = dict(challenger["contacts_by_stage"])
    del stages["d5_sms"]
    assert stages == champion["contacts_by_stage"]
    assert champion["compliance"]["total_violations"] == 0
    assert challenger["compliance"]["total_violations"] == 0


def test_the_html_report_shows_both_and_the_difference() -> None:
    report = compared()
    page = render(report)
    added = report["differences"]["stage: d5_sms"]
    assert "default v4 vs default-d5 v4" in page
    assert (
        f"<td>stage: d5_sms</td><td>0</td><td>{added:,}</td><td class='up'>+{added:,}</td>" in page
    )
    assert page.count("<svg") == 12  # six charts for each policy
    # Nothing fetched, nothing run: no script, stylesheet, image or font from elsewhere.
    for fetching in ("<script", "<link", "<img", "src=", "url(http", "@import", 'href="http'):
        assert fetching not in page
