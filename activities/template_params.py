"""The variables of a registered template, recovered from the body the ledger keeps.

A provider that sends no free text (Alibaba Cloud SMS) takes a template code and the values of
its variables. The body was rendered once, when the ledger row was written, with the name read
then; a retry must send exactly that message, even if the customer's name changed since. So the
values are not read again: the placeholders the input fixes (amount, currency, due date, days
past due) are known, and the name is what the body holds where the text has `{name}`.
"""

from __future__ import annotations

import re
import string

from activities.sms_types import TemplateMessage
from activities.templates import itemized_values
from workflows.contact_types import SendSmsInput
from workflows.currencies import format_minor


def template_messages(input: SendSmsInput, body: str) -> dict[str, TemplateMessage]:
    """provider -> the body as that provider's registered template, for each provider the
    policy mapped the template's rendered locale for (empty when none is mapped)."""
    if not input.registered:
        return {}
    rendered = rendered_params(input, body)
    if rendered is None:
        return {}
    locale, params = rendered
    messages: dict[str, TemplateMessage] = {}
    for provider, by_locale in input.registered.items():
        registered = by_locale.get(locale)
        if registered is not None:
            messages[provider] = TemplateMessage(
                sign_name=registered.sign_name,
                template_code=registered.template_code,
                params=params,
            )
    return messages


def rendered_params(input: SendSmsInput, body: str) -> tuple[str, dict[str, str]] | None:
    """The locale whose text `body` was rendered from, and the values of that text's
    placeholders; None when no text of the template renders to `body`."""
    known = {
        "amount": format_minor(input.amount_minor, input.currency),
        "currency": input.currency,
        "due_date": input.due_date.isoformat(),
        "days_past_due": str(input.days_past_due),
        **itemized_values(input.itemization, input.currency),
    }
    for locale, text in input.templates.items():
        params = _match(text, body, known)
        if params is not None:
            return locale, params
    return None


def _match(text: str, body: str, known: dict[str, str]) -> dict[str, str] | None:
    pattern: list[str] = []
    fields: list[str] = []
    for literal, field_name, spec, conversion in string.Formatter().parse(text):
        pattern.append(re.escape(literal))
        if field_name is None:
            continue
        if field_name == "name":
            pattern.append("(?P=name)" if "name" in fields else "(?P<name>.*?)")
        elif field_name == "link":  # minted at render time: read back from the body
            pattern.append("(?P=link)" if "link" in fields else r"(?P<link>\S+)")
        elif field_name in known and not spec and not conversion:
            pattern.append(re.escape(known[field_name]))
        else:
            return None  # the policy refuses other placeholders; formats are not registrable
        fields.append(field_name)
    found = re.fullmatch("".join(pattern), body, re.DOTALL)
    if found is None:
        return None
    values = {**known, **found.groupdict()}
    return {name: values[name] for name in dict.fromkeys(fields)}
