"""`overdue policy check FILE`: what the template linter finds in a policy's SMS texts.

Every SMS text in a table (its cost in segments with worst-case placeholder values, and how
many rules it breaks), then each finding as `path: reason`, the same lines that loading the
policy refuses it with.
"""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.table import Table
from rich.text import Text

from overdue.template_lint import Finding, sms_template_ids, worst_case_cost
from workflows.policy import Policy


def render(file: str, policy: Policy, findings: list[Finding]) -> RenderableType:
    """The table of SMS texts, the findings, and a closing verdict."""
    texts = Table(box=None, pad_edge=False, padding=(0, 2, 0, 0))
    texts.add_column("TEMPLATE")
    texts.add_column("LOCALE")
    texts.add_column("SEGMENTS", justify="right")
    texts.add_column("ENCODING")
    texts.add_column("FINDINGS", justify="right")
    checked = 0
    for template_id in sms_template_ids(policy):
        for locale, text in policy.templates.get(template_id, {}).items():
            checked += 1
            cost = worst_case_cost(locale, text)
            path = f"templates.{template_id}.{locale}"
            found = sum(1 for f in findings if f.path == path)
            texts.add_row(
                Text(template_id),
                Text(locale),
                f"{cost.segments if cost else '?'}/{policy.sms_segment_budget}",
                cost.encoding if cost else "-",
                Text(str(found), style="red bold" if found else "green"),
            )
    lines: list[RenderableType] = [texts, Text("")]
    for finding in findings:
        lines.append(Text.assemble((finding.path, "bold"), ": ", finding.reason))
    plural = "" if checked == 1 else "s"
    if findings:
        verdict = Text(
            f"{file}: {len(findings)} finding{'' if len(findings) == 1 else 's'} in "
            f"{checked} SMS text{plural}; loading this policy refuses it",
            style="red",
        )
    else:
        verdict = Text(f"{file}: {checked} SMS text{plural} checked, no findings", style="green")
    lines.append(verdict)
    return Group(*lines)
