"""The portfolio simulator: the same figures for the same seed (however the work is shared
out), the workflow's own decisions for every account's events, and the compliance rules
applied to what it did."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from datetime import timedelta

from overdue.strategy.compliance import ContactAudit
from overdue.strategy.draws import account_key
from overdue.strategy.engine import Paths, walk
from overdue.strategy.portfolio import synthetic
from overdue.strategy.report_data import summarize
from overdue.strategy.runner import check_paths, profiles, simulate
from overdue.strategy.timeline import messages
from tests.overdue.strategy.support import START, setup
from workflows.acting import new_record
from workflows.simulation import SimulatedContact, run

SOURCES = {"portfolio": "test", "behaviour_model": "default"}


def test_a_seed_gives_the_same_report_in_one_process_or_two() -> None:
    chosen = setup()
    accounts = synthetic(150, 11, START.date())
    one = summarize(simulate(chosen, accounts, workers=1), chosen, SOURCES)
    again = summarize(simulate(chosen, accounts, workers=1), chosen, SOURCES)
    two = summarize(simulate(chosen, accounts, workers=2), chosen, SOURCES)
    assert one == again == two
    assert one["accounts"] == 150
    assert sum(one["contacts"]["sms"]) > 0 and one["totals"]["accounts resolved at end"] > 0
    # Billed as the workflow is (tests/workflows/test_simulation_parity.py): a resolved
    # account's end is one local activity, its other events' audit scheduled activities.
    actions = one["temporal"]["actions"]
    resolved = one["totals"]["accounts resolved at end"]
    assert sum(actions["local_activity"]) >= resolved
    assert sum(actions["activity"]) > sum(sum(v) for v in one["contacts"].values())


def test_another_seed_draws_other_customers() -> None:
    accounts = synthetic(150, 11, START.date())
    first = summarize(simulate(setup(seed=1), accounts), setup(seed=1), SOURCES)
    second = summarize(simulate(setup(seed=2), accounts), setup(seed=2), SOURCES)
    assert first["recovered_minor"] != second["recovered_minor"]


def test_the_generator_is_reproducible() -> None:
    assert synthetic(50, 3, START.date()) == synthetic(50, 3, START.date())
    assert synthetic(50, 3, START.date()) != synthetic(50, 4, START.date())


def test_every_account_gets_what_the_workflow_loop_does_with_its_events() -> None:
    """Each walked path (resumed from a parent's record, or paid off from one) equals
    `workflows.simulation.run` from scratch on the account's own input and whole timeline."""
    chosen = setup()
    accounts = synthetic(400, 5, START.date())
    assert check_paths(chosen, accounts) == []


def test_the_walk_meets_every_kind_of_event() -> None:
    """So that the parity above covers payments, call outcomes, promises kept and broken,
    plans, opt-outs and instalment reminders."""
    chosen = setup(model=None)
    kinds: Counter[str] = Counter()
    reminded = 0
    for group in profiles(chosen, synthetic(400, 5, START.date())):
        paths = Paths(chosen.policy, chosen.model, group[0], chosen.start, chosen.until)
        for account in group:
            path = walk(paths, account_key(chosen.seed, account.account_id))
            kinds.update(f"{ev.kind}:{ev.detail}" for ev in path.timeline)
            reminded += any(c.stage_id.startswith("plan_") for c in path.contacts)
    expected = {"pay:", "outcome:no_answer", "outcome:reached", "promise:", "hardship:", "decide:"}
    assert expected <= set(kinds), kinds
    assert "opt_out:" in kinds, kinds
    assert reminded > 0


def test_the_contacts_are_workflows_simulation_s_for_the_same_events() -> None:
    """One account written out: its contacts are `workflows.simulation.simulate`'s."""
    chosen = setup()
    account = synthetic(1, 9, START.date())[0]
    paths = Paths(chosen.policy, chosen.model, account, chosen.start, chosen.until)
    path = walk(paths, account_key(chosen.seed, account.account_id))
    record = new_record(account.process_input(chosen.policy, paths.stand_in), "x", START)
    sim = run(record, messages(path.timeline, account.currency), START, chosen.until)
    assert list(path.contacts) == sim.contacts
    assert all(isinstance(c, SimulatedContact) for c in path.contacts)


def test_the_default_policy_breaks_no_contact_rule() -> None:
    chosen = setup()
    report = summarize(simulate(chosen, synthetic(300, 2, START.date())), chosen, SOURCES)
    assert report["compliance"]["contacts_checked"] > 0
    assert report["compliance"]["total_violations"] == 0


def test_the_audit_finds_a_contact_outside_the_hours() -> None:
    """The check is live: a text moved to 03:00 local breaks the contact window."""
    chosen = setup()
    account = synthetic(1, 9, START.date())[0]
    paths = Paths(chosen.policy, chosen.model, account, chosen.start, chosen.until)
    path = paths.root().path
    text = next(c for c in path.contacts if c.channel == "sms")
    local = text.at.astimezone(paths.zone)
    night = text.at - timedelta(hours=local.hour - 3, minutes=local.minute)
    moved = [
        c if c is not text else SimulatedContact(night, c.stage_id, "sms", None, None)
        for c in path.contacts
    ]
    found = ContactAudit(chosen.policy).violations(replace(path, contacts=tuple(moved)), account)
    assert found["outside_window"] == 1
