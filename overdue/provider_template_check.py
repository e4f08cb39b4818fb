"""Where SMS are routed to a provider that sends no free text, every SMS text needs its
registered template (workflows.provider_templates).

Checked when a policy file is loaded with the deployment's routes (`OVERDUE_SMS_ROUTES`): a
policy whose CN messages would have no Alibaba sign name and template code is refused at the
API's start, not discovered as refused messages later. Each text of each SMS template (every
locale: a CN customer can read English) must be mapped.
"""

from __future__ import annotations

from collections.abc import Collection

from overdue.template_lint import sms_template_ids
from workflows.policy import Policy
from workflows.provider_templates import TemplateProvider


def unregistered(policy: Policy, routed: Collection[str]) -> list[tuple[str, str]]:
    """(path, reason) for each SMS text a routed template-only sender (Alibaba) has no
    registered template for."""
    if "alibaba" not in routed:
        return []
    sender: TemplateProvider = "alibaba"
    problems: list[tuple[str, str]] = []
    mapping = policy.provider_templates.get(sender, {})
    for template_id in sms_template_ids(policy):
        for locale in policy.templates.get(template_id, {}):
            if locale not in mapping.get(template_id, {}):
                problems.append(
                    (
                        f"provider_templates.{sender}.{template_id}.{locale}",
                        f"SMS are routed to {sender}, which sends only registered "
                        f"templates: give template {template_id!r} ({locale}) its "
                        "sign_name and template_code",
                    )
                )
    return problems
