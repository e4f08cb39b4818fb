"""A policy's registered provider templates: validated with the policy, required at load
where SMS are routed to a provider that sends no free text."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from overdue.policy_files import PolicyFileError, load_policy
from workflows.policy import Policy
from workflows.provider_templates import registered_for

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "policies" / "default.yaml"
CODE = {"sign_name": "逾期提醒", "template_code": "SMS_1"}


def default_data() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(DEFAULT.read_text(encoding="utf-8"))
    data.pop("calendars", None)  # sources the loader expands; not what this is about
    data.pop("desk", None)  # the console's section, which the loader takes out (desk_policy)
    return data


def test_the_default_policy_maps_every_sms_text_for_alibaba() -> None:
    policy = load_policy(DEFAULT, sms_senders=["alibaba"])
    registered = registered_for(policy.provider_templates, "overdue_first_notice")
    assert registered is not None
    assert registered["alibaba"]["zh-CN"].template_code.startswith("SMS_")
    assert registered_for(policy.provider_templates, "no_such_template") is None


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ghost": {"en": CODE}}, "unknown template"),
        ({"due_soon": {"fr": CODE}}, "no 'fr' text"),
        ({"due_soon": {"en": {**CODE, "template_code": "12345"}}}, "SMS_"),
        ({"due_soon": {"en": {**CODE, "sign_name": "x"}}}, "at least 2"),
    ],
)
def test_a_mapping_that_does_not_fit_the_templates_is_refused(
    change: dict[str, Any], message: str
) -> None:
    data = default_data()
    data["provider_templates"] = {"alibaba": change}
    with pytest.raises(ValidationError, match=message):
        Policy.model_validate(data)


def test_a_text_without_its_code_is_refused_when_sms_are_routed_to_alibaba(
    tmp_path: Path,
) -> None:
    data = default_data()
    del data["provider_templates"]["alibaba"]["overdue_second_notice"]["en"]
    file = tmp_path / "policy.yaml"
    file.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_policy(file).provider_templates  # no route to Alibaba: nothing required
    with pytest.raises(PolicyFileError) as refused:
        load_policy(file, sms_senders=["twilio", "alibaba"])
    assert refused.value.problems == [
        (
            "provider_templates.alibaba.overdue_second_notice.en",
            "SMS are routed to alibaba, which sends only registered templates: give template "
            "'overdue_second_notice' (en) its sign_name and template_code",
        )
    ]
