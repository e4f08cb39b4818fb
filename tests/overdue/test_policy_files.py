"""Loading policy files: the shipped ones load, and broken ones say file, path and reason."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from overdue.policy_files import PolicyFileError, load_policy
from workflows.policy import CallQueue, Channel, NotifyKind, Policy

ROOT = Path(__file__).resolve().parents[2]

VALID = """
id: test
version: 3
stages:
  - {id: before, offset: -3d, channel: sms, template: t}
  - {id: d1, offset: 1d, channel: sms, template: t}
  - {id: d3, offset: 3d, channel: call_task, queue: specialist, priority: 7}
templates:
  t: {en: "Hi {name}, {amount} {currency} was due {due_date}. Reply STOP to opt out.",
      zh-CN: "{name}您好。回复TD退订"}
"""


def write(tmp_path: Path, text: str) -> Path:
    file = tmp_path / "policy.yaml"
    file.write_text(text, encoding="utf-8")
    return file


def problems(tmp_path: Path, text: str) -> list[tuple[str, str]]:
    file = write(tmp_path, text)
    with pytest.raises(PolicyFileError) as caught:
        load_policy(file)
    assert str(file) in str(caught.value)
    return caught.value.problems


@pytest.mark.parametrize("name", ["default.yaml", "demo.yaml"])
def test_shipped_policies_load(name: str) -> None:
    policy = load_policy(ROOT / "policies" / name)
    assert policy.stages


def test_default_policy_follows_chinese_consumer_credit_practice() -> None:
    policy = load_policy(ROOT / "policies" / "default.yaml")
    plan = [(s.offset.days, s.channel, s.queue, s.kind) for s in policy.stages]
    assert plan[0][:2] == (-3, Channel.SMS)  # a reminder before the due date
    assert (1, Channel.SMS, None, None) in plan
    assert (2, Channel.CALL_TASK, CallQueue.GENERAL, None) in plan
    assert (7, Channel.SMS, None, None) in plan
    assert (15, Channel.CALL_TASK, CallQueue.GENERAL, None) in plan
    assert (30, Channel.CALL_TASK, CallQueue.SUPERVISOR, None) in plan
    assert plan[-1] == (60, Channel.NOTIFY, None, NotifyKind.LEGAL_HANDOVER)
    assert policy.final_stage == policy.stages[-1].id
    assert policy.window_for("CN").end.hour == 22
    assert policy.window_for("US").end.hour == 21
    for texts in policy.templates.values():
        assert {"zh-CN", "en"} <= set(texts)


def test_valid_policy_parses_durations_queues_and_templates(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, VALID))
    assert [s.offset for s in policy.stages] == [
        timedelta(days=-3),
        timedelta(days=1),
        timedelta(days=3),
    ]
    by_id = {s.id: s for s in policy.stages}
    assert by_id["d3"].queue is CallQueue.SPECIALIST
    assert by_id["before"].label == "D-3 sms (before)"
    assert policy.version == 3


def test_policy_survives_the_json_round_trip_of_the_data_converter(tmp_path: Path) -> None:
    policy = load_policy(write(tmp_path, VALID))
    assert Policy.model_validate_json(policy.model_dump_json()) == policy


@pytest.mark.parametrize(
    ("text", "path", "reason"),
    [
        (VALID.replace("offset: 1d", "offset: 1"), "stages[1] (d1).offset", "with a unit"),
        (VALID.replace("offset: 1d", "offset: soon"), "stages[1] (d1).offset", "duration"),
        (VALID.replace("channel: call_task", "channel: fax"), "stages[2] (d3).channel", "'sms'"),
        (VALID.replace("queue: specialist, ", ""), "stages[2] (d3)", "needs a 'queue'"),
        (VALID.replace("offset: 3d", "offset: -5d"), "", "offset order"),
        (VALID.replace("template: t}", "template: nope}", 1), "", "unknown template 'nope'"),
        (VALID.replace("{currency}", "{balance}"), "", "unknown placeholder(s) balance"),
        (VALID.replace("version: 3", "version: 0"), "version", "greater than or equal to 1"),
        (VALID.replace("id: d1,", "id: before,"), "", "repeated: before"),
        (VALID + "colour: blue\n", "colour", "Extra inputs are not permitted"),
    ],
)
def test_invalid_policies_name_the_path_and_reason(
    tmp_path: Path, text: str, path: str, reason: str
) -> None:
    found = problems(tmp_path, text)
    assert any(p == path and reason in r for p, r in found), found


def test_yaml_syntax_error_names_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "id: x\nstages: [\n")
    assert found[0][0].startswith("line ")
    assert "not valid YAML" in found[0][1]


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(PolicyFileError, match="cannot read the file"):
        load_policy(tmp_path / "absent.yaml")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- just\n- a list\n")[0][1].startswith("expected a mapping")
